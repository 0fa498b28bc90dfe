/**
 * Denoiser sizes of the released models (paper Table 7 = docs/algorithm.md §2.1).
 */
import { ConfigError } from '@bigr/core';
import type { TranscoderConfig, TranscoderConfigInput } from './config.js';
import { resolveTranscoderConfig } from './config.js';

/** Names of the transcoder presets. */
export type TranscoderPresetName = 'BiGR-L' | 'BiGR-XL' | 'BiGR-XXL' | 'BiGR-L-512';

/** Sizes of one preset: backbone width D (= the feature width), denoiser width Dh and blocks. */
export interface TranscoderPreset {
  /** Feature width D (the backbone's width). */
  readonly featureDim: number;
  /** Denoiser width Dh. */
  readonly width: number;
  /** Denoiser blocks. */
  readonly blocks: number;
}

/**
 * Table 7 presets (L: 1024×3, XL: 1280×6, XXL: 1536×8) plus the code-only BiGR-L-512 (D 1024, denoiser 1280×6).
 */
export const TRANSCODER_PRESETS: Readonly<Record<TranscoderPresetName, TranscoderPreset>> = Object.freeze({
  'BiGR-L': { featureDim: 1024, width: 1024, blocks: 3 },
  'BiGR-XL': { featureDim: 1280, width: 1280, blocks: 6 },
  'BiGR-XXL': { featureDim: 1536, width: 1536, blocks: 8 },
  'BiGR-L-512': { featureDim: 1024, width: 1280, blocks: 6 },
});

/**
 * A full config from a preset name and the code width K; any other field may be overridden.
 * Throws {@link ConfigError} for an unknown name.
 */
export function transcoderPreset(
  name: TranscoderPresetName,
  options: { bitsPerToken: number } & Partial<Omit<TranscoderConfigInput, 'bitsPerToken'>>,
): TranscoderConfig {
  const preset = (TRANSCODER_PRESETS as Record<string, TranscoderPreset | undefined>)[name];
  if (!preset) {
    throw new ConfigError(`Unknown transcoder preset "${String(name)}"; use one of ${Object.keys(TRANSCODER_PRESETS).join(', ')}.`);
  }
  return resolveTranscoderConfig({ ...preset, ...options });
}
