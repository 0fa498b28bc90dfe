import { ConfigError } from '@bigr/core';

/**
 * Hyper-parameters of the BiGR backbone (docs/algorithm.md §2.2). Field names are camel-cased versions of the official
 * `ModelArgs`; defaults are the released values (see {@link resolveBackboneConfig}).
 */
export interface BackboneConfig {
  /** Transformer width D (`dim`). */
  readonly dim: number;
  /** Number of transformer blocks L (`n_layer`). */
  readonly layers: number;
  /** Attention heads (`n_head`); head_dim = dim / heads. Plain MHA (n_kv_head = n_head). */
  readonly heads: number;
  /** Bits per token K (`binary_size`). */
  readonly bitsPerToken: number;
  /** Image tokens N (`block_size` = `seq_len`); must be a perfect square (the grid is √N × √N, row-major). */
  readonly tokens: number;
  /** Number of real classes (`num_classes`); the null class index equals this value. */
  readonly numClasses: number;
  /** Condition tokens prepended to the sequence (`cls_token_num`, 1 for class conditioning). */
  readonly clsTokenNum: number;
  /** SwiGLU hidden size is rounded up to a multiple of this (`multiple_of`, 256). */
  readonly multipleOf: number;
  /** Optional SwiGLU hidden multiplier (`ffn_dim_multiplier`, null in every release). */
  readonly ffnDimMultiplier: number | null;
  /** RoPE base (`rope_base`, 10000). */
  readonly ropeBase: number;
  /** RMSNorm epsilon (`norm_eps`, 1e-5). */
  readonly normEps: number;
  /** Std of the normal initialisation of linear and embedding weights (`initializer_range`, 0.02). */
  readonly initializerRange: number;
  /** Probability that a training label is replaced by the null class (`class_dropout_prob`, 0.1). */
  readonly classDropoutProb: number;
  /** Dropout on the whole input sequence (`token_dropout_p`; effective released value 0.0). */
  readonly tokenDropout: number;
  /** Dropout on attention probabilities (`attn_dropout_p`, 0). */
  readonly attnDropout: number;
  /** Dropout after the attention output projection (`resid_dropout_p`, 0.1). */
  readonly residDropout: number;
  /** Dropout after the SwiGLU output projection (`ffn_dropout_p`, 0.1). */
  readonly ffnDropout: number;
  /** Shared adaLN conditioning with per-layer offsets (`use_adaLN`, true in every release). */
  readonly useAdaLN: boolean;
  /**
   * Attention pattern (docs/algorithm.md §13.2): `'bidirectional'` (BiGR, masked modelling; default) or `'causal'`
   * (the paper's AR variants S0/S2: each position attends to itself and earlier positions, and the features of token n
   * are read at the position before it, so token n is predicted from the condition and tokens 0…n−1).
   */
  readonly attention: AttentionKind;
}

/** Attention pattern of a backbone: full (masked modelling) or causal (autoregressive, next-token prediction). */
export type AttentionKind = 'bidirectional' | 'causal';

/** The required fields of a {@link BackboneConfig}; all others take the released defaults. */
export type BackboneConfigInput = Pick<BackboneConfig, 'dim' | 'layers' | 'heads' | 'bitsPerToken' | 'tokens'> & Partial<BackboneConfig>;

/** Released default values of the optional fields (docs/algorithm.md §2.2). */
export const BACKBONE_DEFAULTS = {
  numClasses: 1000,
  clsTokenNum: 1,
  multipleOf: 256,
  ffnDimMultiplier: null,
  ropeBase: 10000,
  normEps: 1e-5,
  initializerRange: 0.02,
  classDropoutProb: 0.1,
  tokenDropout: 0.0,
  attnDropout: 0.0,
  residDropout: 0.1,
  ffnDropout: 0.1,
  useAdaLN: true,
  attention: 'bidirectional',
} as const satisfies Partial<BackboneConfig>;

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`Backbone config "${name}" is ${v}; it must be an integer >= ${min}.`);
}

function checkRate(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new ConfigError(`Backbone config "${name}" is ${v}; it must be a probability in [0, 1).`);
}

/** Fills defaults and validates a config; throws {@link ConfigError} naming the bad field. */
export function resolveBackboneConfig(input: BackboneConfigInput): BackboneConfig {
  const c: BackboneConfig = { ...BACKBONE_DEFAULTS, ...input };
  checkInt('dim', c.dim, 1);
  checkInt('layers', c.layers, 1);
  checkInt('heads', c.heads, 1);
  checkInt('bitsPerToken', c.bitsPerToken, 1);
  checkInt('tokens', c.tokens, 1);
  checkInt('numClasses', c.numClasses, 1);
  checkInt('clsTokenNum', c.clsTokenNum, 1);
  checkInt('multipleOf', c.multipleOf, 1);
  if (c.dim % c.heads !== 0) {
    throw new ConfigError(`Backbone dim ${c.dim} is not divisible by heads ${c.heads}; choose heads so that dim / heads is an integer.`);
  }
  const hd = c.dim / c.heads;
  if (hd % 4 !== 0) {
    throw new ConfigError(`Backbone head_dim ${hd} (dim ${c.dim} / heads ${c.heads}) must be a multiple of 4 for the 2-D RoPE (docs/algorithm.md §2.5).`);
  }
  const g = Math.round(Math.sqrt(c.tokens));
  if (g * g !== c.tokens) {
    throw new ConfigError(`Backbone tokens ${c.tokens} is not a perfect square; the 2-D RoPE needs a √N × √N grid (e.g. 256 = 16×16).`);
  }
  for (const k of ['classDropoutProb', 'tokenDropout', 'attnDropout', 'residDropout', 'ffnDropout'] as const) checkRate(k, c[k]);
  if (!(c.normEps > 0)) throw new ConfigError(`Backbone normEps ${c.normEps} must be > 0 (released 1e-5).`);
  if (!(c.ropeBase > 1)) throw new ConfigError(`Backbone ropeBase ${c.ropeBase} must be > 1 (released 10000).`);
  if (c.attention !== 'bidirectional' && c.attention !== 'causal') {
    throw new ConfigError(
      `Backbone attention ${JSON.stringify(c.attention)} is not supported; use 'bidirectional' (BiGR, default) or 'causal' (autoregressive).`,
    );
  }
  if (c.ffnDimMultiplier !== null && !(c.ffnDimMultiplier > 0)) {
    throw new ConfigError(`Backbone ffnDimMultiplier ${c.ffnDimMultiplier} must be null or > 0.`);
  }
  return Object.freeze(c);
}

/** Head dimension D / heads. */
export function headDim(config: BackboneConfig): number {
  return config.dim / config.heads;
}

/** Side of the token grid, √N. */
export function gridSide(config: BackboneConfig): number {
  return Math.round(Math.sqrt(config.tokens));
}

/** Index of the null (unconditional) class: `numClasses`. */
export function nullClassIndex(config: BackboneConfig): number {
  return config.numClasses;
}

/**
 * SwiGLU hidden size (docs/algorithm.md §2.2): h = int(2·4D/3), then int(multiplier·h) if set, then rounded **up** to a
 * multiple of `multipleOf`. 2816 / 3584 / 4096 for D = 1024 / 1280 / 1536.
 */
export function ffnHiddenSize(dim: number, multipleOf = 256, ffnDimMultiplier: number | null = null): number {
  let h = Math.trunc((2 * 4 * dim) / 3);
  if (ffnDimMultiplier !== null) h = Math.trunc(ffnDimMultiplier * h);
  return multipleOf * Math.ceil(h / multipleOf);
}

/** SwiGLU hidden size of a config. */
export function configFfnHidden(config: BackboneConfig): number {
  return ffnHiddenSize(config.dim, config.multipleOf, config.ffnDimMultiplier);
}
