import { required, ConfigError, type Rng } from '@bigr/core';

/**
 * Training mask-ratio schedule (docs/algorithm.md §5.1):
 * - `'cosine'` (released code, default): step ~ U{0…N−1}, n_mask = max(1, ⌊N·cos(π/2·step/N)⌋), one count per batch;
 * - `'mage'` (the paper's citation): ratio ~ truncated normal(μ 0.55, σ 0.25) on [0.5, 1], n_mask = ⌈N·ratio⌉ (MAGE).
 */
export type MaskScheduleKind = 'cosine' | 'mage';

/** Parameters of the MAGE truncated-Gaussian ratio (released ModelArgs `mask_ratio_*`). */
export interface MageRatioOptions {
  /** Mean μ (0.55). */
  readonly mu: number;
  /** Std σ (0.25). */
  readonly std: number;
  /** Lower bound (0.5). */
  readonly min: number;
  /** Upper bound (1.0). */
  readonly max: number;
}

/** Released MAGE ratio parameters. */
export const MAGE_RATIO_DEFAULTS: MageRatioOptions = { mu: 0.55, std: 0.25, min: 0.5, max: 1.0 };

/** n_mask for a schedule step of the cosine schedule: max(1, ⌊N·cos(π/2·step/N)⌋). 256 → 256 / 181 / 1 at step 0 / 128 / 255. */
export function cosineMaskCount(step: number, tokens: number): number {
  return Math.max(1, Math.floor(tokens * Math.cos((Math.PI / 2) * (step / tokens))));
}

/** Draws the number of masked tokens for one batch. */
export function drawMaskCount(tokens: number, rng: Rng, kind: MaskScheduleKind = 'cosine', mage: MageRatioOptions = MAGE_RATIO_DEFAULTS): number {
  if (kind === 'cosine') return cosineMaskCount(rng.int(tokens), tokens);
  if (kind === 'mage') {
    for (let tries = 0; tries < 10000; tries++) {
      const r = mage.mu + mage.std * rng.normal();
      if (r >= mage.min && r <= mage.max) return Math.min(tokens, Math.max(1, Math.ceil(tokens * r)));
    }
    throw new ConfigError(`MAGE mask ratio N(${mage.mu}, ${mage.std}) almost never falls in [${mage.min}, ${mage.max}]; fix the bounds.`);
  }
  throw new ConfigError(`Unknown mask schedule "${String(kind)}"; use 'cosine' or 'mage'.`);
}

/**
 * Marks the `count` positions with the smallest uniforms of one sample (u ~ U(0,1)^N, redrawn on a tie at the
 * boundary, as the official code). Writes 1 (masked) / 0 into `out` [N] at `offset`.
 */
export function drawSampleMask(tokens: number, count: number, rng: Rng, out: Float32Array, offset = 0): void {
  if (!Number.isInteger(count) || count < 0 || count > tokens) throw new ConfigError(`Mask count ${count} must be an integer in [0, ${tokens}].`);
  for (;;) {
    const u = new Float64Array(tokens);
    for (let i = 0; i < tokens; i++) u[i] = rng.uniform();
    const order = Array.from({ length: tokens }, (_, i) => i).sort((a, b) => required(u[a], 'uniform') - required(u[b], 'uniform'));
    // the last masked and the first unmasked position (both exist when 0 < count < tokens) must not tie
    const lastMasked = order[count - 1];
    const firstKept = order[count];
    if (lastMasked !== undefined && firstKept !== undefined && required(u[lastMasked], 'uniform') === required(u[firstKept], 'uniform')) continue;
    out.fill(0, offset, offset + tokens);
    for (const position of order.slice(0, count)) out[offset + position] = 1;
    return;
  }
}

/** A batch of training masks: [B, N] float32, 1 = masked; every row has the same count. */
export interface TrainingMasks {
  /** Masks [B·N] row-major. */
  readonly mask: Float32Array;
  /** Masked tokens per sample. */
  readonly count: number;
}

/** Draws the masks of one training batch (docs/algorithm.md §5.1): one count for the batch, random positions per sample. */
export function drawTrainingMasks(batch: number, tokens: number, rng: Rng, kind: MaskScheduleKind = 'cosine', mage?: MageRatioOptions): TrainingMasks {
  const count = drawMaskCount(tokens, rng, kind, mage);
  const mask = new Float32Array(batch * tokens);
  for (let b = 0; b < batch; b++) drawSampleMask(tokens, count, rng, mask, b * tokens);
  return { mask, count };
}
