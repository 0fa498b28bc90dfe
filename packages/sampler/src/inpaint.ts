/**
 * Zero-shot inpainting and outpainting (docs/algorithm.md §8.1): regenerate a region of an image's binary code while the
 * other tokens stay fixed, unconditionally (null class).
 */
import { ConfigError, CpuTensor, dims3, dims4, ShapeError } from '@bigr/core';
import type { BinaryTokenizer, Condition, LongRunningOptions, MaskedBitPredictor, Rng, Tensor } from '@bigr/core';
import { unconditional } from './conditions.js';
import { sampleTokens } from './generate.js';
import type { SampleResult } from './generate.js';
import { invertMask, resolveRegionMask } from './masks.js';
import type { RegionMask } from './masks.js';
import { PRESETS } from './presets.js';
import { resolveSettings } from './settings.js';
import type { SamplingSettings } from './settings.js';

/** Options shared by the image-editing applications. Unset settings default to the app script's preset. */
export interface ImageEditOptions extends LongRunningOptions, Partial<SamplingSettings> {
  /** Predicts bit probabilities. */
  readonly predictor: MaskedBitPredictor;
  /** Encodes the image (B-AE, Bernoulli bits) and decodes the result. Required with `image`. */
  readonly tokenizer?: BinaryTokenizer;
  /**
   * Pre-processed image(s) [1 or B, C, H, W] in [0, 1] at the tokenizer's size (center-cropping is the caller's job).
   * A single image is repeated to `samples` rows before encoding, so each sample gets its own Bernoulli code.
   */
  readonly image?: Tensor<'float32'>;
  /** Already encoded bits [1 or B, N, K] (0/1), instead of `image`. */
  readonly bits?: Tensor<'uint8'>;
  /** The region (see each application for whether it is regenerated or kept). */
  readonly region: RegionMask;
  /** Samples to draw when one image is given. Default 8 (the app scripts). */
  readonly samples?: number;
  /** Randomness for encoding and sampling. */
  readonly rng: Rng;
  /** Record per-iteration snapshots. */
  readonly snapshots?: boolean;
  /** See {@link SampleTokensOptions.predictOnlyNeeded}. */
  readonly predictOnlyNeeded?: boolean;
}

/** Result of an image-editing application. */
export interface ImageEditResult extends SampleResult {
  /** Tokens that were regenerated, [B, N] (1 = regenerated, 0 = kept from the source). */
  readonly regenerated: CpuTensor<'uint8'>;
  /** The source bits [B, N, K] the kept tokens come from. */
  readonly sourceBits: CpuTensor<'uint8'>;
}

/** Encodes or repeats the source into `batch` rows of bits [batch, N, K]. */
export async function sourceBits(
  options: Pick<ImageEditOptions, 'tokenizer' | 'image' | 'bits' | 'rng'>,
  batch: number,
  tokens: number,
  bitsPerToken: number,
): Promise<CpuTensor<'uint8'>> {
  const { tokenizer, image, bits, rng } = options;
  const exactlyOne = 'Pass exactly one of `image` (to encode) or `bits` (already encoded).';
  if (bits) {
    if (image !== undefined) throw new ConfigError(exactlyOne);
    if (bits.shape.length !== 3 || bits.shape[1] !== tokens || bits.shape[2] !== bitsPerToken || (bits.shape[0] !== 1 && bits.shape[0] !== batch)) {
      throw new ShapeError(`Source bits have shape [${bits.shape.join(', ')}]; expected [1 or ${batch}, ${tokens}, ${bitsPerToken}].`);
    }
    return repeatRows(bits.data, dims3(bits.shape, 'source bits')[0], batch, tokens * bitsPerToken, [batch, tokens, bitsPerToken]);
  }
  if (!image) throw new ConfigError(exactlyOne);
  if (!tokenizer) throw new ConfigError('An `image` needs a `tokenizer` to encode it; pass the B-AE or pre-encoded `bits`.');
  const [C, H, W] = tokenizer.imageShape;
  const s = image.shape;
  if (s.length !== 4 || s[1] !== C || s[2] !== H || s[3] !== W || (s[0] !== 1 && s[0] !== batch)) {
    throw new ShapeError(
      `Image has shape [${s.join(', ')}]; expected [1 or ${batch}, ${C}, ${H}, ${W}] (center-crop and resize it to the tokenizer's size first).`,
    );
  }
  if (tokenizer.grid[0] * tokenizer.grid[1] !== tokens || tokenizer.bitsPerToken !== bitsPerToken) {
    throw new ConfigError(
      `Tokenizer gives ${tokenizer.grid[0] * tokenizer.grid[1]} tokens × ${tokenizer.bitsPerToken} bits but the predictor expects ${tokens} × ${bitsPerToken}.`,
    );
  }
  const images = new CpuTensor<'float32'>(repeatRows(image.data, dims4(s, 'source image')[0], batch, C * H * W, [batch, C, H, W]).data, [batch, C, H, W]);
  const { bits: encoded } = await tokenizer.encode(images, { mode: 'bernoulli', rng });
  return new CpuTensor(Uint8Array.from(encoded.data), [batch, tokens, bitsPerToken]);
}

function repeatRows<A extends Uint8Array | Float32Array>(
  data: A,
  rows: number,
  batch: number,
  rowSize: number,
  shape: number[],
): CpuTensor<A extends Uint8Array ? 'uint8' : 'float32'> {
  const out = new (data.constructor as new (n: number) => A)(batch * rowSize);
  for (let b = 0; b < batch; b++) {
    const src = rows === 1 ? 0 : b;
    out.set(data.subarray(src * rowSize, (src + 1) * rowSize), b * rowSize);
  }
  return new CpuTensor(out as never, shape);
}

function batchOf(options: ImageEditOptions): number {
  const rows = options.image?.shape[0] ?? options.bits?.shape[0] ?? 1;
  if (rows > 1) {
    if (options.samples !== undefined && options.samples !== rows)
      throw new ConfigError(`samples = ${options.samples} but ${rows} source images were given; omit samples or pass one image.`);
    return rows;
  }
  const samples = options.samples ?? 8;
  if (!Number.isInteger(samples) || samples < 1) throw new ConfigError(`samples = ${samples}; expected a positive integer.`);
  return samples;
}

/**
 * Shared body of inpaint, outpaint and edit: encode, build the token mask (1 = regenerate), run the unmasking loop
 * from the known tokens with `condition` (one per source row, repeated to the batch).
 */
export async function regenerateRegion(
  options: ImageEditOptions,
  regenerateInside: boolean,
  condition: (batch: number, nullClass: number) => Condition,
  defaults: SamplingSettings,
): Promise<ImageEditResult> {
  const { predictor } = options;
  const batch = batchOf(options);
  const N = predictor.tokens;
  const K = predictor.bitsPerToken;
  const grid = options.tokenizer?.grid ?? squareGrid(N);
  const imageSize = options.tokenizer ? ([options.tokenizer.imageShape[1], options.tokenizer.imageShape[2]] as const) : undefined;
  const region = resolveRegionMask(options.region, grid, batch, imageSize);
  const regenerated = regenerateInside ? region : invertMask(region);
  const known = await sourceBits(options, batch, N, K);
  const settings = resolveSettings(options, defaults);
  const result = await sampleTokens({
    ...settings,
    predictor,
    condition: condition(batch, predictor.nullClass),
    rng: options.rng,
    initialBits: known,
    initialMask: regenerated,
    ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
    ...(options.snapshots !== undefined ? { snapshots: options.snapshots } : {}),
    ...(options.predictOnlyNeeded !== undefined ? { predictOnlyNeeded: options.predictOnlyNeeded } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { ...result, regenerated, sourceBits: known };
}

/** Grid of a square token count (used when no tokenizer gives the grid). */
export function squareGrid(tokens: number): readonly [number, number] {
  const side = Math.round(Math.sqrt(tokens));
  if (side * side !== tokens) throw new ConfigError(`Cannot infer a square grid for ${tokens} tokens; pass a tokenizer (its grid) or a token mask.`);
  return [side, side];
}

/**
 * Inpainting: regenerates the tokens inside `region` (white / the boxes), keeps the rest, null class. Defaults are
 * the app script's: s = 2.5, I = 25, τ_g = 0, linear schedule, 'known' budget (docs/algorithm.md §8.1 QUIRK: with more known
 * than masked tokens, the surplus picks re-sample the lowest-index known tokens; pass `budget: 'masked'` to keep
 * every known token).
 */
export async function inpaint(options: ImageEditOptions): Promise<ImageEditResult> {
  return regenerateRegion(options, true, (batch, nullClass) => unconditional(batch, nullClass), { ...PRESETS.inpaint });
}

/**
 * Outpainting: keeps the tokens inside `region` and regenerates everything else, null class (the official mask is
 * inverted: white = keep). Typically fewer known than masked tokens, so with the 'known' budget the remainder is
 * filled by the fallback pass.
 */
export async function outpaint(options: ImageEditOptions): Promise<ImageEditResult> {
  return regenerateRegion(options, false, (batch, nullClass) => unconditional(batch, nullClass), { ...PRESETS.outpaint });
}
