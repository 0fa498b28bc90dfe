import { at, CpuTensor, createRng, required } from '@bigr/core';
import type { Engine, NamedTensors } from '@bigr/core';
import { TranscoderSampler } from './transcoderSampler.js';
import type { TranscoderStepTrace } from './transcoderSampler.js';
import { inferDenoiserSizes, initTranscoderParameters, selectTranscoderParameters } from './weights.js';
import type { DenoiserSizes } from './denoiser.js';
import { loadFixture } from './test/fixtures.js';
import type { Fixture } from './test/fixtures.js';
import { ChunkReplayRng } from './test/chunkReplayRng.js';
import { maxAbsDiff, onnxEngine, tfjsWasmEngine } from './test/engines.js';

const R = 8;
const K = 16;

async function fixtureModel(): Promise<{ sizes: DenoiserSizes; params: NamedTensors }> {
  const w = await loadFixture('tiny_transformer_weights.safetensors');
  const sizes = inferDenoiserSizes(w.tensors);
  return { sizes, params: selectTranscoderParameters(w.tensors as Map<string, CpuTensor>, sizes) };
}

function slice(fx: Fixture, name: string, s: number): Float32Array {
  return fx.f32(name).subarray(s * R * K, (s + 1) * R * K);
}

async function replay(engine: Engine, run: 'A' | 'B'): Promise<void> {
  const fx = await loadFixture('diffusion_trace.safetensors');
  const { sizes, params } = await fixtureModel();
  const sampler = await TranscoderSampler.create(engine, params, { ...sizes, timesteps: 256 });
  try {
    const tList = fx.i32(`${run}_t`);
    const S = tList.length;
    const cond = fx.f32(`${run}_cond`);
    const chunks = Array.from({ length: S }, (_, s) => slice(fx, `${run}_u`, s));
    const rng = new ChunkReplayRng(chunks);
    const steps: TranscoderStepTrace[] = [];
    const result = await sampler.sample(new CpuTensor(cond.slice(0, R * 64), [R, 64]), new CpuTensor(cond.slice(R * 64), [R, 64]), {
      cfgScale: at(fx.f32(`${run}_cfg`), 0, 'CFG scale'),
      temperature: at(fx.f32(`${run}_temp`), 0, 'temperature'),
      steps: S,
      rng,
      onStep: (st) => steps.push(st),
    });
    expect(rng.consumed).toBe(S);
    expect(steps.map((s) => s.t)).toEqual(Array.from(tList));
    expect(steps.map((s) => s.tPrev)).toEqual(Array.from(fx.i32(`${run}_t_prev`)));
    let errLogits = 0;
    let errP = 0;
    let errPost = 0;
    expect(steps).toHaveLength(S);
    for (const [s, step] of steps.entries()) {
      // The state is followed freely (not reset from the trace), so bits must match exactly at every step.
      expect(Array.from(step.x)).toEqual(Array.from(slice(fx, `${run}_x_t`, s)));
      errLogits = Math.max(errLogits, maxAbsDiff(step.logitsCond, slice(fx, `${run}_logits_cond`, s)));
      errLogits = Math.max(errLogits, maxAbsDiff(required(step.logitsUncond, 'unconditional logits of a guided step'), slice(fx, `${run}_logits_uncond`, s)));
      errP = Math.max(errP, maxAbsDiff(step.pX0, slice(fx, `${run}_p_x0`, s)));
      if (s < S - 1) errPost = Math.max(errPost, maxAbsDiff(required(step.posterior, 'posterior of a step before the last'), slice(fx, `${run}_posterior`, s)));
    }
    expect(errLogits).toBeLessThanOrEqual(1e-5);
    expect(errP).toBeLessThanOrEqual(1e-5);
    expect(errPost).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(result.probabilities.data, fx.f32(`${run}_returned`))).toBeLessThanOrEqual(1e-5);
    const returned = fx.f32(`${run}_returned`);
    expect(Array.from(result.bits.data)).toEqual(Array.from(returned, (p) => (p > 0.5 ? 1 : 0)));
  } finally {
    await sampler.dispose();
  }
}

describe('TranscoderSampler', () => {
  it.each(['A', 'B'] as const)('replays diffusion trace %s step by step on onnxruntime', async (run) => {
    await replay(await onnxEngine(), run);
  });

  it.each(['A', 'B'] as const)('replays diffusion trace %s step by step on tfjs-wasm', async (run) => {
    await replay(await tfjsWasmEngine(), run);
  });

  it('is deterministic given the seed, and matches across engines', async () => {
    const sizes = { bitsPerToken: 16, featureDim: 64, width: 64, blocks: 2, prefix: 'denoise_mlp' };
    const { params } = await fixtureModel();
    const rng = createRng('sampler-det');
    const cond = new CpuTensor<'float32'>(rng.normalsF32(12 * 64), [12, 64]);
    const uncond = new CpuTensor<'float32'>(rng.normalsF32(12 * 64), [12, 64]);
    const onnx = await TranscoderSampler.create(await onnxEngine(), params, sizes);
    const tfjs = await TranscoderSampler.create(await tfjsWasmEngine(), params, sizes);
    try {
      const a = await onnx.sample(cond, uncond, { cfgScale: 3, steps: 20, rng: createRng(7) });
      const b = await onnx.sample(cond, uncond, { cfgScale: 3, steps: 20, rng: createRng(7) });
      const c = await tfjs.sample(cond, uncond, { cfgScale: 3, steps: 20, rng: createRng(7) });
      expect(Array.from(a.bits.data)).toEqual(Array.from(b.bits.data));
      expect(Array.from(a.probabilities.data)).toEqual(Array.from(b.probabilities.data));
      expect(maxAbsDiff(a.probabilities.data, c.probabilities.data)).toBeLessThan(1e-4);
      const p = await onnx.sampleProbabilities(cond, null, { cfgScale: 1, steps: 5, rng: createRng(1) });
      expect(p.shape).toEqual([12, 16]);
      await expect(onnx.sample(cond, null, { cfgScale: 2, rng: createRng(1) })).rejects.toThrow(/unconditional features/);
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  });

  it('zero-initialised transcoder predicts p = 0.5 everywhere', async () => {
    const sizes = { bitsPerToken: 8, featureDim: 16, width: 32, blocks: 2, prefix: 'denoise_mlp' };
    const params = initTranscoderParameters(sizes, createRng(3));
    const sampler = await TranscoderSampler.create(await onnxEngine(), params, sizes);
    try {
      const cond = new CpuTensor<'float32'>(createRng(4).normalsF32(5 * 16), [5, 16]);
      const r = await sampler.sample(cond, cond, { cfgScale: 2.5, steps: 4, rng: createRng(5) });
      expect(Array.from(new Set(r.probabilities.data))).toEqual([0.5]);
    } finally {
      await sampler.dispose();
    }
  });
});
