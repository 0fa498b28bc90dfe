// Random-weight BiGR models of the sampler benchmark's shapes (bench/sampler.mjs), and the SamplerPool factory that
// builds one inside each worker thread (same seeds, so every worker holds identical weights). Not a benchmark itself.

// @ts-check
import { CpuTensor, createRng, required, resolveEngine } from '@bigr/core';
import * as bb from '@bigr/backbone';
import * as tc from '@bigr/transcoder';
import * as sp from '@bigr/sampler';

/** Bits per token of every configuration. */
export const K = 16;

/**
 * Benchmark shapes. `official`: the released PyTorch sampler's s/image on this machine (Debian torch 1.13, OpenBLAS,
 * 2 threads; tiny/small at batch 8 and 10 iterations, BiGR-L-d16 at batch 1 and 20 iterations).
 */
export const SIZES = {
  tiny: { dim: 64, layers: 2, heads: 4, tokens: 16, numClasses: 10, width: 64, blocks: 2, iterations: 10, official: 0.228 },
  small: { dim: 256, layers: 4, heads: 8, tokens: 64, numClasses: 1000, width: 256, blocks: 3, iterations: 10, official: 3.27 },
  L: { dim: 1024, layers: 24, heads: 16, tokens: 256, numClasses: 1000, width: 1024, blocks: 3, iterations: 20, official: 354 },
};

/** Random non-degenerate weights (the zero-initialised layers get values too, so nothing is trivially 0). */
export function randomize(params, seed) {
  const rng = createRng(seed);
  const out = new Map();
  for (const [name, t] of params) {
    const n = t.size;
    const data = rng.normalsF32(n);
    const fanIn = t.shape.length >= 2 ? t.shape[t.shape.length - 1] : 1;
    const scale = name.endsWith('norm.weight') ? 0 : name.endsWith('.bias') ? 0.02 : t.shape.length >= 2 ? 0.5 / Math.sqrt(fanIn) : 0.1;
    for (let i = 0; i < n; i++) data[i] = (name.endsWith('norm.weight') ? 1 : 0) + required(data[i], 'weight') * scale;
    out.set(name, new CpuTensor(data, t.shape));
  }
  return out;
}

/** Analytic FLOP of one backbone call over `seqs` sequences (matmuls and attention; elementwise ignored). */
export function backboneFlops(s, seqs, layers = s.layers) {
  const D = s.dim;
  const L = s.tokens + 1;
  const H = bb.ffnHiddenSize(D);
  const perLayerPerToken = 2 * D * 3 * D + 2 * D * D + 2 * 3 * D * H + 4 * L * D;
  return seqs * (L * layers * perLayerPerToken + 2 * D * 6 * D + s.tokens * 2 * K * D);
}

/** Analytic FLOP of one transcoder call: `rows` token rows, `halves` CFG halves, `steps` diffusion steps. */
export function headFlops(s, rows, halves, steps) {
  const W = s.width;
  const perRow = 2 * K * W + s.blocks * (2 * W * 3 * W + 2 * 2 * W * W) + 2 * W * 2 * W + 2 * W * K;
  return halves * rows * 2 * s.dim * W + steps * (halves * rows * perRow + 2 * 256 * W + 2 * W * W);
}

/**
 * Builds the random-weight model of configuration `name` on onnx-cpu (intra-op threads from `threads`, else
 * BIGR_THREADS) and a predictor with `steps` diffusion steps whose backbone and transcoder calls are timed and
 * counted in FLOP. `layers` overrides the backbone depth.
 */
export async function buildRandomModel({ name, steps, threads, layers }) {
  const s = SIZES[name];
  if (!s) throw new Error(`unknown config ${name}; use tiny, small or L`);
  const nLayers = layers ?? s.layers;
  const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
  const bconfig = bb.resolveBackboneConfig({ dim: s.dim, layers: nLayers, heads: s.heads, bitsPerToken: K, tokens: s.tokens, numClasses: s.numClasses });
  const tconfig = tc.resolveTranscoderConfig({ bitsPerToken: K, featureDim: s.dim, width: s.width, blocks: s.blocks });
  const bparams = randomize(bb.initialiseBackbone(bconfig, createRng(`bb-${name}`)), `bbw-${name}`);
  const tparams = randomize(tc.initTranscoderParameters(tconfig, createRng(`tc-${name}`)), `tcw-${name}`);
  const compileOptions = threads !== undefined ? { threads } : {};
  const featureModel = new bb.BackboneFeatureModel(engine, bconfig, bparams, compileOptions);
  const head = await tc.TranscoderSampler.create(engine, tparams, tconfig, compileOptions);
  const t = { backboneMs: 0, backboneCalls: 0, backboneFlop: 0, headMs: 0, headFlop: 0, headRows: 0 };
  const reset = () => Object.assign(t, { backboneMs: 0, backboneCalls: 0, backboneFlop: 0, headMs: 0, headFlop: 0, headRows: 0 });
  const timedFeatures = {
    tokens: featureModel.tokens,
    bitsPerToken: featureModel.bitsPerToken,
    featureDim: featureModel.featureDim,
    nullClass: featureModel.nullClass,
    async features(bits, mask, condition, withNull) {
      const t0 = performance.now();
      const r = await featureModel.features(bits, mask, condition, withNull);
      t.backboneMs += performance.now() - t0;
      t.backboneCalls++;
      t.backboneFlop += backboneFlops(s, bits.shape[0] * (withNull ? 2 : 1), nLayers);
      return r;
    },
  };
  const timedHead = {
    bitsPerToken: head.bitsPerToken,
    async sampleProbabilities(cond, uncond, options) {
      const t0 = performance.now();
      const r = await head.sampleProbabilities(cond, uncond, options);
      t.headMs += performance.now() - t0;
      t.headFlop += headFlops(s, cond.shape[0], uncond ? 2 : 1, options.steps ?? steps);
      t.headRows += cond.shape[0];
      return r;
    },
  };
  const predictor = sp.createBigrPredictor(timedFeatures, timedHead, { steps });
  return {
    size: s,
    predictor,
    stats: () => ({ ...t }),
    reset,
    async dispose() {
      await featureModel.dispose();
      await head.dispose();
    },
  };
}

/** {@link SamplerWorkerFactory} for bench/sampler.mjs: `args` = { name, steps, layers? }. */
export async function randomBigrFactory(args) {
  const m = await buildRandomModel(args);
  return {
    predictor: m.predictor,
    dispose: () => m.dispose(),
    jobStats() {
      const s = m.stats();
      m.reset();
      return s;
    },
  };
}
