import {
  CpuTensor,
  createRng,
  getOrThrow,
  required,
  resolveEngine,
  softmaxCrossEntropy,
  type Engine,
  type GraphDefinition,
  type Ops,
  type ProgressEvent,
} from '@bigr/core';
import { BatchNormNoAffine, batchNormTraining, evaluateLinearProbe, scaledLearningRate, trainLinearProbe, type ProbeDataset } from './index.js';
import { referenceLinearProbe } from './test/referenceProbe.js';

/** Overlapping Gaussian classes with an offset and uneven scales (BN has work to do; accuracy is not 100 %). */
function data(seed: number, n: number, classes: number, dim: number): ProbeDataset {
  const rng = createRng(seed);
  const centres = createRng('centres');
  const mu = Float32Array.from({ length: classes * dim }, () => centres.normal());
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < dim; j++) features[i * dim + j] = (required(mu[c * dim + j], 'class centre') + 0.8 * rng.normal()) * (1 + j) + 3;
  }
  return { features, labels, dim };
}

function top1(logits: Float64Array, labels: Int32Array, classes: number): number {
  let ok = 0;
  labels.forEach((y, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (required(logits[i * classes + c], 'logit') > required(logits[i * classes + best], 'logit')) best = c;
    if (best === y) ok++;
  });
  return (100 * ok) / labels.length;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(required(b[i], 'value')));
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(required(a[i], 'value') - required(b[i], 'value')));
  return d / scale;
}

// The same loss definition trains on both training engines: tfjs (eager, tfjs autodiff) and onnxruntime (train-step
// graphs from core's autodiff).
describe.each(['tfjs-wasm', 'onnx-cpu'])('on %s', (engineName) => {
  let engine: Engine;
  beforeAll(async () => {
    await import('@bigr/engine-tfjs');
    await import('@bigr/engine-onnx');
    engine = await resolveEngine({ purpose: 'training', device: engineName });
  });

  describe('Ops-based probe vs the former hand-written float64 probe', () => {
    it.each([
      { accumulationSteps: 1, batchSize: 32 },
      { accumulationSteps: 2, batchSize: 16 }, // 18 micro-batches per epoch: 9 steps of 2
      { accumulationSteps: 4, batchSize: 16 }, // 18 micro-batches: 4 steps and 2 leftover micro-batches per epoch
    ])('same weights, running statistics, losses and accuracy (accumulation $accumulationSteps)', async ({ accumulationSteps, batchSize }) => {
      const classes = 5;
      const train = data(1, 300, classes, 12);
      const test = data(2, 400, classes, 12);
      const epochs = 6;
      const peak = scaledLearningRate(60, batchSize * accumulationSteps);
      const events: ProgressEvent[] = [];
      const model = await trainLinearProbe(train, {
        engine,
        rng: createRng(42),
        epochs,
        warmupEpochs: 1,
        batchSize,
        accumulationSteps,
        baseLr: 60, // LARS moves W by ≈ lr·η·‖W‖ per step: a large lr so that 6 short epochs learn something
        onProgress: (e) => events.push(e),
      });
      const ref = referenceLinearProbe(train, { rng: createRng(42), classes, epochs, warmupEpochs: 1, batchSize, accumulationSteps, peakLr: peak });
      // float32 graph + float32 LARS state vs float64 throughout (measured: ≈2e-7 relative on the weight, ≈1e-5 on the bias).
      expect(maxRelDiff(model.weight, ref.weight)).toBeLessThan(1e-5);
      expect(maxRelDiff(model.bias, ref.bias)).toBeLessThan(1e-4);
      // Running statistics are computed on the CPU in float64 from the same batches: identical up to summation order.
      expect(maxRelDiff(model.norm.runningMean, ref.runningMean)).toBeLessThan(1e-12);
      expect(maxRelDiff(model.norm.runningVar, ref.runningVar)).toBeLessThan(1e-12);
      const stepsPerEpoch = ref.losses.length / epochs;
      const epochLosses = events.flatMap((e) => (e.metrics?.['epoch'] !== undefined ? [required(e.metrics['loss'], 'epoch loss')] : []));
      expect(epochLosses.length).toBe(epochs);
      epochLosses.forEach((l, e) => {
        const r = ref.losses.slice(e * stepsPerEpoch, (e + 1) * stepsPerEpoch).reduce((a, v) => a + v, 0) / stepsPerEpoch;
        expect(Math.abs(l - r)).toBeLessThan(1e-5 * Math.max(1, r));
      });
      const newAcc = evaluateLinearProbe(model, test).top1;
      const refAcc = top1(ref.logits(test.features, 400), test.labels, classes);
      expect(Math.abs(newAcc - refAcc)).toBeLessThanOrEqual(0.5); // at most two of 400 borderline predictions may flip
      if (accumulationSteps === 1) expect(newAcc).toBeGreaterThan(35); // chance is 20 %
    });

    it('a longer run (separable blobs, 40 epochs, 1,240 LARS steps at lr 20) reaches the reference accuracy', async () => {
      const dim = 32;
      const classes = 10;
      const blobs = (seed: number, perClass: number): ProbeDataset => {
        const rng = createRng(seed);
        const centres = createRng(1234);
        const mu = Float32Array.from({ length: classes * dim }, () => centres.normal() * 3);
        const features = new Float32Array(perClass * classes * dim);
        const labels = Int32Array.from({ length: perClass * classes }, (_, i) => i % classes);
        for (let i = 0; i < labels.length; i++)
          for (let j = 0; j < dim; j++) features[i * dim + j] = required(mu[required(labels[i], 'label') * dim + j], 'class centre') + 0.5 * rng.normal() + 5;
        return { features, labels, dim };
      };
      const train = blobs(1, 200);
      const test = blobs(2, 50);
      const opts = { epochs: 40, warmupEpochs: 2, batchSize: 64 };
      const model = await trainLinearProbe(train, { engine, rng: createRng(7), ...opts, absoluteLr: 20 });
      const ref = referenceLinearProbe(train, { rng: createRng(7), classes, ...opts, warmupEpochs: 2, peakLr: 20 });
      // Only the accuracy is compared: once the training loss underflows to 0 (from about epoch 4 on this separable
      // data), float32 gradients are exactly 0 while float64 ones are ~1e-30, and LARS' trust ratio scales any non-zero
      // gradient to a full-size step, so the weights of the two runs part ways (both keep classifying perfectly).
      const acc = evaluateLinearProbe(model, test).top1;
      expect(acc).toBe(top1(ref.logits(test.features, 500), test.labels, classes));
      expect(acc).toBeGreaterThanOrEqual(99);
    });
  });

  describe('probe graph pieces', () => {
    it('batchNormTraining equals BatchNorm1d training mode per micro-batch (known answer of docs/evaluation.md §8.7)', async () => {
      const def: GraphDefinition = {
        name: 'bn',
        inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3, 2] }],
        outputs: ['y'],
        build: <T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>) => ({ y: batchNormTraining(ops, required(inputs['x'], 'input x'), 1e-6) }),
      };
      const trainable = required(await engine.createTrainable?.(new Map()), 'trainable of a training engine');
      const x = Float32Array.of(1, 10, 3, 14, 5, 12, /* second micro-batch */ 0, 0, 2, 1, 4, 2);
      const y = required((await trainable.evaluate(def, { x: new CpuTensor(x, [2, 3, 2]) }))['y'], 'output y').data as Float32Array;
      const bn = new BatchNormNoAffine(2, 1e-6);
      const want = [...bn.forwardTrain(x.subarray(0, 6), 3), ...bn.forwardTrain(x.subarray(6), 3)];
      y.forEach((v, i) => {
        expect(v).toBeCloseTo(required(want[i], 'expected value'), 5);
      });
      expect(y[0]).toBeCloseTo(-1.2247446, 5);
      trainable.dispose();
    });

    it('softmaxCrossEntropy: loss and gradient (softmax − onehot)/rows, finite for logits in the thousands', async () => {
      const rows = 3;
      const classes = 7;
      const logits = Float32Array.from({ length: rows * classes }, (_, i) => Math.sin(i * 1.7) * (i < classes ? 3 : 2000));
      const labels = [2, 6, 0];
      const oneHot = new Float32Array(rows * classes);
      labels.forEach((y, r) => {
        oneHot[r * classes + y] = 1;
      });
      const trainable = required(await engine.createTrainable?.(new Map([['l', new CpuTensor(logits, [rows, classes])]])), 'trainable of a training engine');
      const res = await trainable.gradients(
        <T>(ops: Ops<T>) => ({ loss: softmaxCrossEntropy(ops, ops.param('l'), ops.constant(oneHot, [rows, classes]), classes) }),
        createRng(0),
      );
      let loss = 0;
      const grad = new Float64Array(rows * classes);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(logits.subarray(r * classes, (r + 1) * classes));
        const mx = Math.max(...row);
        const z = row.reduce((a, v) => a + Math.exp(v - mx), 0);
        loss += (Math.log(z) + mx - required(row[required(labels[r], 'label')], 'logit')) / rows;
        row.forEach((v, c) => {
          grad[r * classes + c] = (Math.exp(v - mx) / z - required(oneHot[r * classes + c], 'one-hot target')) / rows;
        });
      }
      expect(Number.isFinite(res.loss)).toBe(true);
      expect(Math.abs(res.loss - loss)).toBeLessThan(1e-6 * Math.max(1, loss));
      getOrThrow(res.grads, 'l', 'gradient').forEach((g, i) => {
        expect(g).toBeCloseTo(required(grad[i], 'expected gradient'), 6);
      });
      trainable.dispose();
    });
  });
});
