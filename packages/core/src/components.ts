/**
 * Interfaces through which the BiGR components meet. The backbone, the transcoder, the tokenizer and the
 * sampler never import each other: each implements or consumes these, so a third party can swap any part
 * (e.g. drive our sampler with their own predictor, or feed our tokenizer's codes to their generator).
 */
import type { InputSpec, Ops } from './ops.js';
import type { Rng } from './rng.js';
import type { CpuTensor, NamedTensors } from './tensor.js';

/** What a generation is conditioned on. */
export type Condition =
  /** Class indices, one per sample; the null class index means unconditional. */
  | { readonly kind: 'class'; readonly labels: Int32Array }
  /** A given condition embedding per sample, [B, D] (class interpolation, or an external text encoder). */
  | { readonly kind: 'embedding'; readonly vectors: CpuTensor<'float32'> }
  /** Weighted mixture of two classes: w·Emb[a] + (1−w)·Emb[b] (docs/algorithm.md §8.2). */
  | { readonly kind: 'interpolate'; readonly a: Int32Array; readonly b: Int32Array; readonly weight: number };

/**
 * Backbone side of the predictor: per-token features F [B, N, D] for bits [B, N, K] with a mask (1 = masked).
 * With `withNull`, the same bits and mask are also run with the null condition and the result is
 * [2B, N, D] = [cond; uncond] (one batched call, docs/algorithm.md §6).
 */
export interface TokenFeatureModel {
  /** Tokens per image N. */
  readonly tokens: number;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Feature width D. */
  readonly featureDim: number;
  /** Index of the null (unconditional) class. */
  readonly nullClass: number;
  /** Computes features. */
  features(bits: CpuTensor<'float32'>, mask: CpuTensor<'uint8'>, condition: Condition, withNull: boolean): Promise<CpuTensor<'float32'>>;
}

/** One state of a KV-cached autoregressive pass over a causal backbone (docs/algorithm.md §13.3). */
export interface AutoregressiveFeatureState {
  /** Index n (0 … N−1, raster order) of the image token the features predict. */
  readonly position: number;
  /** Features predicting token `position`, [rows, D]: rows = B, or 2B = [cond; uncond] when started with the null half. */
  readonly features: CpuTensor<'float32'>;
  /**
   * Appends the committed token `position` (bits [B, K] as 0/1 floats; the null half gets the same bits) and returns
   * the state predicting the next token. Not valid after the last token.
   */
  advance(bits: CpuTensor<'float32'>): Promise<AutoregressiveFeatureState>;
}

/**
 * Backbone side of autoregressive generation with a key/value cache: a causal backbone that processes one new token
 * per call and keeps the keys and values of the earlier ones (the paper's "KV cache" for its AR models).
 */
export interface AutoregressiveFeatureModel {
  /** Tokens per image N. */
  readonly tokens: number;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Feature width D. */
  readonly featureDim: number;
  /** Index of the null (unconditional) class. */
  readonly nullClass: number;
  /** Runs the condition token(s) and returns the state predicting token 0. Only 'class' conditions are required. */
  start(condition: Condition, withNull: boolean): Promise<AutoregressiveFeatureState>;
}

/** Options of one transcoder sampling call (docs/algorithm.md §4.3). */
export interface BitSamplingOptions {
  /** Classifier-free guidance scale s; 1 skips the unconditional branch. */
  readonly cfgScale: number;
  /** Temperature τ_s dividing the logits. Default 1. */
  readonly temperature?: number;
  /** Inference diffusion steps S. */
  readonly steps?: number;
  /** Source of the Bernoulli uniforms (C order, call by call, as in the official fixtures). */
  readonly rng: Rng;
}

/**
 * Transcoder side of the predictor: from per-token conditions F_cond (and F_unc for CFG), rows [R, D],
 * returns P(z0 = 1) per bit, [R, K] (the last reverse step's probabilities).
 */
export interface BitHeadSampler {
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Runs the reverse process. */
  sampleProbabilities(
    condFeatures: CpuTensor<'float32'>,
    uncondFeatures: CpuTensor<'float32'> | null,
    options: BitSamplingOptions,
  ): Promise<CpuTensor<'float32'>>;
}

/** A request to a {@link MaskedBitPredictor}. */
export interface PredictRequest {
  /** Current bits [B, N, K] as 0/1 floats (values at masked positions are ignored). */
  readonly bits: CpuTensor<'float32'>;
  /** 1 where a token is still masked, [B, N]. */
  readonly mask: CpuTensor<'uint8'>;
  /** Condition of each sample. */
  readonly condition: Condition;
  /** CFG scale for this call. */
  readonly cfgScale: number;
  /**
   * Tokens whose predictions are needed, per sample (sorted ascending). Omitted = all tokens. Predictions for other
   * tokens may be left as 0.5; this lets an implementation skip the transcoder on tokens already fixed.
   */
  readonly needed?: readonly Int32Array[];
  /** Randomness for the transcoder. */
  readonly rng: Rng;
}

/** Anything that predicts per-bit probabilities of masked tokens: BiGR's backbone + transcoder, or a third party's model. */
export interface MaskedBitPredictor {
  /** Tokens per image N. */
  readonly tokens: number;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Null class index (for unconditional generation). */
  readonly nullClass: number;
  /** P(bit = 1), [B, N, K]. */
  predict(request: PredictRequest): Promise<CpuTensor<'float32'>>;
}

/**
 * The per-token head the backbone trains jointly with (the binary transcoder implements it). The loss is
 * built into the backbone's training graph; per-row random inputs (e.g. diffusion timesteps and noisy bits)
 * are drawn on the CPU with the explicit Rng so training is reproducible.
 */
export interface BitHeadLoss {
  /** Extra per-row graph inputs of the loss. */
  readonly lossInputs: readonly InputSpec[];
  /** Draws the extra inputs for targets z0 [R, K] (0/1 floats). */
  sampleLossInputs(targets: CpuTensor<'float32'>, rng: Rng): Record<string, CpuTensor>;
  /**
   * Loss = Σ_rows rowMask·Σ_k loss / (K·Σ rowMask), plus scalar metrics. `features` [R, D], `targets` [R, K],
   * `rowMask` [R] (1 = the row counts, e.g. masked tokens only).
   */
  lossGraph<T>(ops: Ops<T>, features: T, targets: T, rowMask: T, inputs: Readonly<Record<string, T>>): { loss: T; metrics: Record<string, T> };
  /** Freshly initialised parameters (official names, e.g. `denoise_mlp.*`). */
  initParameters(rng: Rng): NamedTensors;
  /** Names of the head's parameters (used for weight-decay groups). */
  readonly parameterNames: readonly string[];
}

/** Image ↔ binary code model (the B-AE implements it). Images are [B, C, H, W] float32 in [0, 1]. */
export interface BinaryTokenizer {
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Latent grid (rows, cols); tokens N = rows·cols, numbered row-major. */
  readonly grid: readonly [number, number];
  /** Image channels and size it expects. */
  readonly imageShape: readonly [channels: number, height: number, width: number];
  /** Encodes to bits [B, N, K] (uint8 0/1) and probabilities [B, N, K]. */
  encode(
    images: CpuTensor<'float32'>,
    options: { mode: 'bernoulli' | 'threshold'; rng?: Rng },
  ): Promise<{ bits: CpuTensor<'uint8'>; probabilities: CpuTensor<'float32'> }>;
  /** Decodes bits [B, N, K] to images [B, C, H, W] (not clamped). */
  decode(bits: CpuTensor<'uint8'> | CpuTensor<'float32'>): Promise<CpuTensor<'float32'>>;
}
