import { ConfigError } from '@bigr/core';
import { validateConfig, type BaeConfig } from './config.js';

/** Released B-AE architecture (docs/algorithm.md §1.1) at 256 px with K code bits; 16× downsampling → 16×16 tokens. */
function released(codeDim: number, resolution: number): BaeConfig {
  return validateConfig({
    nf: 128,
    chMult: [1, 1, 2, 2, 4],
    resBlocks: 2,
    attnResolutions: [16],
    embDim: 256,
    codeDim,
    inChannels: 3,
    resolution,
    normFirst: true,
    normGroups: 32,
    normEps: 1e-6,
  });
}

/**
 * Named B-AE configurations.
 *
 * - `bae-256-d16|d20|d24|d32`: the released 256 px models (65.5M parameters for d24, docs/algorithm.md §1.5); weights
 *   converted from `binaryae_ema_*.th` map onto them without renaming (§10.2).
 * - `bae-512-d32`: the released 512 px model (no attention inside the level loop, 32×32 tokens).
 * - `official-tiny`: the fixture configuration (`tiny_bae_config.json`): nf 32, ch_mult [1,1,2,1], 1 res block,
 *   attention at 4, emb 32, K 16, 32 px → 4×4 tokens.
 * - `fashion-mnist-32`: grayscale, 32×32 input. Fashion-MNIST's 28×28 images are **zero-padded by 2 pixels on
 *   every side** to 32×32 (see `padImages`; the background is black = 0, so padding adds no edge). ch_mult [1,2,2]
 *   gives 4× downsampling → 8×8 tokens of K = 16 bits (1024 bits per image); nf 32, attention at 8, emb 64.
 * - `cifar-32`: RGB 32×32, same layout as `fashion-mnist-32` with nf 64, emb 128 and K 24.
 */
export const BAE_PRESETS = {
  'bae-256-d16': released(16, 256),
  'bae-256-d20': released(20, 256),
  'bae-256-d24': released(24, 256),
  'bae-256-d32': released(32, 256),
  'bae-512-d32': released(32, 512),
  'official-tiny': validateConfig({
    nf: 32,
    chMult: [1, 1, 2, 1],
    resBlocks: 1,
    attnResolutions: [4],
    embDim: 32,
    codeDim: 16,
    inChannels: 3,
    resolution: 32,
    normFirst: true,
    normGroups: 32,
    normEps: 1e-6,
  }),
  'fashion-mnist-32': validateConfig({
    nf: 32,
    chMult: [1, 2, 2],
    resBlocks: 1,
    attnResolutions: [8],
    embDim: 64,
    codeDim: 16,
    inChannels: 1,
    resolution: 32,
    normFirst: true,
    normGroups: 32,
    normEps: 1e-6,
  }),
  'cifar-32': validateConfig({
    nf: 64,
    chMult: [1, 2, 2],
    resBlocks: 1,
    attnResolutions: [8],
    embDim: 128,
    codeDim: 24,
    inChannels: 3,
    resolution: 32,
    normFirst: true,
    normGroups: 32,
    normEps: 1e-6,
  }),
} as const satisfies Record<string, BaeConfig>;

/** Name of a built-in preset. */
export type BaePresetName = keyof typeof BAE_PRESETS;

/** Fashion-MNIST pixels of zero padding added on each side to go from 28×28 to the 32×32 preset. */
export const FASHION_MNIST_PAD = 2;

/**
 * Looks up a preset, optionally overriding fields (e.g. `{ codeDim: 20 }`). Throws a ConfigError listing the
 * available names when `name` is unknown.
 */
export function baePreset(name: string, overrides: Partial<BaeConfig> = {}): BaeConfig {
  const base = (BAE_PRESETS as Record<string, BaeConfig>)[name];
  if (!base) {
    throw new ConfigError(`Unknown B-AE preset "${name}". Available presets: ${Object.keys(BAE_PRESETS).join(', ')}.`);
  }
  return validateConfig({ ...base, ...overrides });
}
