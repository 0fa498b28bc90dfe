import {
  permutation,
  ConfigError,
  ShapeError,
  Trainer,
  linear,
  resolveEngine,
  softmaxCrossEntropy,
  CpuTensor,
  getOrThrow,
  required,
  throwIfAborted,
  type Engine,
  type LongRunningOptions,
  type LossFunction,
  type NamedTensors,
  type Ops,
  type Rng,
} from '@bigr/core';
import { BatchNormNoAffine, batchNormTraining } from './batchNorm.js';
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
  /** Seeded randomness: the head's init, then one draw that seeds the Trainer's Rng (which shuffles every epoch). */
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
  /** LARS weight decay (weight matrix only; the bias never decays). Default 0. */
  weightDecay?: number;
  /** Training engine. Default: `resolveEngine({ purpose: 'training', device })` (onnx-cpu unless BIGR_DEVICE or `device` says otherwise). */
  engine?: Engine;
  /** Device word or engine name for the default engine (see `resolveEngine`); ignored when `engine` is given. */
  device?: string;
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
      let s = required(b[c], 'bias');
      const wo = c * dim;
      for (let j = 0; j < dim; j++) s += required(x[xo + j], 'feature') * required(w[wo + j], 'weight');
      out[i * classes + c] = s;
    }
  }
  return out;
}

/** Names of the probe head's parameters on the engine (the linear layer after the BatchNorm). */
export const PROBE_HEAD = { weight: 'head.weight', bias: 'head.bias' } as const;

/** Shapes of one training step of the probe: `groups` micro-batches of `batch` rows each. */
export interface LinearProbeLossShape {
  /** Micro-batches per optimiser step (gradient accumulation); each gets its own BatchNorm statistics. */
  readonly groups: number;
  /** Rows per micro-batch. */
  readonly batch: number;
  /** Feature width. */
  readonly dim: number;
  /** Number of classes. */
  readonly classes: number;
  /** BatchNorm ε. Default 1e-6 (MAE). */
  readonly eps?: number;
}

/**
 * The probe's training loss as a graph over {@link Ops} (docs/evaluation.md §8.2–8.4): features [groups·batch, dim]
 * → BatchNorm without affine in training mode (each micro-batch normalised with its own mean and biased variance)
 * → linear `head` → softmax cross-entropy against the one-hot targets, averaged over all rows. The mean over
 * groups·batch rows equals MAE's gradient accumulation (each micro-batch loss divided by the number of micro-batches,
 * gradients summed). Works on any training engine.
 */
export function linearProbeLoss(features: Float32Array, oneHot: Float32Array, shape: LinearProbeLossShape): LossFunction {
  const { groups, batch, dim, classes } = shape;
  const rows = groups * batch;
  if (features.length !== rows * dim || oneHot.length !== rows * classes) {
    throw new ShapeError(
      `linearProbeLoss got ${features.length} feature and ${oneHot.length} target values; ` +
        `expected ${rows}·${dim} and ${rows}·${classes} for ${groups} micro-batch(es) of ${batch} rows.`,
    );
  }
  const eps = shape.eps ?? 1e-6;
  return <T>(ops: Ops<T>) => {
    const x = batchNormTraining(ops, ops.constant(features, [groups, batch, dim]), eps);
    const logits = linear(ops, ops.reshape(x, [rows, dim]), 'head');
    return { loss: softmaxCrossEntropy(ops, logits, ops.constant(oneHot, [rows, classes]), classes) };
  };
}

/** A fresh Fisher–Yates permutation of the rows into `order` (core `permutation`). */
function shuffle(order: Int32Array, rng: Rng): void {
  order.set(permutation(order.length, rng));
}

/**
 * Trains the linear probe of docs/evaluation.md §8 on frozen features: BatchNorm1d(affine=false, ε=1e-6) → Linear,
 * cross-entropy, LARS (momentum 0.9, η=0.001), warm-up + per-step cosine schedule, drop-last batches reshuffled
 * every epoch.
 *
 * Training runs on a training engine through the core `Trainer` with {@link linearProbeLoss} and its LARS optimiser;
 * the learning rate of optimiser step s is the probe schedule at the fractional epoch of the step's first
 * micro-batch; the Trainer's Rng (seeded from `options.rng` after the head is initialised) shuffles the rows at the
 * start of every epoch. With gradient accumulation an epoch has ⌊(rows/batch)/accumulationSteps⌋ optimiser steps
 * and leftover micro-batches only update the BatchNorm running statistics (as MAE's loop, which zeroes their
 * gradients at the next epoch). BatchNorm running statistics (eval mode) are a function of the batch sequence alone,
 * not of the head, so they are tracked on the CPU in float64 from each micro-batch's features as the Trainer draws
 * it (momentum 0.1, unbiased variance), while the graph normalises with the same batch statistics in float32.
 * Evaluation ({@link LinearProbeModel.logits}) runs on the CPU in float64.
 */
export async function trainLinearProbe(train: ProbeDataset, options: LinearProbeOptions): Promise<LinearProbeModel> {
  const n = rowsOf(train, 'Training set');
  const dim = train.dim;
  let maxLabel = -1;
  for (const l of train.labels) maxLabel = Math.max(maxLabel, l);
  const classes = options.numClasses ?? maxLabel + 1;
  if (!Number.isInteger(classes) || classes < 2)
    throw new ConfigError(`numClasses is ${classes}; a probe needs an integer >= 2. Pass numClasses or labels of at least two classes.`);
  if (maxLabel >= classes || train.labels.some((l) => l < 0)) {
    throw new ConfigError(`Labels must lie in [0, ${classes}); found ${maxLabel}. Pass numClasses large enough for every label.`);
  }
  const epochs = options.epochs ?? 100;
  const warmup = options.warmupEpochs ?? 10;
  const batch = options.batchSize ?? 256;
  const accum = options.accumulationSteps ?? 1;
  if (!(epochs > 0 && warmup >= 0 && warmup < epochs)) throw new ConfigError(`Need epochs > warmupEpochs >= 0; got epochs=${epochs}, warmupEpochs=${warmup}.`);
  if (!Number.isInteger(batch) || batch < 1) throw new ConfigError(`batchSize is ${batch}; expected a positive integer (MAE: 256).`);
  if (!Number.isInteger(accum) || accum < 1) throw new ConfigError(`accumulationSteps is ${accum}; expected a positive integer (1 = no accumulation).`);
  const perEpoch = Math.floor(n / batch);
  if (perEpoch < 1) throw new ConfigError(`The training set has ${n} rows, fewer than one batch of ${batch}. Lower batchSize.`);
  const stepsPerEpoch = Math.floor(perEpoch / accum);
  if (stepsPerEpoch < 1) {
    throw new ConfigError(
      `One epoch has ${perEpoch} micro-batches of ${batch}, fewer than accumulationSteps ${accum}; no optimiser step would run. ` +
        `Lower accumulationSteps or batchSize.`,
    );
  }
  const peak = options.absoluteLr ?? scaledLearningRate(options.baseLr ?? 0.1, batch * accum);
  const { rng, signal, onProgress } = options;
  throwIfAborted(signal, 'linear probe');
  const engine = options.engine ?? (await resolveEngine({ purpose: 'training', ...(options.device !== undefined ? { device: options.device } : {}) }));

  const norm = new BatchNormNoAffine(dim);
  const params: NamedTensors = new Map([
    [PROBE_HEAD.weight, new CpuTensor(truncatedNormal(rng, classes * dim, 0.01), [classes, dim])],
    [PROBE_HEAD.bias, new CpuTensor(new Float32Array(classes), [classes])],
  ]);
  const seed = rng.int(0x100000000);
  const order = new Int32Array(n);
  const totalSteps = epochs * stepsPerEpoch;
  const rowsOfStep = accum * batch;
  const gather = (micro: number, out: Float32Array, oneHot: Float32Array | null, offset: number): void => {
    for (let r = 0; r < batch; r++) {
      const row = required(order[micro * batch + r], 'shuffled row');
      out.set(train.features.subarray(row * dim, (row + 1) * dim), (offset + r) * dim);
      if (oneHot) oneHot[(offset + r) * classes + required(train.labels[row], 'label')] = 1;
    }
  };
  const trainer = await Trainer.create(params, {
    engine,
    seed,
    optimizer: { kind: 'lars', momentum: 0.9, trustCoefficient: 0.001 },
    weightDecay: options.weightDecay ?? 0,
    gradClipNorm: null,
    emaDecay: null,
    learningRate: (step) => probeLearningRate(Math.floor(step / stepsPerEpoch) + ((step % stepsPerEpoch) * accum) / perEpoch, peak, warmup, epochs),
    batches: (step, trainerRng) => {
      const window = step % stepsPerEpoch;
      if (window === 0) shuffle(order, trainerRng);
      const x = new Float32Array(rowsOfStep * dim);
      const oneHot = new Float32Array(rowsOfStep * classes);
      for (let g = 0; g < accum; g++) {
        gather(window * accum + g, x, oneHot, g * batch);
        norm.updateRunningStats(x.subarray(g * batch * dim, (g + 1) * batch * dim), batch);
      }
      if (window === stepsPerEpoch - 1) {
        // Micro-batches after the last full accumulation window still pass through BatchNorm in training mode.
        const rest = new Float32Array(batch * dim);
        for (let micro = stepsPerEpoch * accum; micro < perEpoch; micro++) {
          gather(micro, rest, null, 0);
          norm.updateRunningStats(rest, batch);
        }
      }
      return { x, oneHot };
    },
    loss: (b) => linearProbeLoss(b.x, b.oneHot, { groups: accum, batch, dim, classes, eps: norm.eps }),
  });
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      await trainer.run({
        steps: (epoch + 1) * stepsPerEpoch,
        ...(signal ? { signal } : {}),
        onProgress: (e) =>
          onProgress?.({
            task: 'linear-probe',
            current: e.current,
            total: totalSteps,
            ...(e.metrics?.['lr'] !== undefined ? { metrics: { lr: e.metrics['lr'] } } : {}),
          }),
      });
      const losses = trainer.losses.slice(epoch * stepsPerEpoch);
      const lr = probeLearningRate(epoch + ((stepsPerEpoch - 1) * accum) / perEpoch, peak, warmup, epochs);
      onProgress?.({
        task: 'linear-probe',
        current: (epoch + 1) * stepsPerEpoch,
        total: totalSteps,
        metrics: { epoch: epoch + 1, loss: losses.reduce((a, v) => a + v, 0) / losses.length, lr },
      });
    }
    const trained = trainer.parameters();
    const weight = getOrThrow(trained, PROBE_HEAD.weight, 'probe parameter').data as Float32Array;
    const bias = getOrThrow(trained, PROBE_HEAD.bias, 'probe parameter').data as Float32Array;
    return {
      norm,
      weight,
      bias,
      numClasses: classes,
      logits: (features, count) => linearLogits(norm.forwardEval(features, count), count, dim, weight, bias, classes),
    };
  } finally {
    trainer.dispose();
  }
}

/** Top-1 and top-5 accuracy (%) of a probe on a labelled set, BN in eval mode. */
export function evaluateLinearProbe(model: LinearProbeModel, test: ProbeDataset): ProbeAccuracy {
  const n = rowsOf(test, 'Test set');
  const logits = model.logits(test.features, n);
  const c = model.numClasses;
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < n; i++) {
    const label = required(test.labels[i], 'test label');
    const mine = required(logits[i * c + label], 'logit');
    let higher = 0;
    for (let k = 0; k < c; k++) {
      const v = required(logits[i * c + k], 'logit');
      if (v > mine || (v === mine && k < label)) higher++;
    }
    if (higher === 0) top1++;
    if (higher < 5) top5++;
  }
  return { top1: (100 * top1) / n, top5: (100 * top5) / n };
}
