/**
 * What a BiGR model config says about sampling, in one place for model directories (Node) and in-memory models
 * (browser): which per-token head to build (the binary transcoder, docs/algorithm.md §4.3, or the categorical head,
 * §13.1), how its output is committed, and whether the backbone decodes by masked unmasking (§6) or token by token
 * with a KV cache (causal attention, §13.2–§13.3). Browser-safe.
 */
import { ConfigError, type Engine, type NamedTensors } from '@bigr/core';
import { KvCacheFeatureModel } from '@bigr/backbone';
import { CategoricalSampler, TranscoderSampler, type TranscoderConfig } from '@bigr/transcoder';
import type { CommitRule } from '@bigr/sampler';
import type { BigrHeadKind, BigrModelConfig } from './bigrModelDir.js';

/** The per-token head of a loaded model: the binary transcoder or the categorical 2^K softmax head. */
export type BigrHead = TranscoderSampler | CategoricalSampler;

/** The head of a model config (`'transcoder'` when `head` is absent). */
export function bigrHeadKind(config: Pick<BigrModelConfig, 'head'>): BigrHeadKind {
  return config.head ?? 'transcoder';
}

/** Whether the model's backbone is causal (`backbone.attention: 'causal'`, the paper's AR variants S0/S2). */
export function isCausalModel(config: Pick<BigrModelConfig, 'backbone'>): boolean {
  return config.backbone.attention === 'causal';
}

/** The model's head and attention, as messages and records name them: `head 'categorical', attention 'causal'`. */
export function describeModelKind(config: Pick<BigrModelConfig, 'head' | 'backbone'>): string {
  return `head '${bigrHeadKind(config)}', attention '${config.backbone.attention}'`;
}

/** The transcoder config of a model with the binary transcoder; a {@link ConfigError} naming `what` for a categorical model. */
export function transcoderConfigOf(config: BigrModelConfig, what: string): TranscoderConfig {
  if (config.head === 'categorical')
    throw new ConfigError(`${what} needs the binary transcoder, but this model has ${describeModelKind(config)} (docs/algorithm.md §13.1).`);
  return config.transcoder;
}

/**
 * Diffusion steps S a sampling call uses: `requested` when given (a positive integer), else the model's own
 * `transcoder.inferenceSteps` (100 in the released checkpoints; a model directory may record fewer when its FID
 * does not depend on S, docs/algorithm.md §4.3). `undefined` for the categorical head, which has no diffusion.
 */
export function modelDiffusionSteps(config: BigrModelConfig, requested?: number): number | undefined {
  if (config.head === 'categorical') return undefined;
  return requested !== undefined && requested > 0 ? requested : config.transcoder.inferenceSteps;
}

/** Compiles the model's head on `engine` from `weights` (the transcoder's or `cat_head.*` tensors). */
export async function createBigrHead(engine: Engine, weights: NamedTensors, config: BigrModelConfig): Promise<BigrHead> {
  if (config.head === 'categorical') return CategoricalSampler.create(engine, weights, config.categorical);
  return TranscoderSampler.create(engine, weights, config.transcoder);
}

/**
 * The KV-cached feature model of a causal backbone (nothing is compiled until its first pass), or null for a
 * bidirectional one.
 */
export function createKvFeatureModel(engine: Engine, config: BigrModelConfig, weights: NamedTensors): KvCacheFeatureModel | null {
  return isCausalModel(config) ? new KvCacheFeatureModel(engine, config.backbone, weights) : null;
}

/**
 * The commit rule of a sampling call on this model. The categorical head returns 0.5 ± c/2 per bit, which only the
 * 'threshold' rule turns back into the sampled class (docs/algorithm.md §13.1), so it is the rule of categorical models
 * and a `requested` 'bernoulli' is refused; transcoder models take `requested` (default 'bernoulli').
 */
export function modelCommitRule(config: Pick<BigrModelConfig, 'head' | 'backbone'>, requested?: CommitRule): CommitRule {
  if (bigrHeadKind(config) !== 'categorical') return requested ?? 'bernoulli';
  if (requested !== undefined && requested !== 'threshold') {
    throw new ConfigError(
      `commit '${requested}' does not apply to this model (${describeModelKind(config)}): the categorical head samples a whole token and ` +
        `passes it as 0.5 ± c/2 per bit, which only the 'threshold' rule commits exactly (docs/algorithm.md §13.1). Omit commit or pass 'threshold'.`,
    );
  }
  return 'threshold';
}

/**
 * Throws a {@link ConfigError} when `what` (an image application or the masked worker pool) cannot run on a causal
 * model: it regenerates tokens given others anywhere in the grid (or samples by masked unmasking), while a causal
 * backbone predicts token n only from the condition and tokens 0…n−1 (docs/algorithm.md §13.2).
 */
export function requireMaskedModel(config: Pick<BigrModelConfig, 'head' | 'backbone'>, what: string, fix: string): void {
  if (!isCausalModel(config)) return;
  throw new ConfigError(
    `${what} needs a bidirectional (masked-modelling) backbone, but this model has ${describeModelKind(config)}: ` +
      `an autoregressive backbone predicts token n only from the class and tokens 0…n−1, so it cannot condition on tokens after a ` +
      `regenerated one, and it samples token by token in raster order rather than by masked unmasking (docs/algorithm.md §13.2). ${fix}`,
  );
}
