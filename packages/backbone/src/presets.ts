import { ConfigError } from '@bigr/core';
import { resolveBackboneConfig, type BackboneConfig, type BackboneConfigInput } from './config.js';

/** Transcoder (denoising MLP) size that goes with a preset (docs/algorithm.md §2.1); informational for the transcoder package. */
export interface TranscoderSizeHint {
  /** Denoiser blocks (`num_block_mlp`). */
  readonly blocks: number;
  /** Denoiser width Dh (`denoise_hidden_dim`). */
  readonly width: number;
}

/** A named model size. */
export interface BackbonePreset {
  /** Preset name. */
  readonly name: string;
  /** Backbone hyper-parameters (released defaults for everything not listed). */
  readonly backbone: BackboneConfigInput;
  /** Matching transcoder size. */
  readonly transcoder: TranscoderSizeHint;
  /** Where the numbers come from. */
  readonly source: string;
}

/**
 * Model sizes. BiGR-L/XL/XXL are paper Table 7 = `llama/gpt.py:BIGR_*` at 256 px (N = 256, K = 24 as in the
 * released d24 checkpoints; pass another `bitsPerToken` for d16/d20/d32). BiGR-L-512 is code-only (N = 1024, K = 32).
 * BiGR-S and BiGR-XS are small sizes for CPU training on this kind of machine; BiGR-tiny is the configuration of the
 * official parity fixtures (`tiny_transformer_config.json`).
 */
export const BACKBONE_PRESETS: Readonly<Record<string, BackbonePreset>> = Object.freeze({
  'BiGR-L': {
    name: 'BiGR-L',
    backbone: { dim: 1024, layers: 24, heads: 16, bitsPerToken: 24, tokens: 256 },
    transcoder: { blocks: 3, width: 1024 },
    source: 'paper Tab.7 / gpt.py:BIGR_L',
  },
  'BiGR-XL': {
    name: 'BiGR-XL',
    backbone: { dim: 1280, layers: 36, heads: 20, bitsPerToken: 24, tokens: 256 },
    transcoder: { blocks: 6, width: 1280 },
    source: 'paper Tab.7 / gpt.py:BIGR_XL',
  },
  'BiGR-XXL': {
    name: 'BiGR-XXL',
    backbone: { dim: 1536, layers: 48, heads: 24, bitsPerToken: 24, tokens: 256 },
    transcoder: { blocks: 8, width: 1536 },
    source: 'paper Tab.7 / gpt.py:BIGR_XXL',
  },
  'BiGR-L-512': {
    name: 'BiGR-L-512',
    backbone: { dim: 1024, layers: 24, heads: 16, bitsPerToken: 32, tokens: 1024 },
    transcoder: { blocks: 6, width: 1280 },
    source: 'gpt.py (512 px, code only)',
  },
  'BiGR-S': {
    name: 'BiGR-S',
    backbone: { dim: 256, layers: 4, heads: 4, bitsPerToken: 16, tokens: 256 },
    transcoder: { blocks: 2, width: 256 },
    source: 'small CPU size (this project)',
  },
  'BiGR-XS': {
    name: 'BiGR-XS',
    backbone: { dim: 128, layers: 2, heads: 2, bitsPerToken: 16, tokens: 64, numClasses: 10 },
    transcoder: { blocks: 2, width: 128 },
    source: 'very small CPU size (this project)',
  },
  'BiGR-tiny': {
    name: 'BiGR-tiny',
    backbone: { dim: 64, layers: 2, heads: 4, bitsPerToken: 16, tokens: 16, numClasses: 10 },
    transcoder: { blocks: 2, width: 64 },
    source: 'official-tiny fixtures (tiny_transformer_config.json)',
  },
});

/** Names of the presets. */
export function backbonePresetNames(): string[] {
  return Object.keys(BACKBONE_PRESETS);
}

/**
 * The resolved backbone config of a preset, with optional overrides (e.g. `{ bitsPerToken: 16 }`). Throws
 * {@link ConfigError} listing the known presets when `name` is unknown.
 */
export function presetConfig(name: string, overrides: Partial<BackboneConfig> = {}): BackboneConfig {
  const preset = BACKBONE_PRESETS[name];
  if (!preset) {
    throw new ConfigError(`Unknown backbone preset "${name}". Known presets: ${backbonePresetNames().join(', ')}.`);
  }
  return resolveBackboneConfig({ ...preset.backbone, ...overrides });
}
