/**
 * Zero-shot class-conditional editing (docs/algorithm.md §8.1): regenerate a region of an image conditioned on a target class.
 */
import { ConfigError } from '@bigr/core';
import { regenerateRegion } from './inpaint.js';
import type { ImageEditOptions, ImageEditResult } from './inpaint.js';
import { PRESETS } from './presets.js';

/** Options of {@link editImage}. */
export interface EditOptions extends ImageEditOptions {
  /** Target class: one for every sample, or one per sample. */
  readonly label: number | ArrayLike<number>;
}

/**
 * Regenerates the tokens inside `region` conditioned on `label` (classifier-free guidance against the null class),
 * keeping the others. Defaults: the app script's s = 2.5, I = 25, τ_g = 0, linear schedule, 'known' budget.
 */
export async function editImage(options: EditOptions): Promise<ImageEditResult> {
  const { label } = options;
  return regenerateRegion(
    options,
    true,
    (batch) => {
      const labels = typeof label === 'number' ? new Int32Array(batch).fill(label) : Int32Array.from(label);
      if (labels.length !== batch) throw new ConfigError(`editImage got ${labels.length} labels for ${batch} samples; pass one label or one per sample.`);
      for (const y of labels) if (!Number.isInteger(y) || y < 0) throw new ConfigError(`Edit label ${y} is not a class index; pass an integer >= 0.`);
      return { kind: 'class', labels };
    },
    { ...PRESETS.edit },
  );
}
