import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, at, CpuTensor, createRng, getOrThrow, required, type Engine, type Ops } from '@bigr/core';
import { validateConfig, type BaeConfig } from './config.js';
import { lpipsLoss, type FeatureNetwork } from './perceptual.js';
import { syntheticFashionImages } from './syntheticImages.js';
import { BaeTokenizer } from './tokenizerModel.js';
import { trainBae, type BaeTrainingResult } from './training.js';
import { onnxEngine, trainingEngine } from './test/engines.js';

/** Mean |a − b|. */
function l1(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (const [i, v] of a.entries()) s += Math.abs(v - at(b, i, 'reference value'));
  return s / a.length;
}

/** The first discriminator weight of a run with the adversarial loss. */
function firstDiscriminatorWeight(result: BaeTrainingResult): CpuTensor {
  return getOrThrow(required(result.discriminatorParameters, 'discriminator parameters'), 'disc.main.0.weight', 'discriminator parameter');
}

// A small B-AE for 16×16 grayscale images: one downsampling → 8×8 tokens of K = 8 bits.
const small: BaeConfig = validateConfig({
  nf: 8,
  chMult: [1, 2],
  resBlocks: 1,
  attnResolutions: [],
  embDim: 16,
  codeDim: 8,
  inChannels: 1,
  resolution: 16,
  normFirst: true,
  normGroups: 4,
  normEps: 1e-6,
});

// An even smaller one for the checkpoint/resume and adversarial tests (8×8 images).
const tiny: BaeConfig = validateConfig({ ...small, nf: 4, embDim: 4, codeDim: 4, resolution: 8, normGroups: 2 });

// Every training engine: onnxruntime train-step graphs (the default) and tfjs-wasm's own autodiff.
describe.each(['onnx-cpu', 'tfjs-wasm'])('on %s', (device) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await trainingEngine(device);
  });

  describe('B-AE training on Fashion-MNIST-like synthetic images', () => {
    it('reaches L1 < 0.095 in 120 steps (the mean-image baseline is 0.158) with genuinely binary codes', async () => {
      const data = syntheticFashionImages(createRng('train-data'), { count: 300, size: 16 });
      const n = 300;
      const per = 16 * 16;
      const mean = new Float64Array(per);
      const rows = Array.from({ length: n }, (_, i) => data.images.data.subarray(i * per, (i + 1) * per));
      for (const row of rows) for (const [j, v] of row.entries()) mean[j] = at(mean, j, 'mean pixel') + v / n;
      let baseline = 0;
      for (const row of rows) for (const [j, v] of row.entries()) baseline += Math.abs(v - at(mean, j, 'mean pixel')) / (n * per);
      expect(baseline).toBeCloseTo(0.158, 2);

      const events: number[] = [];
      const result = await trainBae(small, data.images, {
        engine,
        steps: 120,
        batchSize: 8,
        seed: 1,
        learningRate: 3e-3,
        emaDecay: 0.9,
        onProgress: (e) => {
          events.push(e.current);
          expect(e.total).toBe(120);
        },
      });
      expect(result.step).toBe(120);
      expect(events).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(result.records[0]?.metrics).toEqual(expect.objectContaining({ l1: expect.any(Number), codeReg: expect.any(Number) }));
      expect(result.emaParameters).not.toBeNull();

      // Evaluate the trained weights through the inference path on both engines.
      const tok = await BaeTokenizer.create(engine, small, result.parameters, { maxBatch: 100 });
      const enc = await tok.encode(data.images, { mode: 'threshold' });
      const recon = await tok.decode(enc.bits);
      const err = l1(recon.data, data.images.data);
      process.stderr.write(`trained B-AE: L1 ${err.toFixed(4)} (baseline ${baseline.toFixed(4)})\n`);
      expect(err).toBeLessThan(0.095);
      expect(err).toBeLessThan(0.6 * baseline);
      // Genuinely binary: bits are exactly 0/1, the encoder is confident (p far from 0.5 on average), every bit
      // position carries information (takes both values over the data set), and decoding Bernoulli samples of the
      // same codes is almost as good as decoding the thresholded ones.
      expect(enc.bits.data.every((b) => b === 0 || b === 1)).toBe(true);
      let conf = 0;
      for (const p of enc.probabilities.data) conf += Math.abs(2 * p - 1) / enc.probabilities.size;
      expect(conf).toBeGreaterThan(0.5);
      const K = small.codeDim;
      const ones = new Float64Array(K);
      for (const [i, b] of enc.bits.data.entries()) ones[i % K] = at(ones, i % K, 'ones count') + b;
      const used = Array.from(ones).filter((c) => c > 0 && c < enc.bits.size / K).length;
      expect(used).toBe(K);
      const bern = await tok.encode(data.images, { mode: 'bernoulli', rng: createRng(5) });
      expect(l1((await tok.decode(bern.bits)).data, data.images.data)).toBeLessThan(err + 0.03);
      await tok.dispose();

      const onnx = await BaeTokenizer.create(await onnxEngine(), small, result.parameters, { maxBatch: 100 });
      const again = await onnx.decode(enc.bits);
      expect(l1(again.data, recon.data)).toBeLessThan(1e-5);
      await onnx.dispose();
    });
  });

  describe('checkpoints, resume and abort', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bigr-bae-train-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const data = syntheticFashionImages(createRng('resume-data'), { count: 20, size: 8 });
    const base = { batchSize: 4, seed: 'resume', learningRate: 2e-3 } as const;

    it('an aborted run resumes to the same losses and parameters as an uninterrupted one', async () => {
      const full = await trainBae(tiny, data.images, { ...base, engine, steps: 6 });
      const ac = new AbortController();
      await expect(
        trainBae(tiny, data.images, {
          ...base,
          engine,
          steps: 6,
          checkpointDirectory: dir,
          checkpointEvery: 2,
          signal: ac.signal,
          onProgress: (e) => {
            if (e.current === 3) ac.abort();
          },
        }),
      ).rejects.toThrow(AbortError);
      expect((await readdir(dir)).sort()).toEqual(['latest.json', 'step-000000003']);
      const resumed = await trainBae(tiny, data.images, { ...base, seed: 'ignored-on-resume', engine, steps: 6, checkpointDirectory: dir, checkpointEvery: 2 });
      expect(resumed.losses).toEqual(full.losses);
      expect(resumed.records.map((r) => r.step)).toEqual([3, 4, 5]);
      for (const [name, t] of full.parameters)
        expect([name, Array.from(getOrThrow(resumed.parameters, name, 'resumed parameter').data)]).toEqual([name, Array.from(t.data)]);
      const resumedEma = required(resumed.emaParameters, 'resumed EMA parameters');
      for (const [name, t] of required(full.emaParameters, 'EMA parameters'))
        expect(Array.from(getOrThrow(resumedEma, name, 'resumed EMA parameter').data)).toEqual(Array.from(t.data));
    });

    it('trains with the adversarial and a pluggable perceptual loss, and resumes the discriminator', async () => {
      // A toy frozen feature network (one random 3×3 conv + ReLU) standing in for LPIPS-VGG.
      const w = createRng('feat').normalsF32(4 * 3 * 9);
      const toy: FeatureNetwork = {
        channels: [4],
        features: <T>(ops: Ops<T>, x: T) => [ops.relu(ops.conv2d(x, ops.constant(w, [4, 3, 3, 3]), null, { strides: 1, pads: [1, 1, 1, 1] }))],
      };
      const perceptual = { loss: lpipsLoss(toy, { linWeights: [new Float32Array([0.1, 0.2, 0.3, 0.4])] }), weight: 1 };
      const adversarial = { discStartStep: 1, ndf: 4, layers: 1 };
      const advDir = join(dir, 'adv');
      const opts = { ...base, engine, perceptual, adversarial, checkpointDirectory: advDir };
      const r1 = await trainBae(tiny, data.images, { ...opts, steps: 3 });
      expect(at(r1.records, 0, 'step record').metrics['adversarial']).toBeUndefined();
      expect(r1.records[2]?.metrics).toEqual(expect.objectContaining({ perceptual: expect.any(Number), adversarial: expect.any(Number) }));
      expect(firstDiscriminatorWeight(r1).shape).toEqual([4, 1, 4, 4]);
      expect((await readdir(join(advDir, 'discriminator'))).sort()).toEqual(['latest.json', 'step-000000001']);
      const r2 = await trainBae(tiny, data.images, { ...opts, steps: 4 });
      expect(r2.records.map((r) => r.step)).toEqual([3]);
      expect(r2.losses.slice(0, 3)).toEqual(r1.losses);
      const d1 = firstDiscriminatorWeight(r1).data;
      const d2 = firstDiscriminatorWeight(r2).data;
      expect(Array.from(d2)).not.toEqual(Array.from(d1));
    });

    it('rejects bad inputs with clear messages', async () => {
      await expect(trainBae(tiny, new CpuTensor<'float32'>(new Float32Array(3 * 8 * 8), [1, 3, 8, 8]), { ...base, engine, steps: 1 })).rejects.toThrow(
        /expected float32 \[N, 1, H, W\]/,
      );
      await expect(trainBae(tiny, new CpuTensor<'float32'>(new Float32Array(9 * 9), [1, 1, 9, 9]), { ...base, engine, steps: 1 })).rejects.toThrow(
        /multiples of the downsampling factor 2/,
      );
      await expect(trainBae(tiny, data.images, { ...base, engine, steps: 1, batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    });
  });
});
