import { ConfigError } from '@bigr/core';

/**
 * Hyper-parameters of the binary autoencoder (B-AE), docs/algorithm.md §1.1. Names follow the official hparams
 * (`nf`, `ch_mult`, `res_blocks`, `attn_resolutions`, `emb_dim`, `codebook_size`, `n_channels`, `img_size`,
 * `norm_first`) in camelCase. They fully determine the parameter names and shapes (§10.2); the spatial size an
 * encoder or decoder graph runs at is chosen separately (any multiple of {@link downsampleFactor}).
 */
export interface BaeConfig {
  /** Base channel count `nf` (128 in the released models). */
  readonly nf: number;
  /** Channel multiplier per resolution level `ch_mult` ([1,1,2,2,4] released); levels − 1 downsamplings. */
  readonly chMult: readonly number[];
  /** ResBlocks per level `res_blocks` (2 released). */
  readonly resBlocks: number;
  /**
   * Resolutions (relative to {@link BaeConfig.resolution}) whose levels get an AttnBlock after each ResBlock
   * (`attn_resolutions`, [16] released).
   */
  readonly attnResolutions: readonly number[];
  /** Width of the pre-quantizer feature and of the code embedding `emb_dim` (256 released). */
  readonly embDim: number;
  /** Code bits per token K (`codebook_size`: 16, 20, 24 or 32 released; any value ≥ 1). */
  readonly codeDim: number;
  /** Image channels `n_channels`: 3 for RGB, 1 for grayscale. */
  readonly inChannels: number;
  /**
   * Nominal image size `img_size`. Only used to decide which levels carry attention (as in the official
   * constructor); graphs may run at any size that is a multiple of the downsampling factor.
   */
  readonly resolution: number;
  /** `norm_first`: a GroupNorm before the decoder's first conv (true for every released model). */
  readonly normFirst: boolean;
  /** GroupNorm groups (32 in the official code, docs/algorithm.md §1.2); every channel count must be divisible by it. */
  readonly normGroups: number;
  /** GroupNorm epsilon (1e-6 official). */
  readonly normEps: number;
}

/** Total spatial downsampling factor 2^(levels − 1) (16 for the released models). */
export function downsampleFactor(config: BaeConfig): number {
  return 2 ** (config.chMult.length - 1);
}

/** Latent grid (rows, cols) for an image of `height`×`width`; throws unless both are multiples of the factor. */
export function latentGrid(config: BaeConfig, height: number, width: number): [number, number] {
  const f = downsampleFactor(config);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0 || height % f !== 0 || width % f !== 0) {
    throw new ConfigError(
      `Image size ${height}x${width} is not supported by this B-AE: both sides must be positive multiples of the downsampling factor ${f} ` +
        `(2^(${config.chMult.length} levels - 1)). ` +
        `Pad or resize the images, e.g. to ${Math.max(f, Math.ceil(height / f) * f)}x${Math.max(f, Math.ceil(width / f) * f)}.`,
    );
  }
  return [height / f, width / f];
}

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(`B-AE config "${name}" is ${JSON.stringify(v)} but must be a positive integer.`);
  }
}

/** Every distinct channel count a config uses (for GroupNorm divisibility checks). */
function normalisedChannelCounts(config: BaeConfig): number[] {
  const counts = new Set<number>();
  for (const m of config.chMult) counts.add(config.nf * m);
  counts.add(config.nf);
  if (config.normFirst) counts.add(config.embDim);
  return [...counts];
}

/**
 * Validates a config and returns a frozen copy. Messages name the bad field, the expected value and the fix.
 */
export function validateConfig(config: BaeConfig): BaeConfig {
  if (typeof config !== 'object' || config === null) throw new ConfigError('B-AE config must be an object (see BaeConfig).');
  positiveInt('nf', config.nf);
  positiveInt('resBlocks', config.resBlocks);
  positiveInt('embDim', config.embDim);
  positiveInt('codeDim', config.codeDim);
  positiveInt('inChannels', config.inChannels);
  positiveInt('resolution', config.resolution);
  positiveInt('normGroups', config.normGroups);
  if (!Array.isArray(config.chMult) || config.chMult.length < 1) {
    throw new ConfigError(`B-AE config "chMult" must be a non-empty array of positive integers, got ${JSON.stringify(config.chMult)}.`);
  }
  config.chMult.forEach((m, i) => {
    positiveInt(`chMult[${i}]`, m);
  });
  if (!Array.isArray(config.attnResolutions)) {
    throw new ConfigError(`B-AE config "attnResolutions" must be an array of resolutions (e.g. [16]), got ${JSON.stringify(config.attnResolutions)}.`);
  }
  if (typeof config.normFirst !== 'boolean') throw new ConfigError(`B-AE config "normFirst" must be true or false, got ${JSON.stringify(config.normFirst)}.`);
  if (typeof config.normEps !== 'number' || !(config.normEps > 0)) {
    throw new ConfigError(`B-AE config "normEps" must be a positive number (1e-6 official), got ${JSON.stringify(config.normEps)}.`);
  }
  for (const c of normalisedChannelCounts(config)) {
    if (c % config.normGroups !== 0) {
      throw new ConfigError(
        `B-AE config: GroupNorm with ${config.normGroups} groups cannot normalise ${c} channels (not divisible). ` +
          `Choose nf, chMult and embDim so that every channel count is a multiple of normGroups, or lower normGroups.`,
      );
    }
  }
  const f = downsampleFactor(config);
  if (config.resolution % f !== 0) {
    throw new ConfigError(`B-AE config "resolution" ${config.resolution} must be a multiple of the downsampling factor ${f}.`);
  }
  return Object.freeze({ ...config, chMult: Object.freeze([...config.chMult]), attnResolutions: Object.freeze([...config.attnResolutions]) });
}

/**
 * Reads a config from the official hparams naming (`nf`, `ch_mult`, `res_blocks`, `attn_resolutions`, `emb_dim`,
 * `codebook_size`, `n_channels`, `img_size`, `norm_first`, plus our `norm_groups`, `norm_eps`), e.g. the fixture's `tiny_bae_config.json` `hparams`.
 * Missing fields take the released defaults (docs/algorithm.md §1.1).
 */
export function configFromHparams(h: Readonly<Record<string, unknown>>): BaeConfig {
  const num = (k: string, d: number): number => (h[k] === undefined ? d : (h[k] as number));
  return validateConfig({
    nf: num('nf', 128),
    chMult: (h['ch_mult'] as number[] | undefined) ?? [1, 1, 2, 2, 4],
    resBlocks: num('res_blocks', 2),
    attnResolutions: (h['attn_resolutions'] as number[] | undefined) ?? [16],
    embDim: num('emb_dim', 256),
    codeDim: num('codebook_size', 24),
    inChannels: num('n_channels', 3),
    resolution: num('img_size', 256),
    normFirst: h['norm_first'] === undefined ? true : Boolean(h['norm_first']),
    normGroups: num('norm_groups', 32),
    normEps: num('norm_eps', 1e-6),
  });
}

/** The inverse of {@link configFromHparams}: official hparams names, for saving next to weights. */
export function configToHparams(config: BaeConfig): Record<string, unknown> {
  return {
    nf: config.nf,
    ch_mult: [...config.chMult],
    res_blocks: config.resBlocks,
    attn_resolutions: [...config.attnResolutions],
    emb_dim: config.embDim,
    codebook_size: config.codeDim,
    n_channels: config.inChannels,
    img_size: config.resolution,
    norm_first: config.normFirst,
    norm_groups: config.normGroups,
    norm_eps: config.normEps,
  };
}
