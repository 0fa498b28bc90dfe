/**
 * One random stream per image of a batch. A batch sampled with {@link ImageRngs} gives every image exactly the draws
 * it would get if it were sampled alone from its own stream, so how images are grouped into batches, shards, sessions
 * or worker threads does not change their bits (given an engine whose per-row results do not depend on the batch).
 */
import { at, ConfigError, required, SEEDED_RNG_ALGORITHM, ShapeError, createRng } from '@bigr/core';
import type { Rng, RngState, SeededRng } from '@bigr/core';

const TWO_POW_24 = 16777216;

/** Whether every stream is core's seeded generator, whose `uniformsF32` is (uint32 >>> 8) / 2^24 of `fillUint32`. */
function allSeeded(streams: readonly Rng[]): boolean {
  for (const s of streams) {
    if (typeof (s as Partial<SeededRng>).fillUint32 !== 'function') return false;
    try {
      if (s.getState().algorithm !== SEEDED_RNG_ALGORITHM) return false;
    } catch {
      return false;
    }
  }
  return true;
}

const BRAND = Symbol.for('@bigr/sampler/ImageRngs');

/**
 * An {@link Rng} over per-image streams. Array draws (`uniformsF32`, `normalsF32`, `gumbels`) of length n are split
 * into equal consecutive parts, part b drawn from image b's stream — the layout of [B, …] tensors in C order. For
 * uneven layouts (the transcoder's gathered rows, the commits of the chosen tokens), {@link ImageRngs.segments}
 * gives a view whose next draws are split by per-image weights. Scalar draws are only defined for one image
 * (otherwise it would be ambiguous which stream they come from) and throw a {@link ConfigError} for more.
 *
 * `sampleTokens` (and so `generate` and the zero-shot applications) recognises this class and draws each image's
 * Gumbel noise, transcoder uniforms and commits from that image's stream.
 */
export class ImageRngs implements Rng {
  /** The per-image streams, in batch order. */
  readonly streams: readonly Rng[];
  readonly #weights: readonly number[];
  /** Each stream with its weight, in batch order. */
  readonly #parts: readonly { readonly rng: Rng; readonly weight: number }[];
  readonly #total: number;
  readonly #seeded: boolean;
  readonly [BRAND] = true;

  /**
   * Streams in batch order; `weights` (default 1 each) say how an array draw is divided: part b has
   * weights[b] / Σ weights of the elements. `seeded` (computed when omitted) says whether every stream is core's
   * seeded generator, which allows a faster `uniformsF32` with the same numbers.
   */
  constructor(streams: readonly Rng[], weights?: ArrayLike<number>, seeded?: boolean) {
    if (streams.length === 0) throw new ConfigError('ImageRngs needs at least one stream (one per image).');
    const w = weights ? Array.from(weights) : streams.map(() => 1);
    if (w.length !== streams.length) throw new ShapeError(`ImageRngs got ${w.length} weights for ${streams.length} streams; pass one weight per image.`);
    for (const x of w)
      if (!Number.isInteger(x) || x < 0) throw new ConfigError(`ImageRngs weight ${x} is invalid; weights are integers >= 0 (rows or tokens per image).`);
    this.streams = streams;
    this.#weights = w;
    this.#parts = streams.map((rng, b) => ({ rng, weight: at(w, b, 'stream weight') }));
    this.#total = w.reduce((a, b) => a + b, 0);
    this.#seeded = seeded ?? allSeeded(streams);
  }

  /** Number of images (streams). */
  get size(): number {
    return this.streams.length;
  }

  /** A view on the same streams whose array draws are split by `weights` (e.g. rows per image); draws advance the streams. */
  segments(weights: ArrayLike<number>): ImageRngs {
    return new ImageRngs(this.streams, weights, this.#seeded);
  }

  /** The streams of images [start, end) (a shard of the batch). */
  slice(start: number, end: number): ImageRngs {
    return new ImageRngs(this.streams.slice(start, end));
  }

  /** Elements per unit of weight of an n-element draw (validated). */
  #unit(n: number, what: string): number {
    if (this.#total === 0) {
      if (n !== 0) throw new ShapeError(`${what}(${n}) on per-image streams with all weights 0; nothing can be drawn.`);
      return 0;
    }
    const unit = n / this.#total;
    if (!Number.isInteger(unit)) {
      throw new ShapeError(
        `${what}(${n}) cannot be split over ${this.streams.length} per-image streams with weights summing to ${this.#total}; ` +
          `draw a multiple of ${this.#total} (use segments() for uneven layouts).`,
      );
    }
    return unit;
  }

  #split<T extends Float32Array | Float64Array>(n: number, what: string, draw: (rng: Rng, m: number) => T, make: (n: number) => T): T {
    const unit = this.#unit(n, what);
    if (this.#total === 0) return make(0);
    const [only, ...others] = this.streams;
    if (only && others.length === 0) return draw(only, n);
    const out = make(n);
    let offset = 0;
    for (const { rng, weight } of this.#parts) {
      const m = weight * unit;
      if (m > 0) out.set(draw(rng, m), offset);
      offset += m;
    }
    return out;
  }

  #single(what: string): Rng {
    const [only, ...others] = this.streams;
    if (only && others.length === 0) return only;
    const [onlyLive, ...otherLive] = this.#parts.filter((p) => p.weight > 0);
    if (onlyLive && otherLive.length === 0) return onlyLive.rng;
    throw new ConfigError(
      `${what}() draws one number, which is ambiguous over ${this.streams.length} per-image streams; ` +
        `draw arrays (one part per image) or use one stream per call.`,
    );
  }

  uniformsF32(n: number): Float32Array {
    if (!this.#seeded || this.streams.length === 1)
      return this.#split(
        n,
        'uniformsF32',
        (r, m) => r.uniformsF32(m),
        (k) => new Float32Array(k),
      );
    // Core's seeded streams: fill one integer buffer segment by segment and convert once — the same numbers as
    // `uniformsF32` of each stream, without an allocation per image (this runs once per diffusion step).
    const unit = this.#unit(n, 'uniformsF32');
    const words = new Uint32Array(n);
    let offset = 0;
    for (const { rng, weight } of this.#parts) {
      const m = weight * unit;
      if (m > 0) (rng as SeededRng).fillUint32(words.subarray(offset, offset + m));
      offset += m;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (required(words[i], 'uniform word') >>> 8) / TWO_POW_24;
    return out;
  }

  normalsF32(n: number): Float32Array {
    return this.#split(
      n,
      'normalsF32',
      (r, m) => r.normalsF32(m),
      (k) => new Float32Array(k),
    );
  }

  gumbels(n: number): Float64Array {
    return this.#split(
      n,
      'gumbels',
      (r, m) => r.gumbels(m),
      (k) => new Float64Array(k),
    );
  }

  uniform(): number {
    return this.#single('uniform').uniform();
  }

  normal(): number {
    return this.#single('normal').normal();
  }

  bernoulli(p: number): 0 | 1 {
    return this.#single('bernoulli').bernoulli(p);
  }

  int(n: number): number {
    return this.#single('int').int(n);
  }

  /** Forks every stream with `label` (same weights). */
  fork(label: string | number): ImageRngs {
    return new ImageRngs(
      this.streams.map((s) => s.fork(label)),
      this.#weights,
      this.#seeded,
    );
  }

  /** Not supported: per-image streams are recreated from their seeds instead. */
  getState(): RngState {
    throw new ConfigError('ImageRngs has no single state; save the per-image seeds and recreate the streams (imageRngs(seeds)).');
  }

  /** Not supported (see {@link ImageRngs.getState}). */
  setState(_state: RngState): void {
    throw new ConfigError('ImageRngs has no single state; recreate the streams from the per-image seeds (imageRngs(seeds)).');
  }
}

/** Whether `rng` is an {@link ImageRngs} (also across duplicate copies of this package). */
export function isImageRngs(rng: Rng): rng is ImageRngs {
  return (rng as unknown as Record<symbol, unknown>)[BRAND] === true;
}

/** Per-image streams `createRng(seed)` for `seeds` (image k alone with `createRng(seeds[k])` draws the same numbers). */
export function imageRngs(seeds: readonly (number | string)[]): ImageRngs {
  return new ImageRngs(seeds.map((s) => createRng(s)));
}
