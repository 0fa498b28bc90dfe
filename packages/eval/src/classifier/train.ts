import {
  permutation,
  AdamW,
  BigrError,
  ConfigError,
  getOrThrow,
  CpuTensor,
  lrScheduleFunction,
  throwIfAborted,
  type Engine,
  type LongRunningOptions,
  type LossFunction,
  type LrSchedule,
  type NamedTensors,
  type Ops,
  type Rng,
} from '@bigr/core';
import { checkDataset, gatherImages, oneHotBatchLast } from './batch.js';
import { fashionClassifierParameterShapes, parseFashionClassifierConfig, type FashionClassifierConfig } from './config.js';
import { fashionClassifierForward } from './graph.js';
import { initFashionClassifier } from './init.js';

/** Options of {@link trainFashionClassifier}. */
export interface TrainFashionClassifierOptions extends LongRunningOptions {
  /** A training engine (`resolveEngine({ purpose: 'training' })`, e.g. tfjs-wasm). */
  readonly engine: Engine;
  /** Training images, uint8 [n, S·S] row-major (grayscale). */
  readonly images: Uint8Array;
  /** Class index of each image. */
  readonly labels: Uint8Array | Int32Array;
  /** Passes over the data. */
  readonly epochs: number;
  /** Images per step (the last batch of an epoch may be smaller). Default 128. */
  readonly batchSize?: number;
  /**
   * Source of all randomness: initial weights (`rng.fork('init')`, unless `initialParameters` are given) and the
   * shuffling of every epoch (`rng.fork('shuffle')`). Same seed → same weights.
   */
  readonly rng: Rng;
  /** Architecture (defaults: {@link DEFAULT_FASHION_CLASSIFIER_CONFIG}). */
  readonly config?: Partial<FashionClassifierConfig>;
  /** Start from these parameters instead of a fresh initialisation. */
  readonly initialParameters?: NamedTensors;
  /**
   * Learning-rate schedule over steps. Default: warm-up over min(100, 5 % of the steps) to 2e-3, then cosine
   * decay to 2e-5 at the last step.
   */
  readonly schedule?: LrSchedule;
  /** Adam(W) decoupled weight decay. Default 0 (plain Adam, β = (0.9, 0.999), ε = 1e-8). */
  readonly weightDecay?: number;
  /** Use at most this many batches per epoch (a random subset of the shuffled data). Default: all. */
  readonly maxStepsPerEpoch?: number;
}

/** What {@link trainFashionClassifier} returns. */
export interface TrainFashionClassifierResult {
  /** Trained parameters (float32 copies). */
  readonly params: NamedTensors;
  /** The validated architecture. */
  readonly config: FashionClassifierConfig;
  /** Optimisation steps taken. */
  readonly steps: number;
  /** Training loss of every step. */
  readonly losses: Float64Array;
  /** The schedule that was used. */
  readonly schedule: LrSchedule;
}

/** Mean softmax cross-entropy of batch-last logits [K, B] against one-hot targets [K, B]. */
export function crossEntropyBatchLast<T>(ops: Ops<T>, logits: T, oneHot: T): T {
  // log Σ exp shifted by the column mean (no max op in Ops): exact, and finite while logits stay within ~88 of
  // their mean, which trained classifiers do; a non-finite loss stops training with an error.
  const shift = ops.mean(logits, [0], true);
  const lse = ops.add(ops.log(ops.sum(ops.exp(ops.sub(logits, shift)), [0], true)), shift);
  return ops.mean(ops.sum(ops.mul(ops.sub(lse, logits), oneHot), [0], false), [0], false);
}

function positiveInteger(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`trainFashionClassifier: ${name} is ${v}; expected a positive integer.`);
}

/**
 * Trains the evaluation network (docs/evaluation.md §9.2) with the engine's gradients and core {@link AdamW} (weight decay
 * 0 by default, i.e. Adam). The graph uses `ops.conv2d`, which the tfjs engine trains with wasm-native kernels. Deterministic for a
 * given engine, data and `rng` seed. Emits 'train-fashion-classifier' progress events (metrics: loss, lr, epoch);
 * `signal` stops at the next step with an AbortError.
 */
export async function trainFashionClassifier(options: TrainFashionClassifierOptions): Promise<TrainFashionClassifierResult> {
  const { engine, images, labels, epochs, rng, signal, onProgress } = options;
  const config = parseFashionClassifierConfig(options.config ?? {});
  const batchSize = options.batchSize ?? 128;
  positiveInteger('batchSize', batchSize);
  if (!Number.isSafeInteger(epochs) || epochs < 0) throw new ConfigError(`trainFashionClassifier: epochs is ${epochs}; expected an integer >= 0.`);
  if (!engine.canTrain || !engine.createTrainable) {
    throw new ConfigError(`Engine "${engine.name}" cannot train; use resolveEngine({ purpose: 'training' }) (e.g. onnx-cpu or tfjs-wasm).`);
  }
  const n = checkDataset(images, labels, config.imageSize);
  if (n === 0) throw new ConfigError('trainFashionClassifier: the training set is empty; pass at least one image.');
  let stepsPerEpoch = Math.ceil(n / batchSize);
  if (options.maxStepsPerEpoch !== undefined) {
    positiveInteger('maxStepsPerEpoch', options.maxStepsPerEpoch);
    stepsPerEpoch = Math.min(stepsPerEpoch, options.maxStepsPerEpoch);
  }
  const totalSteps = stepsPerEpoch * epochs;
  const schedule: LrSchedule = options.schedule ?? {
    kind: 'warmupCosine',
    lr: 2e-3,
    minLr: 2e-5,
    warmupSteps: Math.min(100, Math.floor(totalSteps / 20)),
    totalSteps: Math.max(totalSteps - 1, Math.min(100, Math.floor(totalSteps / 20))),
  };
  const lrAt = lrScheduleFunction(schedule);

  const shapes = fashionClassifierParameterShapes(config);
  const initial = options.initialParameters ?? initFashionClassifier(rng.fork('init'), config);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const t = initial.get(name);
    if (!t) throw new ConfigError(`Initial parameters lack "${name}" (shape [${shape.join(', ')}]); pass a full set from initFashionClassifier.`);
    if (t.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ConfigError(`Initial parameter "${name}" is ${t.dtype} [${t.shape.join(', ')}]; expected float32 [${shape.join(', ')}] for this config.`);
    }
    values.set(name, Float32Array.from(t.data as Float32Array));
  }
  const named = (): NamedTensors => {
    const out: NamedTensors = new Map();
    for (const [name, shape] of shapes) out.set(name, new CpuTensor(Float32Array.from(getOrThrow(values, name, 'parameter values')), shape));
    return out;
  };

  const trainable = await engine.createTrainable(named());
  const optimizer = new AdamW({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: options.weightDecay ?? 0 });
  const shuffleRng = rng.fork('shuffle');
  const stepRng = rng.fork('steps');
  const losses = new Float64Array(totalSteps);
  const s = config.imageSize;
  const pixels = s * s;
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = permutation(n, shuffleRng);
      for (let b = 0; b < stepsPerEpoch; b++) {
        throwIfAborted(signal, 'classifier training');
        const idx = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
        const x = gatherImages(images, pixels, idx);
        const y = oneHotBatchLast(labels, idx, config.classes);
        const bs = idx.length;
        const loss: LossFunction = <T>(ops: Ops<T>) => {
          const out = fashionClassifierForward(ops, ops.constant(x, [bs, s, s, 1]), config, 'native');
          return { loss: crossEntropyBatchLast(ops, out.logitsBatchLast, ops.constant(y, [config.classes, bs])) };
        };
        const result = await trainable.gradients(loss, stepRng);
        if (!Number.isFinite(result.loss)) {
          throw new BigrError(
            `Classifier training loss is ${result.loss} at step ${step}; lower the learning rate (schedule) or check the images (uint8 0…255).`,
          );
        }
        const lr = lrAt(step);
        optimizer.step(values, result.grads, lr);
        trainable.assign(values);
        losses[step] = result.loss;
        step++;
        onProgress?.({ task: 'train-fashion-classifier', current: step, total: totalSteps, metrics: { loss: result.loss, lr, epoch: epoch + 1 } });
      }
    }
  } finally {
    trainable.dispose();
  }
  return { params: named(), config, steps: step, losses, schedule };
}
