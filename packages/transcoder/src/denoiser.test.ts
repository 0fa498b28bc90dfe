import { at, CpuTensor, createRng, linear } from '@bigr/core';
import type { CompiledGraph, Engine, GraphDefinition, NamedTensors, Ops } from '@bigr/core';
import { conditionEmbedding, conditionGraph, denoiser, denoiserGraph, denoiserParameterCount, stepGraph } from './denoiser.js';
import type { DenoiserSizes } from './denoiser.js';
import { timestepEmbedding, timestepSinusoids } from './timestepEmbedding.js';
import { inferDenoiserSizes, selectTranscoderParameters } from './weights.js';
import { TRANSCODER_PRESETS } from './presets.js';
import { loadFixture } from './test/fixtures.js';
import { maxAbsDiff, maxRelDiff, named, onnxEngine, outputData, tfjsCpuEngine, tfjsWasmEngine } from './test/engines.js';

/** The denoiser plus its intermediates, for diagnosing a mismatch against the fixture. */
function probeGraph(c: DenoiserSizes): GraphDefinition {
  const base = denoiserGraph(c);
  return {
    ...base,
    name: 'denoiser_probe',
    outputs: ['logits', 'x_emb', 'c_emb', 't_emb'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const x = named(inputs, 'x_t');
      const tau = named(inputs, 'tau');
      const features = named(inputs, 'features');
      return {
        logits: denoiser(ops, x, tau, features, c),
        x_emb: linear(ops, ops.mul(ops.sub(x, ops.scalar(0.5)), ops.scalar(2)), `${c.prefix}.x_embedder`),
        c_emb: conditionEmbedding(ops, features, c.prefix),
        t_emb: timestepEmbedding(ops, tau, c.prefix),
      };
    },
  };
}

async function fixtureModel(): Promise<{ sizes: DenoiserSizes; params: NamedTensors }> {
  const w = await loadFixture('tiny_transformer_weights.safetensors');
  const sizes = inferDenoiserSizes(w.tensors);
  const params = selectTranscoderParameters(w.tensors as Map<string, CpuTensor>, sizes, { duplicatePrefix: 'diffusion_processor._denoise_fn' });
  return { sizes, params };
}

const ENGINES: [string, () => Promise<Engine>][] = [
  ['onnx-cpu', onnxEngine],
  ['tfjs-wasm', tfjsWasmEngine],
  ['tfjs-cpu', tfjsCpuEngine],
];

describe('denoiser g_phi', () => {
  it('infers the fixture sizes and the official parameter counts of Table 7', async () => {
    const { sizes } = await fixtureModel();
    expect(sizes).toEqual({ bitsPerToken: 16, featureDim: 64, width: 64, blocks: 2, prefix: 'denoise_mlp' });
    const count = (name: keyof typeof TRANSCODER_PRESETS): number =>
      denoiserParameterCount({ ...TRANSCODER_PRESETS[name], bitsPerToken: 24, prefix: 'denoise_mlp' });
    expect(count('BiGR-L')).toBe(20_255_768);
    expect(count('BiGR-XL')).toBe(56_140_824);
    expect(count('BiGR-XXL')).toBe(104_346_648);
  });

  it('sinusoids equal the fixture t_freq (float32, cosine first)', async () => {
    const fx = await loadFixture('denoiser.safetensors');
    const tau = fx.i32('time_steps');
    // PyTorch's float32 exp is off by one ulp for a few frequencies (e.g. i = 13, 14, 26); at τ = 255 that moves the
    // argument by ~255·3e-8, so agreement is ~8e-6 rather than float32 epsilon.
    expect(maxAbsDiff(timestepSinusoids(tau), fx.f32('t_freq'))).toBeLessThanOrEqual(1e-5);
    const first = timestepSinusoids(Float32Array.of(0));
    expect(Array.from(first.subarray(0, 128)).every((v) => v === 1)).toBe(true);
    expect(Array.from(first.subarray(128)).every((v) => v === 0)).toBe(true);
  });

  it.each(ENGINES)('forward equals the fixture denoiser.safetensors on %s', async (_name, get) => {
    const engine = await get();
    const { sizes, params } = await fixtureModel();
    const fx = await loadFixture('denoiser.safetensors');
    const graph = await engine.compile(probeGraph(sizes), params);
    try {
      const tau = Float32Array.from(fx.i32('time_steps'));
      const out = await graph.run({
        x_t: fx.get('x_t'),
        tau: new CpuTensor(tau, [tau.length]),
        features: fx.get('cond'),
      });
      expect(maxAbsDiff(outputData(out, 'x_emb'), fx.f32('x_emb'))).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(outputData(out, 'c_emb'), fx.f32('c_emb'))).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(outputData(out, 't_emb'), fx.f32('t_emb'))).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(outputData(out, 'logits'), fx.f32('out_logits'))).toBeLessThanOrEqual(1e-5);
    } finally {
      await graph.dispose();
    }
  });

  it('tfjs and onnxruntime agree to 1e-5 relative; condition + step graphs equal the whole graph', async () => {
    const sizes: DenoiserSizes = { bitsPerToken: 16, featureDim: 48, width: 96, blocks: 3, prefix: 'denoise_mlp' };
    // Random (not zero-initialised) weights so every layer matters.
    const rng = createRng('denoiser-agreement');
    const params: NamedTensors = new Map();
    const { denoiserParameterShapes } = await import('./denoiser.js');
    for (const [name, shape] of denoiserParameterShapes(sizes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = rng.normalsF32(n);
      const scale = name.endsWith('.bias') ? 0.05 : 1 / Math.sqrt(at(shape, 1, `input dimension of ${name}`));
      for (const [i, v] of data.entries()) data[i] = v * scale;
      params.set(name, new CpuTensor(data, shape));
    }
    const R = 40;
    const x = new Float32Array(R * 16);
    const u = rng.uniformsF32(x.length);
    for (const [i, v] of u.entries()) x[i] = v < 0.5 ? 1 : 0;
    const features = new CpuTensor(rng.normalsF32(R * 48), [R, 48]);
    const tauRows = new Float32Array(R);
    for (let r = 0; r < R; r++) tauRows[r] = rng.int(256);
    const feeds = { x_t: new CpuTensor(x, [R, 16]), tau: new CpuTensor(tauRows, [R]), features };

    const results: Record<string, Float32Array> = {};
    const graphs: CompiledGraph[] = [];
    try {
      for (const [name, get] of ENGINES) {
        const g = await (await get()).compile(denoiserGraph(sizes), params);
        graphs.push(g);
        results[name] = outputData(await g.run(feeds), 'logits');
      }
      expect(maxRelDiff(named(results, 'tfjs-wasm'), named(results, 'onnx-cpu'))).toBeLessThanOrEqual(1e-5);
      expect(maxRelDiff(named(results, 'tfjs-cpu'), named(results, 'onnx-cpu'))).toBeLessThanOrEqual(1e-5);

      // Split graphs with one shared τ: same as the whole graph with τ repeated on every row.
      const onnx = await onnxEngine();
      const cond = await onnx.compile(conditionGraph(sizes), params);
      const step = await onnx.compile(stepGraph(sizes), params);
      const whole = await onnx.compile(denoiserGraph(sizes), params);
      graphs.push(cond, step, whole);
      const cEmb = named(await cond.run({ features }), 'c_emb');
      const one = new CpuTensor(Float32Array.of(137), [1]);
      const split = outputData(await step.run({ x_t: feeds.x_t, tau: one, c_emb: cEmb }), 'logits');
      const ref = outputData(await whole.run({ ...feeds, tau: new CpuTensor(new Float32Array(R).fill(137), [R]) }), 'logits');
      expect(maxRelDiff(split, ref)).toBeLessThanOrEqual(1e-6);
    } finally {
      for (const g of graphs) await g.dispose();
    }
  });
});
