import { CpuTensor, at, createRng, getOrThrow } from '@bigr/core';
import type { GraphDefinition, NamedTensors, Ops, Rng } from '@bigr/core';
import { LOSS_INPUT_TAU, LOSS_INPUT_XT, TranscoderLoss, sampleForwardDiffusion } from './transcoderLoss.js';
import type { TranscoderConfigInput } from './config.js';
import { DIRECT_INPUT_BIT } from './config.js';
import { denoiserGraph, denoiserParameterShapes } from './denoiser.js';
import { officialScheduleBuffers, linearNoiseSchedule } from './noiseSchedule.js';
import { bceWithLogitsScalar, weightedBceWeights } from './weightedBce.js';
import { named, onnxEngine, outputData, tfjsWasmEngine } from './test/engines.js';

const SIZES = { bitsPerToken: 8, featureDim: 12, width: 32, blocks: 2 };

/** The loss as an evaluable graph, so it can be run on any engine. */
function lossAsGraph(loss: TranscoderLoss, R: number): GraphDefinition {
  const c = loss.config;
  return {
    name: 'transcoder_loss',
    inputs: [
      { name: 'features', dtype: 'float32', shape: [R, c.featureDim] },
      { name: 'targets', dtype: 'float32', shape: [R, c.bitsPerToken] },
      { name: 'row_mask', dtype: 'float32', shape: [R] },
      ...loss.lossInputs,
    ],
    outputs: ['loss', 'bce', 'pCorrect'],
    build<T>(ops: Ops<T>, inp: Readonly<Record<string, T>>) {
      const r = loss.lossGraph(ops, named(inp, 'features'), named(inp, 'targets'), named(inp, 'row_mask'), inp);
      return { loss: r.loss, bce: named(r.metrics, 'bce'), pCorrect: named(r.metrics, 'pCorrect') };
    },
  };
}

function randomParams(config: TranscoderConfigInput, rng: Rng): NamedTensors {
  const params: NamedTensors = new Map();
  for (const [name, shape] of denoiserParameterShapes({ ...config, prefix: 'denoise_mlp' })) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.normalsF32(n);
    const scale = name.endsWith('.bias') ? 0.05 : 1 / Math.sqrt(at(shape, 1, `input dimension of ${name}`));
    for (const [i, v] of data.entries()) data[i] = v * scale;
    params.set(name, new CpuTensor(data, shape));
  }
  return params;
}

function bits(rng: Rng, n: number, p = 0.5): Float32Array {
  const u = rng.uniformsF32(n);
  return Float32Array.from(u, (v) => (v < p ? 1 : 0));
}

describe('sampleForwardDiffusion', () => {
  it('draws t uniformly in 1..T and z_t with the closed-form marginals', () => {
    const T = 256;
    const R = 20000;
    const K = 4;
    const rng = createRng('forward');
    const z0 = bits(rng, R * K, 0.3);
    const { xt, tau } = sampleForwardDiffusion(new CpuTensor(z0, [R, K]), officialScheduleBuffers(T), rng);
    const s = linearNoiseSchedule(T);
    let minT = Infinity;
    let maxT = -Infinity;
    let meanT = 0;
    let dev = 0;
    let variance = 0;
    for (let r = 0; r < R; r++) {
      const t = at(tau.data, r, 'τ') + 1;
      minT = Math.min(minT, t);
      maxT = Math.max(maxT, t);
      meanT += t / R;
      for (let k = 0; k < K; k++) {
        const p = at(s.k, t, 'k_t') * at(z0, r * K + k, 'z_0') + at(s.b, t, 'b_t');
        dev += at(xt.data, r * K + k, 'z_t') - p;
        variance += p * (1 - p);
      }
    }
    expect(minT).toBe(1);
    expect(maxT).toBe(T);
    expect(Math.abs(meanT - (T + 1) / 2)).toBeLessThan(4.5 * Math.sqrt((T * T - 1) / 12 / R));
    expect(Math.abs(dev) / Math.sqrt(variance)).toBeLessThan(4.5);
  });
});

describe('TranscoderLoss', () => {
  const cases: [string, TranscoderConfigInput][] = [
    ['xor wbce (default)', { ...SIZES }],
    ['xor bce', { ...SIZES, loss: 'bce' }],
    ['z0 bce (default for z0)', { ...SIZES, target: 'z0' }],
    ['z0 wbce', { ...SIZES, target: 'z0', loss: 'wbce' }],
    ['direct bce', { ...SIZES, target: 'direct' }],
  ];

  it.each(cases)('%s equals a float64 reference built on engine logits', async (_label, config) => {
    const loss = new TranscoderLoss(config);
    const c = loss.config;
    const R = 24;
    const K = c.bitsPerToken;
    const rng = createRng(`loss-${c.target}-${c.loss}`);
    const params = randomParams(c, rng);
    const features = new CpuTensor(rng.normalsF32(R * c.featureDim), [R, c.featureDim]);
    const z0 = bits(rng, R * K);
    // A few all-zero and all-one tokens.
    z0.fill(0, 0, K);
    z0.fill(1, K, 2 * K);
    const mask = Float32Array.from({ length: R }, (_, r) => (r % 3 === 0 ? 0 : 1));
    const extra = loss.sampleLossInputs(new CpuTensor(z0, [R, K]), rng);
    expect(Object.keys(extra).sort()).toEqual(c.target === 'direct' ? [] : [LOSS_INPUT_TAU, LOSS_INPUT_XT].sort());

    const onnx = await onnxEngine();
    const dg = await onnx.compile(denoiserGraph(c), params);
    const xt = c.target === 'direct' ? new CpuTensor(new Float32Array(R * K).fill(DIRECT_INPUT_BIT), [R, K]) : named(extra, LOSS_INPUT_XT);
    const tau = c.target === 'direct' ? new CpuTensor(new Float32Array(R), [R]) : named(extra, LOSS_INPUT_TAU);
    const logits = outputData(await dg.run({ x_t: xt, tau, features }), 'logits');
    await dg.dispose();

    const y = Float64Array.from(z0, (z, i) => (c.target === 'xor' ? Number(z !== xt.data[i]) : z));
    const w = c.loss === 'wbce' ? weightedBceWeights(y, K) : new Float64Array(y.length).fill(1);
    let num = 0;
    let plain = 0;
    let den = 0;
    for (const [r, m] of mask.entries()) {
      den += m * K;
      for (let k = 0; k < K; k++) {
        const e = bceWithLogitsScalar(at(logits, r * K + k, 'logit'), at(y, r * K + k, 'target'));
        num += m * at(w, r * K + k, 'weight') * e;
        plain += m * e;
      }
    }
    for (const engine of [onnx, await tfjsWasmEngine()]) {
      const g = await engine.compile(lossAsGraph(loss, R), params);
      const out = await g.run({ features, targets: new CpuTensor(z0, [R, K]), row_mask: new CpuTensor(mask, [R]), ...extra });
      await g.dispose();
      expect(out['loss']?.data[0]).toBeCloseTo(num / den, 5);
      expect(out['bce']?.data[0]).toBeCloseTo(plain / den, 5);
    }
  });

  it('zero-initialised head: loss = ln 2 · mean(w) and the gradient at logit 0 is w·(½ − y)', async () => {
    const loss = new TranscoderLoss(SIZES);
    const R = 10;
    const K = SIZES.bitsPerToken;
    const rng = createRng('zero-init');
    const params = loss.initParameters(rng);
    expect(loss.parameterNames).toEqual([...params.keys()]);
    const features = rng.normalsF32(R * SIZES.featureDim);
    const z0 = bits(rng, R * K);
    const mask = Float32Array.from({ length: R }, (_, r) => (r < 7 ? 1 : 0));
    const extra = loss.sampleLossInputs(new CpuTensor(z0, [R, K]), rng);
    const xt = named(extra, LOSS_INPUT_XT).data as Float32Array;
    const y = Float64Array.from(z0, (z, i) => Number(z !== xt[i]));
    const w = weightedBceWeights(y, K);
    let expectLoss = 0;
    const gradBias = new Float64Array(K);
    for (let r = 0; r < R; r++) {
      const m = at(mask, r);
      for (let k = 0; k < K; k++) {
        const wk = at(w, r * K + k);
        expectLoss += (m * wk * Math.LN2) / (7 * K);
        gradBias[k] = at(gradBias, k) + (m * wk * (0.5 - at(y, r * K + k))) / (7 * K);
      }
    }
    const engine = await tfjsWasmEngine();
    if (!engine.createTrainable) throw new Error('tfjs-wasm must be able to train');
    const tp = await engine.createTrainable(params);
    try {
      const res = await tp.gradients(
        <T>(ops: Ops<T>) =>
          loss.lossGraph(ops, ops.constant(features, [R, SIZES.featureDim]), ops.constant(z0, [R, K]), ops.constant(mask, [R]), {
            [LOSS_INPUT_XT]: ops.constant(xt, [R, K]),
            [LOSS_INPUT_TAU]: ops.constant(named(extra, LOSS_INPUT_TAU).data as Float32Array, [R]),
          }),
        rng,
      );
      expect(res.loss).toBeCloseTo(expectLoss, 6);
      const g = getOrThrow(res.grads, 'denoise_mlp.final_layer.linear.bias', 'gradient');
      expect(g).toHaveLength(K);
      for (const [k, want] of gradBias.entries()) expect(g[k]).toBeCloseTo(want, 6);
    } finally {
      tp.dispose();
    }
  });
});
