import { at, createRng, CpuTensor, dims2, dims3, guidedLogit, required } from '@bigr/core';
import type { BitHeadSampler, BitSamplingOptions, Condition, TokenFeatureModel } from '@bigr/core';
import { createBigrPredictor } from './bigrPredictor.js';
import { classCondition, unconditional } from './conditions.js';

const N = 6;
const K = 3;
const D = 4;
const NULL = 10;

function label(c: Condition, b: number): number {
  if (c.kind !== 'class') throw new Error('stub supports class conditions');
  return at(c.labels, b, 'label');
}

/** Features: F[b, n, d] = sin(label·7 + n·3 + d + Σ bits of the unmasked tokens of b). */
function stubBackbone() {
  const calls: { batch: number; withNull: boolean }[] = [];
  const model: TokenFeatureModel = {
    tokens: N,
    bitsPerToken: K,
    featureDim: D,
    nullClass: NULL,
    async features(bits, mask, condition, withNull) {
      const [B] = dims3(bits.shape, 'bits');
      calls.push({ batch: B, withNull });
      const rows = withNull ? 2 * B : B;
      const out = new Float32Array(rows * N * D);
      for (let r = 0; r < rows; r++) {
        const b = r % B;
        const y = r < B ? label(condition, b) : NULL;
        let s = 0;
        for (let n = 0; n < N; n++) if (!mask.data[b * N + n]) for (let k = 0; k < K; k++) s += at(bits.data, (b * N + n) * K + k, 'bit');
        for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) out[(r * N + n) * D + d] = Math.sin(y * 7 + n * 3 + d + s);
      }
      return new CpuTensor<'float32'>(out, [rows, N, D]);
    },
  };
  return { model, calls };
}

/** Head: logit_k = Σ_d F[d]·(k + 1 − d) / τ, guided in float32; records its calls. */
function stubHead() {
  const calls: { rows: number; uncond: boolean; options: BitSamplingOptions }[] = [];
  const logit = (f: Float32Array, r: number, k: number): number => {
    let s = 0;
    for (let d = 0; d < D; d++) s += at(f, r * D + d, 'feature') * (k + 1 - d);
    return Math.fround(s);
  };
  const head: BitHeadSampler = {
    bitsPerToken: K,
    async sampleProbabilities(cond, uncond, options) {
      const [R] = dims2(cond.shape, 'head rows');
      calls.push({ rows: R, uncond: uncond !== null, options });
      const out = new Float32Array(R * K);
      for (let r = 0; r < R; r++)
        for (let k = 0; k < K; k++) {
          const lc = logit(cond.data, r, k);
          const l = uncond ? guidedLogit(lc, logit(uncond.data, r, k), options.cfgScale) : Math.fround(lc);
          out[r * K + k] = Math.fround(1 / (1 + Math.exp(-l)));
        }
      return new CpuTensor<'float32'>(out, [R, K]);
    },
  };
  return { head, calls };
}

function request(condition: Condition, cfgScale: number, needed?: Int32Array[]) {
  const B = condition.kind === 'class' ? condition.labels.length : 0;
  const bits = new CpuTensor<'float32'>(
    Float32Array.from({ length: B * N * K }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0)),
    [B, N, K],
  );
  const mask = new CpuTensor<'uint8'>(
    Uint8Array.from({ length: B * N }, (_, i) => (i % 2 === 0 ? 1 : 0)),
    [B, N],
  );
  return { bits, mask, condition, cfgScale, rng: createRng(1), ...(needed ? { needed } : {}) };
}

describe('createBigrPredictor', () => {
  it('runs the backbone once on [cond; uncond] and the transcoder only on the needed rows', async () => {
    const bb = stubBackbone();
    const hd = stubHead();
    const predictor = createBigrPredictor(bb.model, hd.head, { steps: 20, temperature: 1 });
    const cond = classCondition([3, 7]);
    const full = await predictor.predict(request(cond, 2.5));
    const part = await predictor.predict(request(cond, 2.5, [Int32Array.of(1, 4), Int32Array.of(0)]));
    // the second call has the same state: the backbone features are reused
    expect(bb.calls).toEqual([{ batch: 2, withNull: true }]);
    expect(hd.calls.map((c) => [c.rows, c.uncond])).toEqual([
      [12, true],
      [3, true],
    ]);
    const second = at(hd.calls, 1, 'second head call');
    expect(second.options.steps).toBe(20);
    expect(second.options.temperature).toBe(1);
    expect(second.options.cfgScale).toBe(2.5);
    const needed = new Set(['0,1', '0,4', '1,0']);
    for (let b = 0; b < 2; b++)
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          const i = (b * N + n) * K + k;
          expect(part.data[i]).toBe(needed.has(`${b},${n}`) ? full.data[i] : 0.5);
        }
  });

  it('re-runs the backbone when the state or condition changes', async () => {
    const bb = stubBackbone();
    const predictor = createBigrPredictor(bb.model, stubHead().head);
    const cond = classCondition([3]);
    const r1 = request(cond, 2.5, [Int32Array.of(1)]);
    await predictor.predict(r1);
    await predictor.predict({ ...r1, needed: [Int32Array.of(3)] });
    expect(bb.calls).toHaveLength(1);
    const bits = r1.bits.data.slice();
    bits[0] = 1 - at(bits, 0, 'bit');
    await predictor.predict({ ...r1, bits: new CpuTensor<'float32'>(bits, r1.bits.shape) });
    expect(bb.calls).toHaveLength(2);
    await predictor.predict({ ...r1, bits: new CpuTensor<'float32'>(bits, r1.bits.shape), condition: classCondition([3]) });
    expect(bb.calls).toHaveLength(3); // a new condition object
  });

  it('matches a hand-written guided prediction for a needed token', async () => {
    const bb = stubBackbone();
    const predictor = createBigrPredictor(bb.model, stubHead().head);
    const req = request(classCondition([3]), 3, [Int32Array.of(2)]);
    const p = await predictor.predict(req);
    // token 2 of sample 0, bit 1: features of label 3 and of the null class, s = Σ unmasked bits
    let s = 0;
    for (let n = 0; n < N; n++) if (!req.mask.data[n]) for (let k = 0; k < K; k++) s += at(req.bits.data, n * K + k, 'bit');
    const f = (y: number, d: number) => Math.fround(Math.sin(y * 7 + 2 * 3 + d + s));
    const lg = (y: number) => Math.fround([0, 1, 2, 3].reduce((acc, d) => acc + f(y, d) * (2 - d), 0));
    const l = Math.fround(lg(NULL) + Math.fround(3 * Math.fround(lg(3) - lg(NULL))));
    expect(p.data[2 * K + 1]).toBeCloseTo(1 / (1 + Math.exp(-l)), 6);
  });

  it('skips the null half when guidance cannot matter, with identical probabilities', async () => {
    const bb = stubBackbone();
    const hd = stubHead();
    const predictor = createBigrPredictor(bb.model, hd.head);
    const uncond = unconditional(2, NULL);
    const skipped = await predictor.predict(request(uncond, 2.5));
    expect(bb.calls.at(-1)).toEqual({ batch: 2, withNull: false });
    const last = required(hd.calls.at(-1), 'last head call');
    expect(last.uncond).toBe(false);
    expect(last.options.cfgScale).toBe(1); // the head runs unguided
    // what the released code computes: both halves with the null class, guided
    const both: BitHeadSampler = { bitsPerToken: K, sampleProbabilities: (c, _u, o) => hd.head.sampleProbabilities(c, c, o) };
    const reference = await createBigrPredictor(bb.model, both).predict(request(uncond, 2.5));
    expect(Array.from(skipped.data)).toEqual(Array.from(reference.data));
    // cfg scale 1: no null half either
    await predictor.predict(request(classCondition([3, 4]), 1));
    expect(bb.calls.at(-1)).toEqual({ batch: 2, withNull: false });
  });

  it('runs nothing when no token is needed', async () => {
    const bb = stubBackbone();
    const hd = stubHead();
    const p = await createBigrPredictor(bb.model, hd.head).predict(request(classCondition([3]), 2.5, [new Int32Array(0)]));
    expect(bb.calls).toHaveLength(0);
    expect(hd.calls).toHaveLength(0);
    expect(Array.from(p.data).every((v) => v === 0.5)).toBe(true);
  });

  it('rejects mismatched models', () => {
    const head: BitHeadSampler = { bitsPerToken: K + 1, sampleProbabilities: async () => new CpuTensor<'float32'>(new Float32Array(0), [0, K + 1]) };
    expect(() => createBigrPredictor(stubBackbone().model, head)).toThrow(/bits per token/);
  });
});
