/**
 * End to end: train the transcoder on tfjs on a toy conditional bit distribution (16-bit codes determined by a 4-way
 * condition), then sample it with CFG on tfjs and, from the same weights exported to ONNX, on onnxruntime.
 */
import { AdamW, CpuTensor, createRng, getOrThrow } from '@bigr/core';
import type { NamedTensors, Ops } from '@bigr/core';
import { TranscoderLoss } from './transcoderLoss.js';
import { TranscoderSampler } from './transcoderSampler.js';
import { parseTranscoderWeights, serializeTranscoderWeights } from './weights.js';
import { named, onnxEngine, tfjsWasmEngine } from './test/engines.js';

const CLASSES = 4;
const K = 16;
const D = 8;
const SIZES = { bitsPerToken: K, featureDim: D, width: 64, blocks: 2 };

describe('training on a toy conditional bit distribution', () => {
  it.each([
    ['xor', 200],
    ['z0', 200],
    ['direct', 100],
  ] as const)('target %s learns the class codes (>= 95%% bit accuracy) on tfjs and samples the same on onnxruntime', async (target, steps) => {
    const CONFIG = { ...SIZES, target };
    const rng = createRng('toy-codes');
    const codes = Float32Array.from(rng.uniformsF32(CLASSES * K), (u) => (u < 0.5 ? 1 : 0));
    const classFeatures = rng.normalsF32((CLASSES + 1) * D); // row CLASSES = null condition
    classFeatures.fill(0, CLASSES * D);

    const loss = new TranscoderLoss(CONFIG);
    const init = loss.initParameters(rng.fork('init'));
    const engine = await tfjsWasmEngine();
    if (!engine.createTrainable) throw new Error('tfjs-wasm must be able to train');
    const tp = await engine.createTrainable(init);
    const values = new Map<string, Float32Array>([...init].map(([n, t]) => [n, (t.data as Float32Array).slice()]));
    const adam = new AdamW({ weightDecay: 0 });
    const R = 64;
    const trainRng = rng.fork('train');
    let first = NaN;
    let last = NaN;
    try {
      for (let step = 0; step < steps; step++) {
        const features = new Float32Array(R * D);
        const targets = new Float32Array(R * K);
        for (let r = 0; r < R; r++) {
          const cls = trainRng.int(CLASSES);
          const shown = trainRng.uniform() < 0.1 ? CLASSES : cls; // label dropout as in training
          features.set(classFeatures.subarray(shown * D, (shown + 1) * D), r * D);
          targets.set(codes.subarray(cls * K, (cls + 1) * K), r * K);
        }
        const extra = loss.sampleLossInputs(new CpuTensor(targets, [R, K]), trainRng);
        const mask = new Float32Array(R).fill(1);
        const res = await tp.gradients(
          <T>(ops: Ops<T>) =>
            loss.lossGraph(
              ops,
              ops.constant(features, [R, D]),
              ops.constant(targets, [R, K]),
              ops.constant(mask, [R]),
              Object.fromEntries(
                loss.lossInputs.map((spec) => {
                  const t = named(extra, spec.name);
                  return [spec.name, ops.constant(t.data as Float32Array, t.shape)];
                }),
              ),
            ),
          trainRng,
        );
        if (step === 0) first = res.loss;
        last = res.loss;
        adam.step(values, res.grads, 3e-3);
        tp.assign(values);
      }
    } finally {
      tp.dispose();
    }
    expect(last).toBeLessThan(first / 3);

    const trained: NamedTensors = new Map([...values].map(([n, v]) => [n, new CpuTensor(v, getOrThrow(init, n, 'initial parameter').shape)]));
    // Round trip through safetensors, as a user exporting the trained head would.
    const loaded = parseTranscoderWeights(serializeTranscoderWeights(trained, { ...SIZES, prefix: 'denoise_mlp' }));

    const per = 16;
    const rows = CLASSES * per;
    const cond = new Float32Array(rows * D);
    const uncond = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) cond.set(classFeatures.subarray(Math.floor(r / per) * D, (Math.floor(r / per) + 1) * D), r * D);
    const accuracy = (bits: Uint8Array): number => {
      let ok = 0;
      for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) ok += Number(bits[r * K + k] === codes[Math.floor(r / per) * K + k]);
      return ok / (rows * K);
    };
    const results: Record<string, number> = {};
    for (const [name, eng, params] of [
      ['tfjs-wasm', engine, trained],
      ['onnx-cpu', await onnxEngine(), loaded.params],
    ] as const) {
      const sampler = await TranscoderSampler.create(eng, params, CONFIG);
      try {
        const r = await sampler.sample(new CpuTensor(cond, [rows, D]), new CpuTensor(uncond, [rows, D]), {
          cfgScale: 2,
          steps: 25,
          rng: createRng('toy-sample'),
        });
        results[name] = accuracy(r.bits.data);
      } finally {
        await sampler.dispose();
      }
    }
    expect(results['tfjs-wasm']).toBeGreaterThanOrEqual(0.95);
    expect(results['onnx-cpu']).toBeGreaterThanOrEqual(0.95);
  });
});
