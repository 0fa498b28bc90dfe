import { ConfigError, Trainer, type BitHeadLoss, type Engine, type LearningRate, type NamedTensors, type Rng, type TrainerOptions } from '@bigr/core';
import type { BackboneConfig } from './config.js';
import {
  maskedModellingBatches,
  maskedModellingLoss,
  type MaskedModellingBatch,
  type MaskedModellingData,
  type MaskedModellingOptions,
} from './trainingStep.js';
import { backboneWeightDecay, RELEASED_WEIGHT_DECAY } from './weightDecayGroups.js';

/** Released optimisation settings (docs/algorithm.md §5.2): AdamW(0.9, 0.95), eps 1e-8, lr 1e-4 constant, wd 0.02, clip 1.0, EMA 0.9999. */
export const RELEASED_TRAINING = Object.freeze({
  learningRate: 1e-4,
  betas: [0.9, 0.95] as const,
  eps: 1e-8,
  weightDecay: RELEASED_WEIGHT_DECAY,
  gradClipNorm: 1.0,
  emaDecay: 0.9999,
});

/** Options of {@link createBackboneTrainer}; every optimisation field defaults to {@link RELEASED_TRAINING}. */
export interface BackboneTrainerOptions extends MaskedModellingOptions {
  /** Training engine (`canTrain`). */
  readonly engine: Engine;
  /** Seed of the run. */
  readonly seed: number | string;
  /** Learning rate or schedule of the step (e.g. a warmup built with core's schedules). */
  readonly learningRate?: LearningRate;
  /** AdamW betas. */
  readonly betas?: readonly [number, number];
  /** AdamW epsilon. */
  readonly eps?: number;
  /** Decay of the decayed group (backbone tensors of rank ≥ 2). */
  readonly weightDecay?: number;
  /** Global gradient-norm clip, or null. */
  readonly gradClipNorm?: number | null;
  /** EMA decay, or null. */
  readonly emaDecay?: number | null;
  /** Checkpoint directory. */
  readonly checkpointDirectory?: string;
  /** Checkpoint period in steps. */
  readonly checkpointEvery?: number;
  /** Checkpoints kept. */
  readonly keepCheckpoints?: number;
  /** Resume from the latest checkpoint in `checkpointDirectory` instead of starting from `parameters`. */
  readonly resume?: boolean;
}

/** The core Trainer options for masked-modelling training of the backbone jointly with `head`. */
export function backboneTrainerOptions(
  config: BackboneConfig,
  head: BitHeadLoss,
  data: (step: number, rng: Rng) => MaskedModellingData | Promise<MaskedModellingData>,
  options: BackboneTrainerOptions,
): TrainerOptions<MaskedModellingBatch> {
  return {
    engine: options.engine,
    seed: options.seed,
    batches: maskedModellingBatches(config, head, data, options),
    loss: maskedModellingLoss(config, head),
    learningRate: options.learningRate ?? RELEASED_TRAINING.learningRate,
    betas: options.betas ?? RELEASED_TRAINING.betas,
    eps: options.eps ?? RELEASED_TRAINING.eps,
    weightDecay: backboneWeightDecay({ decay: options.weightDecay ?? RELEASED_TRAINING.weightDecay, headParameterNames: head.parameterNames }),
    gradClipNorm: options.gradClipNorm === undefined ? RELEASED_TRAINING.gradClipNorm : options.gradClipNorm,
    emaDecay: options.emaDecay === undefined ? RELEASED_TRAINING.emaDecay : options.emaDecay,
    ...(options.checkpointDirectory !== undefined ? { checkpointDirectory: options.checkpointDirectory } : {}),
    ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
    ...(options.keepCheckpoints !== undefined ? { keepCheckpoints: options.keepCheckpoints } : {}),
    config: {
      kind: 'bigr-backbone',
      backbone: { ...config },
      maskSchedule: options.maskSchedule ?? 'cosine',
      ...(options.unconditional ? { unconditional: true } : {}),
    },
  };
}

/**
 * A core Trainer for the masked-modelling objective (docs/algorithm.md §5): backbone + head parameters (`parameters`, official
 * names), the released optimiser settings unless overridden, checkpoints with EMA/moments/Rng, progress and abort.
 */
export async function createBackboneTrainer(
  config: BackboneConfig,
  head: BitHeadLoss,
  parameters: NamedTensors,
  data: (step: number, rng: Rng) => MaskedModellingData | Promise<MaskedModellingData>,
  options: BackboneTrainerOptions,
): Promise<Trainer<MaskedModellingBatch>> {
  const opts = backboneTrainerOptions(config, head, data, options);
  if (options.resume) {
    if (!options.checkpointDirectory) throw new ConfigError('resume: true needs checkpointDirectory (the directory holding latest.json).');
    return Trainer.resume(options.checkpointDirectory, opts);
  }
  return Trainer.create(parameters, opts);
}
