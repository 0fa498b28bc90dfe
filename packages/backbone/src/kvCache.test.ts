import { at, CpuTensor, type NamedTensors } from '@bigr/core';
import { resolveBackboneConfig } from './config.js';
import { BackboneFeatureModel } from './featureModel.js';
import { KvCacheFeatureModel } from './kvCache.js';
import { engineNamed, randomBackboneParams, randomBits, rngFor } from './test/helpers.js';
import { maxAbsDiff } from '@bigr/testing';

const N = 16;
const K = 6;
const D = 32;
const config = resolveBackboneConfig({ dim: D, layers: 2, heads: 2, bitsPerToken: K, tokens: N, numClasses: 4, multipleOf: 32, attention: 'causal' });
const B = 2;

describe.each(['onnx-cpu', 'tfjs-wasm'])('causal backbone on %s', (engineName) => {
  let params: NamedTensors;
  let full: BackboneFeatureModel;
  let cached: KvCacheFeatureModel;
  const rng = rngFor(`causal-${engineName}`);
  const bits = new CpuTensor<'float32'>(randomBits(B * N * K, rng), [B, N, K]);
  const noMask = new CpuTensor<'uint8'>(new Uint8Array(B * N), [B, N]);
  const labels = Int32Array.from([3, 1]);

  beforeAll(async () => {
    params = randomBackboneParams(config, rngFor('causal-weights'));
    const engine = await engineNamed(engineName);
    full = new BackboneFeatureModel(engine, config, params);
    cached = new KvCacheFeatureModel(engine, config, params);
  });
  afterAll(async () => {
    await full.dispose();
    await cached.dispose();
  });

  it('causal mask: changing token j leaves the features of tokens 0…j unchanged (they are predicted from tokens < n) and changes later ones', async () => {
    const a = await full.features(bits, noMask, { kind: 'class', labels }, false);
    const j = 9;
    const changed = Float32Array.from(bits.data);
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) changed[(b * N + j) * K + k] = 1 - at(changed, (b * N + j) * K + k, 'bit');
    const c = await full.features(new CpuTensor<'float32'>(changed, [B, N, K]), noMask, { kind: 'class', labels }, false);
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        const diff = maxAbsDiff(a.data.subarray((b * N + n) * D, (b * N + n + 1) * D), c.data.subarray((b * N + n) * D, (b * N + n + 1) * D));
        if (n <= j) expect(diff).toBe(0);
        else expect(diff).toBeGreaterThan(1e-4);
      }
    }
    // Masking a token (mask-token substitution) never changes the features of the tokens up to it either.
    const mask = new Uint8Array(B * N);
    for (let b = 0; b < B; b++) for (let n = j; n < N; n++) mask[b * N + n] = 1;
    const m = await full.features(bits, new CpuTensor<'uint8'>(mask, [B, N]), { kind: 'class', labels }, false);
    expect(maxAbsDiff(a.data.subarray(0, (j + 1) * D), m.data.subarray(0, (j + 1) * D))).toBe(0);
  });

  it('the KV cache gives the features of the full causal forward pass, token by token, with and without the null half', async () => {
    for (const withNull of [false, true]) {
      const ref = await full.features(bits, noMask, { kind: 'class', labels }, withNull);
      const rows = withNull ? 2 * B : B;
      let state = await cached.start({ kind: 'class', labels }, withNull);
      for (let n = 0; n < N; n++) {
        expect(state.position).toBe(n);
        expect(state.features.shape).toEqual([rows, D]);
        for (let r = 0; r < rows; r++) {
          const want = ref.data.subarray((r * N + n) * D, (r * N + n + 1) * D);
          expect(maxAbsDiff(state.features.data.subarray(r * D, (r + 1) * D), want)).toBeLessThan(2e-5);
        }
        if (n + 1 < N) {
          const tok = new Float32Array(B * K);
          for (let b = 0; b < B; b++) tok.set(bits.data.subarray((b * N + n) * K, (b * N + n + 1) * K), b * K);
          state = await state.advance(new CpuTensor<'float32'>(tok, [B, K]));
        }
      }
      await expect(state.advance(new CpuTensor<'float32'>(new Float32Array(B * K), [B, K]))).rejects.toThrow(/already generated/);
    }
  });
});
