/**
 * The hyper-parameters of one sampling run (docs/algorithm.md §6, §8; paper Table 7) and their defaults.
 */
import { ConfigError } from '@bigr/core';
import type { CfgSchedule } from './classifierFreeGuidance.js';
import type { ConfidenceMeasure } from './confidence.js';
import type { GumbelSchedule } from './gumbel.js';
import { assertOrdering } from './ordering.js';
import type { OrderingStrategy } from './ordering.js';
import type { UnmaskScheduleKind } from './unmaskSchedule.js';

/**
 * Budget of the unmasking schedule when some tokens are given (docs/algorithm.md §8.1). 'known' (official default): the
 * per-iteration counts are computed from the number of **known** tokens, so with more known than masked tokens
 * the surplus picks re-sample the lowest-index fixed tokens, and with fewer the remainder is filled by the
 * fallback pass. 'masked': the counts are computed from the number of masked tokens (the evident intent).
 * Plain generation (everything masked) always uses the masked count N.
 */
export type BudgetMode = 'known' | 'masked';

/** How a chosen token's bits are committed: Bernoulli(P) (default, paper Table 8) or 1[P > 0.5]. */
export type CommitRule = 'bernoulli' | 'threshold';

/** All hyper-parameters of the unmasking loop. Diffusion steps and τ_s belong to the predictor. */
export interface SamplingSettings {
  /** Unmasking iterations I. */
  readonly iterations: number;
  /** CFG scale s (1 = no guidance; the unconditional branch is skipped). */
  readonly cfgScale: number;
  /** CFG schedule over iterations. */
  readonly cfgSchedule: CfgSchedule;
  /** Gumbel temperature τ_g. */
  readonly gumbelTemperature: number;
  /** Gumbel temperature schedule over iterations. */
  readonly gumbelSchedule: GumbelSchedule;
  /** Token ordering (Table 3 ablation). */
  readonly order: OrderingStrategy;
  /** Confidence measure for the 'entropy' order. */
  readonly confidence: ConfidenceMeasure;
  /** Mask-rate curve: 'cosine' for generation, 'linear' for the zero-shot apps. */
  readonly unmaskSchedule: UnmaskScheduleKind;
  /** Schedule budget when tokens are given. */
  readonly budget: BudgetMode;
  /** Commit rule. */
  readonly commit: CommitRule;
}

/**
 * Defaults: paper Table 7 for BiGR-L (s = 2.5, I = 20, τ_g = 0.17, constant schedules), released confidence,
 * entropy order, cosine schedule, official 'known' budget, Bernoulli commits.
 */
export const DEFAULT_SAMPLING: SamplingSettings = Object.freeze({
  iterations: 20,
  cfgScale: 2.5,
  cfgSchedule: 'constant',
  gumbelTemperature: 0.17,
  gumbelSchedule: 'constant',
  order: 'entropy',
  confidence: 'margin',
  unmaskSchedule: 'cosine',
  budget: 'known',
  commit: 'bernoulli',
});

/** Names of the {@link SamplingSettings} fields. */
export const SETTING_KEYS: readonly (keyof SamplingSettings)[] = [
  'iterations',
  'cfgScale',
  'cfgSchedule',
  'gumbelTemperature',
  'gumbelSchedule',
  'order',
  'confidence',
  'unmaskSchedule',
  'budget',
  'commit',
];

/** Largest accepted number of unmasking iterations (bounds the per-iteration schedules and the run time). */
export const MAX_ITERATIONS = 65536;

/** Fills missing settings from `base` (default {@link DEFAULT_SAMPLING}) and validates them. */
export function resolveSettings(partial: Partial<SamplingSettings>, base: SamplingSettings = DEFAULT_SAMPLING): SamplingSettings {
  const picked: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) picked[key] = partial[key] !== undefined ? partial[key] : base[key];
  const s = picked as unknown as SamplingSettings;
  if (!Number.isInteger(s.iterations) || s.iterations < 1 || s.iterations > MAX_ITERATIONS) {
    throw new ConfigError(
      `iterations = ${s.iterations}; expected an integer in 1..${MAX_ITERATIONS} such as 20 ` +
        `(each iteration unmasks at least one token, so more than the token count adds nothing).`,
    );
  }
  if (!Number.isFinite(s.cfgScale) || s.cfgScale < 0) throw new ConfigError(`cfgScale = ${s.cfgScale}; expected a finite number >= 0 such as 2.5.`);
  if (!['constant', 'linear'].includes(s.cfgSchedule))
    throw new ConfigError(`cfgSchedule = ${JSON.stringify(s.cfgSchedule)}; expected 'constant' or 'linear'.`);
  if (!Number.isFinite(s.gumbelTemperature) || s.gumbelTemperature < 0)
    throw new ConfigError(`gumbelTemperature = ${s.gumbelTemperature}; expected a number >= 0.`);
  if (!['constant', 'down', 'up'].includes(s.gumbelSchedule))
    throw new ConfigError(`gumbelSchedule = ${JSON.stringify(s.gumbelSchedule)}; expected 'constant', 'down' or 'up'.`);
  assertOrdering(s.order);
  if (!['margin', 'entropy'].includes(s.confidence)) throw new ConfigError(`confidence = ${JSON.stringify(s.confidence)}; expected 'margin' or 'entropy'.`);
  if (!['cosine', 'linear'].includes(s.unmaskSchedule))
    throw new ConfigError(`unmaskSchedule = ${JSON.stringify(s.unmaskSchedule)}; expected 'cosine' or 'linear'.`);
  if (!['known', 'masked'].includes(s.budget)) throw new ConfigError(`budget = ${JSON.stringify(s.budget)}; expected 'known' (official) or 'masked'.`);
  if (!['bernoulli', 'threshold'].includes(s.commit)) throw new ConfigError(`commit = ${JSON.stringify(s.commit)}; expected 'bernoulli' or 'threshold'.`);
  return s;
}
