/**
 * Zero-shot image enrichment (docs/algorithm.md §8.3): upsample a low-resolution image, encode it, then regenerate the
 * four 2×2 sub-lattices of the token grid in chained rounds.
 */
import { ConfigError, CpuTensor, shuffleInPlace, throwIfAborted } from '@bigr/core';
import type { BinaryTokenizer, LongRunningOptions, MaskedBitPredictor, Rng, Tensor } from '@bigr/core';
import { unconditional } from './conditions.js';
import { sampleTokens } from './generate.js';
import { sourceBits, squareGrid } from './inpaint.js';
import { PRESETS } from './presets.js';
import { resizeBilinear } from './resize.js';
import { resolveSettings } from './settings.js';
import type { SamplingSettings } from './settings.js';

/** Options of {@link enrichImage}. Unset settings default to the script's: I = 20, τ_g = 0, linear, 'known' budget. */
export interface EnrichOptions extends LongRunningOptions, Partial<SamplingSettings> {
  /** Predicts bit probabilities. */
  readonly predictor: MaskedBitPredictor;
  /** B-AE: encodes the upsampled image and decodes each round. Required with `image`. */
  readonly tokenizer?: BinaryTokenizer;
  /**
   * Low-resolution image(s) [B, C, h, w] in [0, 1] (the official script center-crops to half the model size, 128 px);
   * upsampled bilinearly to the tokenizer's size. Pass `bits` instead to start from codes.
   */
  readonly image?: Tensor<'float32'>;
  /** Codes [B, N, K] to enrich, instead of `image`. */
  readonly bits?: Tensor<'uint8'>;
  /** Chained rounds. Default 4. */
  readonly rounds?: number;
  /** Randomness for encoding; each round uses `roundRng(round)`. */
  readonly rng: Rng;
  /**
   * Stream for a round (the script re-seeds torch, NumPy and `random` with seed + round). Default
   * `rng.fork('enrich-round-' + round)`.
   */
  readonly roundRng?: (round: number) => Rng;
  /** See {@link SampleTokensOptions.predictOnlyNeeded}. */
  readonly predictOnlyNeeded?: boolean;
}

/** One round's output. */
export interface EnrichRound {
  /** Codes after the round [B, N, K]. */
  readonly codes: CpuTensor<'uint8'>;
  /** Decoded images when a tokenizer was given. */
  readonly images?: CpuTensor<'float32'>;
  /** The 2×2 offsets p = 2·dy + dx in the order they were regenerated. */
  readonly offsetOrder: readonly number[];
}

/** Result of {@link enrichImage}. */
export interface EnrichResult {
  /** The encoded, upsampled input [B, N, K]. */
  readonly initialCodes: CpuTensor<'uint8'>;
  /** Each round's output, chained. */
  readonly rounds: readonly EnrichRound[];
}

/** Python `random.shuffle` (Fisher–Yates from the end) driven by `rng.int`: the core helper. */
export { shuffleInPlace };

/** Token mask [B, N] of the sub-lattice (2i + dy, 2j + dx) for offset p = 2·dy + dx. */
export function subLatticeMask(offset: number, grid: readonly [number, number], batch: number): CpuTensor<'uint8'> {
  const [rows, cols] = grid;
  const dy = Math.floor(offset / 2);
  const dx = offset % 2;
  const one = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (r % 2 === dy && c % 2 === dx) one[r * cols + c] = 1;
  const out = new Uint8Array(batch * rows * cols);
  for (let b = 0; b < batch; b++) out.set(one, b * rows * cols);
  return new CpuTensor(out, [batch, rows * cols]);
}

/**
 * Image enrichment as the released code does it: upsample (bilinear, align_corners = False) to the tokenizer's size,
 * encode with Bernoulli bits, then for each round shuffle the four 2×2 offsets and, for each in turn, inpaint that
 * sub-lattice (a quarter of the tokens) with the null class, chaining every result into the next. Each round's
 * codes (and images) are returned. Note the 'known' budget quirk applies (192 known vs 64 masked at 16×16): after
 * the masked tokens are filled, the remaining picks re-sample the lowest-index known tokens. Progress events
 * count sub-lattice passes (task 'enrich').
 */
export async function enrichImage(options: EnrichOptions): Promise<EnrichResult> {
  const { predictor, tokenizer, rng } = options;
  const rounds = options.rounds ?? 4;
  if (!Number.isInteger(rounds) || rounds < 1) throw new ConfigError(`rounds = ${rounds}; expected a positive integer such as 4.`);
  const N = predictor.tokens;
  const K = predictor.bitsPerToken;
  const grid = tokenizer?.grid ?? squareGrid(N);
  let image = options.image;
  if (image && tokenizer) {
    const [, H, W] = tokenizer.imageShape;
    if (image.shape[2] !== H || image.shape[3] !== W) image = resizeBilinear(image, H, W);
  }
  const batch = image?.shape[0] ?? options.bits?.shape[0] ?? 1;
  let codes = await sourceBits(
    { ...(tokenizer ? { tokenizer } : {}), ...(image ? { image } : {}), ...(options.bits ? { bits: options.bits } : {}), rng },
    batch,
    N,
    K,
  );
  const initialCodes = codes;
  const settings: SamplingSettings = resolveSettings(options, PRESETS.enrich);
  const condition = unconditional(batch, predictor.nullClass);
  const out: EnrichRound[] = [];
  const total = rounds * 4;
  for (let round = 0; round < rounds; round++) {
    const roundRng = options.roundRng ? options.roundRng(round) : rng.fork(`enrich-round-${round}`);
    const offsets = shuffleInPlace([0, 1, 2, 3], roundRng);
    for (const [g, offset] of offsets.entries()) {
      throwIfAborted(options.signal, 'enrichment');
      const r = await sampleTokens({
        ...settings,
        predictor,
        condition,
        rng: roundRng,
        initialBits: codes,
        initialMask: subLatticeMask(offset, grid, batch),
        ...(options.predictOnlyNeeded !== undefined ? { predictOnlyNeeded: options.predictOnlyNeeded } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      codes = r.codes;
      options.onProgress?.({ task: 'enrich', current: round * 4 + g + 1, total });
    }
    const images = tokenizer ? await tokenizer.decode(codes) : undefined;
    out.push({ codes, ...(images ? { images } : {}), offsetOrder: offsets });
  }
  return { initialCodes, rounds: out };
}
