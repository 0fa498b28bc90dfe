import { ConfigError, ShapeError, throwIfAborted, type LongRunningOptions, type Rng } from '@bigr/core';
import { BatchNormNoAffine } from './batchNorm.js';
import { Lars } from './lars.js';
import { probeLearningRate, scaledLearningRate } from './probeSchedule.js';

/** Frozen features with integer labels: row i is `features[i·dim … (i+1)·dim)`. */
export interface ProbeDataset {
  /** Row-major [count, dim] features. */
  readonly features: Float32Array;
  /** Class index per row. */
  readonly labels: Int32Array;
  /** Feature width. */
  readonly dim: number;
}

/** Hyper-parameters of the linear probe (docs/evaluation.md §8). Defaults follow MAE/BiGR. */
export interface LinearProbeOptions extends LongRunningOptions {
  /** Seeded randomness for the head's init and the per-epoch shuffles. */
  rng: Rng;
  /** Number of classes. Default: max label + 1. */
  numClasses?: number;
  /** Epochs. Default 100. */
  epochs?: number;
  /** Warm-up epochs. Default 10. */
  warmupEpochs?: number;
  /** Micro-batch size. Default 256. */
  batchSize?: number;
  /** Gradient-accumulation steps. Default 1. */
  accumulationSteps?: number;
  /**
   * Base lr; the peak lr is baseLr × effective batch / 256 (MAE). Default 0.1 (BiGR/MAE). docs/evaluation.md §8.8
   * recommends 2.0 on Fashion-MNIST (budget-matched); see {@link FASHION_MNIST_PROBE}.
   */
  baseLr?: number;
  /** Absolute peak lr; overrides baseLr scaling when set. */
  absoluteLr?: number;
  /** LARS weight decay. Default 0. */
  weightDecay?: number;
}

/** Probe settings recommended for Fashion-MNIST by docs/evaluation.md §8.8 (blr 2.0, batch 256, 100 epochs). */
export const FASHION_MNIST_PROBE = { baseLr: 2.0, batchSize: 256, epochs: 100, warmupEpochs: 10 } as const;

/** A trained probe: BatchNorm (no affine) followed by a linear layer. */
export interface LinearProbeModel {
  /** Normalisation with running statistics. */
  readonly norm: BatchNormNoAffine;
  /** Weight [classes, dim]. */
  readonly weight: Float32Array;
  /** Bias [classes]. */
  readonly bias: Float32Array;
  /** Number of classes. */
  readonly numClasses: number;
  /** Logits [n, classes] in eval mode. */
  logits(features: Float32Array, n: number): Float32Array;
}

/** Top-1 / top-5 accuracy in percent. */
export interface ProbeAccuracy {
  /** Top-1 accuracy, %. */
  readonly top1: number;
  /** Top-5 accuracy, % (equals 100 when there are ≤ 5 classes). */
  readonly top5: number;
}

function rowsOf(d: ProbeDataset, what: string): number {
  if (d.dim <= 0 || d.features.length % d.dim !== 0) {
    throw new ShapeError(`${what} has ${d.features.length} feature values, not a multiple of dim ${d.dim}. Pass features as [count, dim] rows.`);
  }
  const n = d.features.length / d.dim;
  if (d.labels.length !== n) throw new ShapeError(`${what} has ${n} feature rows but ${d.labels.length} labels; they must match.`);
  return n;
}

/** Truncated normal (±2 absolute bounds, so effectively untruncated at std 0.01), docs/evaluation.md §8.2. */
function truncatedNormal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = rng.normal() * std;
    while (v < -2 || v > 2);
    out[i] = v;
  }
  return out;
}

function linearLogits(x: Float32Array, n: number, dim: number, w: Float32Array, b: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const xo = i * dim;
    for (let c = 0; c < classes; c++) {
      let s = b[c]!;
      const wo = c * dim;
      for (let j = 0; j < dim; j++) s += x[xo + j]! * w[wo + j]!;
      out[i * classes + c] = s;
    }
  }
  return out;
}

/**
 * Trains the linear probe of docs/evaluation.md §8 on frozen features: BatchNorm1d(affine=false, ε=1e-6) → Linear,
 * cross-entropy, LARS (momentum 0.9, η=0.001), warm-up + per-step cosine schedule, drop-last batches
 * reshuffled every epoch.
 */
export function trainLinearProbe(train: ProbeDataset, options: LinearProbeOptions): LinearProbeModel {
  const n = rowsOf(train, 'Training set');
  const dim = train.dim;
  let maxLabel = -1;
  for (const l of train.labels) maxLabel = Math.max(maxLabel, l);
  const classes = options.numClasses ?? maxLabel + 1;
  if (maxLabel >= classes || train.labels.some((l) => l < 0)) {
    throw new ConfigError(`Labels must lie in [0, ${classes}); found ${maxLabel}. Pass numClasses large enough for every label.`);
  }
  const epochs = options.epochs ?? 100;
  const warmup = options.warmupEpochs ?? 10;
  const batch = options.batchSize ?? 256;
  const accum = options.accumulationSteps ?? 1;
  if (!(epochs > 0 && warmup >= 0 && warmup < epochs)) throw new ConfigError(`Need epochs > warmupEpochs >= 0; got epochs=${epochs}, warmupEpochs=${warmup}.`);
  const perEpoch = Math.floor(n / batch);
  if (perEpoch < 1) throw new ConfigError(`The training set has ${n} rows, fewer than one batch of ${batch}. Lower batchSize.`);
  const peak = options.absoluteLr ?? scaledLearningRate(options.baseLr ?? 0.1, batch * accum);
  const { rng, signal, onProgress } = options;

  const norm = new BatchNormNoAffine(dim);
  const weight = truncatedNormal(rng, classes * dim, 0.01);
  const bias = new Float32Array(classes);
  const lars = new Lars([{ value: weight, rank: 2 }, { value: bias, rank: 1 }], { weightDecay: options.weightDecay ?? 0 });
  const gW = new Float64Array(classes * dim);
  const gB = new Float64Array(classes);
  const order = new Int32Array(n);
  const xb = new Float32Array(batch * dim);
  const totalSteps = epochs * perEpoch;
  let lr = 0;

  for (let epoch = 0; epoch < epochs; epoch++) {
    throwIfAborted(signal, 'linear probe');
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let lossSum = 0;
    for (let it = 0; it < perEpoch; it++) {
      if (it % accum === 0) lr = probeLearningRate(epoch + it / perEpoch, peak, warmup, epochs);
      for (let r = 0; r < batch; r++) xb.set(train.features.subarray(order[it * batch + r]! * dim, (order[it * batch + r]! + 1) * dim), r * dim);
      const xhat = norm.forwardTrain(xb, batch);
      const logits = linearLogits(xhat, batch, dim, weight, bias, classes);
      for (let r = 0; r < batch; r++) {
        const row = logits.subarray(r * classes, (r + 1) * classes);
        let mx = -Infinity;
        for (const v of row) mx = Math.max(mx, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - mx);
        const label = train.labels[order[it * batch + r]!]!;
        lossSum += Math.log(z) + mx - row[label]!;
        for (let c = 0; c < classes; c++) {
          const d = (Math.exp(row[c]! - mx) / z - (c === label ? 1 : 0)) / (batch * accum);
          gB[c]! += d;
          const wo = c * dim;
          const xo = r * dim;
          for (let j = 0; j < dim; j++) gW[wo + j]! += d * xhat[xo + j]!;
        }
      }
      if ((it + 1) % accum === 0) {
        lars.step([gW, gB], lr);
        gW.fill(0);
        gB.fill(0);
      }
      onProgress?.({ task: 'linear-probe', current: epoch * perEpoch + it + 1, total: totalSteps, metrics: { lr } });
    }
    onProgress?.({ task: 'linear-probe', current: (epoch + 1) * perEpoch, total: totalSteps, metrics: { epoch: epoch + 1, loss: lossSum / (perEpoch * batch), lr } });
  }
  return {
    norm,
    weight,
    bias,
    numClasses: classes,
    logits: (features, count) => linearLogits(norm.forwardEval(features, count), count, dim, weight, bias, classes),
  };
}

/** Top-1 and top-5 accuracy (%) of a probe on a labelled set, BN in eval mode. */
export function evaluateLinearProbe(model: LinearProbeModel, test: ProbeDataset): ProbeAccuracy {
  const n = rowsOf(test, 'Test set');
  const logits = model.logits(test.features, n);
  const c = model.numClasses;
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < n; i++) {
    const label = test.labels[i]!;
    const mine = logits[i * c + label]!;
    let higher = 0;
    for (let k = 0; k < c; k++) {
      const v = logits[i * c + k]!;
      if (v > mine || (v === mine && k < label)) higher++;
    }
    if (higher === 0) top1++;
    if (higher < 5) top5++;
  }
  return { top1: (100 * top1) / n, top5: (100 * top5) / n };
}
