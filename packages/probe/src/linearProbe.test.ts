import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at, ConfigError, CpuTensor, createRng, required, resolveEngine, type Engine } from '@bigr/core';
import { cachedFeatures, evaluateLinearProbe, extractFeatures, layerSweep, trainLinearProbe, type ProbeDataset } from './index.js';

let engine: Engine;
beforeAll(async () => {
  await import('@bigr/engine-tfjs');
  engine = await resolveEngine({ purpose: 'training', device: 'tfjs-wasm' });
});

/** Gaussian blobs around well-separated class centres: linearly separable with overwhelming probability. */
function blobs(seed: number, perClass: number, classes: number, dim: number, noise: number): ProbeDataset {
  const rng = createRng(seed);
  const centres = createRng(1234); // same centres for train and test
  const mu = Float32Array.from({ length: classes * dim }, () => centres.normal() * 3);
  const n = perClass * classes;
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < dim; j++) features[i * dim + j] = required(mu[c * dim + j], 'class centre') + noise * rng.normal() + 5; // offset: BN must remove it
  }
  return { features, labels, dim };
}

describe('linear probe (tfjs-wasm, core Trainer)', () => {
  it('reaches ~100% top-1 on linearly separable features', async () => {
    // LARS moves the weight matrix by about lr·η·‖W‖ per step, so the probe needs many steps (docs/evaluation.md §8.8).
    const train = blobs(1, 200, 10, 32, 0.5);
    const test = blobs(2, 50, 10, 32, 0.5);
    const model = await trainLinearProbe(train, { engine, rng: createRng(7), epochs: 40, warmupEpochs: 2, batchSize: 64, absoluteLr: 20 });
    const acc = evaluateLinearProbe(model, test);
    expect(acc.top1).toBeGreaterThanOrEqual(99);
    expect(acc.top5).toBe(100);
  });
  it('is at chance on features that carry no label information', async () => {
    const train = blobs(3, 100, 10, 16, 1);
    const rng = createRng(5);
    const shuffled = { ...train, labels: train.labels.map(() => rng.int(10)) };
    const model = await trainLinearProbe(shuffled, { engine, rng: createRng(7), epochs: 5, warmupEpochs: 1, batchSize: 50 });
    const acc = evaluateLinearProbe(model, { ...blobs(4, 50, 10, 16, 1), labels: Int32Array.from({ length: 500 }, () => rng.int(10)) });
    expect(acc.top1).toBeLessThan(25);
  });
  it('is deterministic for a seed', async () => {
    const train = blobs(1, 20, 4, 8, 1);
    const a = await trainLinearProbe(train, { engine, rng: createRng(3), epochs: 3, warmupEpochs: 1, batchSize: 16 });
    const b = await trainLinearProbe(train, { engine, rng: createRng(3), epochs: 3, warmupEpochs: 1, batchSize: 16 });
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
  });
  it('rejects bad shapes and labels with clear errors', async () => {
    const train = blobs(1, 10, 2, 4, 1);
    await expect(trainLinearProbe({ ...train, labels: train.labels.subarray(1) }, { engine, rng: createRng(1) })).rejects.toThrow(/labels/);
    await expect(trainLinearProbe(train, { engine, rng: createRng(1), numClasses: 1 })).rejects.toThrow(ConfigError);
    await expect(trainLinearProbe(train, { engine, rng: createRng(1), batchSize: 1000 })).rejects.toThrow(/fewer than one batch/);
    await expect(trainLinearProbe(train, { engine, rng: createRng(1), batchSize: 4, accumulationSteps: 6 })).rejects.toThrow(/fewer than accumulationSteps 6/);
  });
  it('sweeps layers and reports each', async () => {
    const good = blobs(1, 100, 4, 8, 0.3);
    const noise = { ...good, features: blobs(9, 100, 4, 8, 0.3).features.map((_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1) };
    const res = await layerSweep(
      new Map([
        [3, { train: good, validation: blobs(2, 20, 4, 8, 0.3) }],
        [1, { train: noise, validation: { ...noise } }],
      ]),
      { engine, rng: createRng(1), epochs: 60, warmupEpochs: 2, batchSize: 16, absoluteLr: 20 },
    );
    expect(res.map((r) => r.layer)).toEqual([1, 3]);
    expect(at(res, 1, 'sweep result').top1).toBeGreaterThan(95);
  });
});

describe('feature extraction and caching', () => {
  it('batches any function, caches to safetensors, and reuses the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bigr-probe-'));
    try {
      const inputs = Array.from({ length: 10 }, (_, i) => i);
      let calls = 0;
      const fn = async (batch: readonly number[]): Promise<CpuTensor<'float32'>> => {
        calls++;
        return new CpuTensor(Float32Array.from(batch.flatMap((v) => [v, v * v])), [batch.length, 2]) as CpuTensor<'float32'>;
      };
      const r = await extractFeatures(inputs, fn, { batchSize: 4 });
      expect(calls).toBe(3);
      expect(Array.from(r.features.subarray(16))).toEqual([8, 64, 9, 81]);
      const path = join(dir, 'f.safetensors');
      const labels = Int32Array.from(inputs);
      const first = await cachedFeatures(path, 'k1', async () => ({ ...r, labels }));
      expect(first.fromCache).toBe(false);
      const again = await cachedFeatures(path, 'k1', () => Promise.reject(new Error('should not recompute')));
      expect(again.fromCache).toBe(true);
      expect(Array.from(again.features)).toEqual(Array.from(r.features));
      const other = await cachedFeatures(path, 'k2', async () => ({ ...r, labels }));
      expect(other.fromCache).toBe(false);
      await expect(extractFeatures([1], async () => new CpuTensor(new Float32Array(3), [3]) as CpuTensor<'float32'>)).rejects.toThrow(/expected \[1, dim\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
