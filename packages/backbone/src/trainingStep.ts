import { ConfigError, CpuTensor, assertShape, dims3, required, type BitHeadLoss, type LossFunction, type Ops, type Rng } from '@bigr/core';
import { nullClassIndex, type BackboneConfig } from './config.js';
import { configRopeTables, runBackbone } from './backboneGraph.js';
import { drawTrainingMasks, MAGE_RATIO_DEFAULTS, type MageRatioOptions, type MaskScheduleKind } from './maskSchedule.js';

/** One batch of training data: B-AE bits and class labels. */
export interface MaskedModellingData {
  /** Bits [B, N, K], 0/1 (uint8 or float32). Input and target are the same tensor (docs/algorithm.md §5.2). */
  readonly bits: CpuTensor<'float32' | 'uint8'>;
  /** Class labels [B] in [0, numClasses]. */
  readonly labels: Int32Array;
}

/** Options of the masked-modelling batch preparation. */
export interface MaskedModellingOptions {
  /** Mask-ratio schedule (default 'cosine', as released). */
  readonly maskSchedule?: MaskScheduleKind;
  /** MAGE ratio parameters for `maskSchedule: 'mage'`. */
  readonly mage?: MageRatioOptions;
  /** Label dropout probability (default: config.classDropoutProb = 0.1). */
  readonly labelDropout?: number;
  /**
   * Unconditional training (paper Table 4, docs/algorithm.md §13.4): every label is replaced by the null class, so the
   * class token is one learned unconditional token and no class embedding is ever seen. Default false.
   */
  readonly unconditional?: boolean;
}

/**
 * A batch ready for the loss graph: everything random (mask, label dropout, the head's per-row inputs) was drawn on
 * the CPU from the explicit Rng, so a step is reproducible on every engine.
 */
export interface MaskedModellingBatch {
  /** Batch size B. */
  readonly batchSize: number;
  /** Bits [B·N·K] as float32 0/1. */
  readonly bits: Float32Array;
  /** Mask [B·N], 1 = masked (all 0 for a causal backbone, which predicts every token from the ones before it). */
  readonly mask: Float32Array;
  /** Masked tokens per sample. */
  readonly maskCount: number;
  /** Labels after label dropout [B] (dropped → null class). */
  readonly labels: Int32Array;
  /** One-hot rows of `labels` over the C+1 table rows, [B·(C+1)]. */
  readonly classWeights: Float32Array;
  /** The head's extra loss inputs for the B·N rows. */
  readonly headInputs: Record<string, CpuTensor>;
}

/** Replaces each label by the null class with probability `p` (one Bernoulli per sample, docs/algorithm.md §2.3 step 3). */
export function dropLabels(labels: Int32Array, p: number, nullClass: number, rng: Rng): Int32Array {
  const out = Int32Array.from(labels);
  if (p <= 0) return out;
  for (let i = 0; i < out.length; i++) if (rng.bernoulli(p) === 1) out[i] = nullClass;
  return out;
}

/** One-hot rows [B·rows] of `labels`. */
export function oneHotLabels(labels: Int32Array, rows: number): Float32Array {
  const out = new Float32Array(labels.length * rows);
  for (const [i, y] of labels.entries()) {
    if (!Number.isInteger(y) || y < 0 || y >= rows)
      throw new ConfigError(`Label ${y} at index ${i} is outside [0, ${rows - 1}] (the null class is ${rows - 1}).`);
    out[i * rows + y] = 1;
  }
  return out;
}

/**
 * Draws the random parts of one masked-modelling step (docs/algorithm.md §5.1, §2.3): the batch mask count and positions,
 * label dropout, then the head's per-row inputs for targets = bits (all B·N rows; the loss keeps masked rows only).
 */
export function prepareMaskedModellingBatch(
  config: BackboneConfig,
  head: BitHeadLoss,
  data: MaskedModellingData,
  rng: Rng,
  options: MaskedModellingOptions = {},
): MaskedModellingBatch {
  const { tokens: N, bitsPerToken: K } = config;
  assertShape(data.bits, [-1, N, K], 'Training bits');
  const [B] = dims3(data.bits.shape, 'Training bits');
  if (data.labels.length !== B)
    throw new ConfigError(`Training labels have ${data.labels.length} entries but the bits have batch ${B}; pass one label per sample.`);
  const bits = Float32Array.from(data.bits.data);
  // Causal (autoregressive) backbones see every token and predict each from its predecessors: no mask is drawn.
  const masks =
    config.attention === 'causal'
      ? { mask: new Float32Array(B * N), count: 0 }
      : drawTrainingMasks(B, N, rng, options.maskSchedule ?? 'cosine', options.mage ?? MAGE_RATIO_DEFAULTS);
  const labels = options.unconditional
    ? new Int32Array(B).fill(nullClassIndex(config))
    : dropLabels(data.labels, options.labelDropout ?? config.classDropoutProb, nullClassIndex(config), rng);
  const classWeights = oneHotLabels(labels, config.numClasses + 1);
  const headInputs = head.sampleLossInputs(new CpuTensor(bits, [B * N, K]), rng);
  return { batchSize: B, bits, mask: masks.mask, maskCount: masks.count, labels, classWeights, headInputs };
}

/**
 * The masked-modelling loss (docs/algorithm.md §5; for a causal backbone the next-token loss of §13.2 over all
 * tokens): the backbone forward in training mode (class condition through one-hot weights, dropouts on), then the
 * head's loss on the per-token features, counted only at masked positions. Returns a factory: batch →
 * {@link LossFunction} for `TrainableParameters.gradients` / the core Trainer.
 */
export function maskedModellingLoss(config: BackboneConfig, head: BitHeadLoss): (batch: MaskedModellingBatch) => LossFunction {
  const rope = configRopeTables(config);
  const { tokens: N, bitsPerToken: K, dim: D } = config;
  return (batch) =>
    <T>(ops: Ops<T>) => {
      const B = batch.batchSize;
      const bits = ops.constant(batch.bits, [B, N, K]);
      const mask = ops.constant(batch.mask, [B, N]);
      const condition = ops.constant(batch.classWeights, [B, config.numClasses + 1]);
      const causal = config.attention === 'causal';
      const act = runBackbone(ops, config, { bits, mask: causal ? null : mask, condition, kind: 'classWeights' }, { rope });
      // all layers run, so the features exist
      const features = ops.reshape(required(act.features, 'backbone features'), [B * N, D]);
      // Causal: next-token prediction counts every token (docs/algorithm.md §13.2); masked modelling the masked ones.
      const rowMask = causal ? ops.constant(new Float32Array(B * N).fill(1), [B * N]) : ops.reshape(mask, [B * N]);
      const inputs: Record<string, T> = {};
      for (const spec of head.lossInputs) {
        const t = batch.headInputs[spec.name];
        if (!t) throw new ConfigError(`The head's loss input "${spec.name}" was not drawn; sampleLossInputs must return every lossInputs entry.`);
        inputs[spec.name] = t.dtype === 'int32' ? ops.constantInt(t.data as Int32Array, t.shape) : ops.constant(Float32Array.from(t.data), t.shape);
      }
      return head.lossGraph(ops, features, ops.reshape(bits, [B * N, K]), rowMask, inputs);
    };
}

/**
 * Wraps a data source (step, rng → bits and labels) into a batch source for the core Trainer that also draws the
 * masks, label dropout and head inputs from the same Rng.
 */
export function maskedModellingBatches(
  config: BackboneConfig,
  head: BitHeadLoss,
  data: (step: number, rng: Rng) => MaskedModellingData | Promise<MaskedModellingData>,
  options: MaskedModellingOptions = {},
): (step: number, rng: Rng) => Promise<MaskedModellingBatch> {
  return async (step, rng) => prepareMaskedModellingBatch(config, head, await data(step, rng), rng, options);
}
