import { ConfigError } from '@bigr/core';

/**
 * What the transcoder predicts (paper Table 2, docs/algorithm.md §4.2):
 * - `'xor'`: logits of "bit flipped", target z_0 ⊕ z_t (released models, `p_flip=True`; default);
 * - `'z0'`: logits of z_0 directly from the noisy input (`p_flip=False` ablation);
 * - `'direct'`: no diffusion at all; the MLP sees a constant input ({@link DIRECT_INPUT_BIT}, τ = 0) and predicts z_0
 *   from the condition alone with BCE (one denoiser call when sampling).
 */
export type TranscoderTarget = 'xor' | 'z0' | 'direct';

/**
 * Training loss (docs/algorithm.md §4.2): `'wbce'` = the paper's weighted BCE (Eq. 5–7; `focal=0, alpha=-1`),
 * `'bce'` = plain unweighted BCE.
 */
export type TranscoderLossKind = 'wbce' | 'bce';

/** Full configuration of the binary transcoder g_φ and its Bernoulli diffusion (docs/algorithm.md §3, §4). */
export interface TranscoderConfig {
  /** Bits per token K (output width and x_t width). */
  readonly bitsPerToken: number;
  /** Width D of the per-token condition F produced by the backbone. */
  readonly featureDim: number;
  /** Hidden width Dh of the denoising MLP. */
  readonly width: number;
  /** Number of adaLN residual blocks (`num_block_mlp`). */
  readonly blocks: number;
  /** Total diffusion steps T of the schedule (256 in the released models). */
  readonly timesteps: number;
  /** Default number of inference steps S (100 in the released models). */
  readonly inferenceSteps: number;
  /** What the logits predict. Default `'xor'`. */
  readonly target: TranscoderTarget;
  /** Loss kind. Default `'wbce'` for `'xor'`; `'bce'` for `'z0'` (the official code forces alpha = 0) and `'direct'`. */
  readonly loss: TranscoderLossKind;
  /** Parameter-name prefix. Default `'denoise_mlp'` (official state-dict names, docs/algorithm.md §10.1). */
  readonly prefix: string;
}

/** Options accepted by {@link resolveTranscoderConfig}: the sizes are required, everything else has a default. */
export type TranscoderConfigInput = Pick<TranscoderConfig, 'bitsPerToken' | 'featureDim' | 'width' | 'blocks'> &
  Partial<Omit<TranscoderConfig, 'bitsPerToken' | 'featureDim' | 'width' | 'blocks'>>;

/** Size of the sinusoidal timestep embedding (`frequency_embedding_size`, docs/algorithm.md §3 step 2). */
export const TIMESTEP_EMBEDDING_DIM = 256;

/**
 * The constant bit value fed as x_t (and τ = 0) for the `'direct'` target: all zeros, i.e. x̃ = −1. (x̃ = 0 would make
 * the residual stream exactly 0 at the zero-initialised start, where no gradient reaches the adaLN conditioning.)
 */
export const DIRECT_INPUT_BIT = 0;

/** Epsilon of the affine-free LayerNorms inside the denoiser (docs/algorithm.md §3). */
export const DENOISER_LN_EPS = 1e-6;

function positiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`Transcoder ${what} is ${String(value)} but must be a positive integer; pass a whole number >= 1.`);
  }
}

/** Fills defaults and validates a transcoder configuration. Throws {@link ConfigError} naming the bad field. */
export function resolveTranscoderConfig(input: TranscoderConfigInput): TranscoderConfig {
  const target = input.target ?? 'xor';
  if (target !== 'xor' && target !== 'z0' && target !== 'direct') {
    throw new ConfigError(`Transcoder target "${String(target)}" is not supported; use 'xor' (default), 'z0' or 'direct'.`);
  }
  const loss = input.loss ?? (target === 'xor' ? 'wbce' : 'bce');
  if (loss !== 'wbce' && loss !== 'bce') {
    throw new ConfigError(`Transcoder loss "${String(loss)}" is not supported; use 'wbce' (default) or 'bce'.`);
  }
  const config: TranscoderConfig = {
    bitsPerToken: input.bitsPerToken,
    featureDim: input.featureDim,
    width: input.width,
    blocks: input.blocks,
    timesteps: input.timesteps ?? 256,
    inferenceSteps: input.inferenceSteps ?? 100,
    target,
    loss,
    prefix: input.prefix ?? 'denoise_mlp',
  };
  positiveInt(config.bitsPerToken, 'bitsPerToken (K)');
  positiveInt(config.featureDim, 'featureDim (D)');
  positiveInt(config.width, 'width (Dh)');
  positiveInt(config.blocks, 'blocks');
  positiveInt(config.timesteps, 'timesteps (T)');
  positiveInt(config.inferenceSteps, 'inferenceSteps (S)');
  if (config.inferenceSteps > config.timesteps) {
    throw new ConfigError(`Transcoder inferenceSteps ${config.inferenceSteps} exceeds timesteps ${config.timesteps}; use S <= T.`);
  }
  return config;
}
