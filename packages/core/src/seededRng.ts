import { ConfigError, FormatError } from './errors.js';
import { required } from './invariants.js';
import type { Rng, RngState } from './rng.js';

/**
 * Seeded {@link Rng} built from integer arithmetic only, so the raw 32-bit stream is identical on every
 * platform and JS engine.
 *
 * Algorithm (identifier {@link SEEDED_RNG_ALGORITHM}):
 * - Generator: **xoshiro128\*\*** (Blackman & Vigna, 2018), 128 bits of state, period 2^128 − 1. One call gives
 *   one uint32.
 * - Seed: a seed becomes a 64-bit *key* (lo, hi). An integer seed is taken as its 64-bit two's complement. A
 *   string that spells a safe integer in decimal (e.g. `"42"`, as typed on a command line) is the same as that
 *   integer. Any other string is hashed with two 32-bit FNV-1a passes over its UTF-8 bytes (offset bases
 *   0x811c9dc5 and 0x050c5d1f) and each word is finalised with {@link mix32}.
 * - State from key (splitmix32): word i of the state is `mix32(c + i·0x9e3779b9)` for i = 1, 2, with
 *   c = key.lo for words 0–1 and c = key.hi ^ 0x5bd1e995 for words 2–3. `mix32` is a bijection and the two
 *   counters differ, so words 0 and 1 are never both zero and the state is never all zero.
 * - `fork(label)`: child key = combine(parent key, label words), where a string label is hashed like a string
 *   seed and a number label (an integer) contributes its 64-bit two's complement. String and number labels are
 *   tagged differently, so `fork(1)` and `fork('1')` differ. The parent's position is not used and not advanced:
 *   a fork depends only on the original seed and the chain of labels.
 *
 * Derived values (float conversions use only exact operations; `normal` and `gumbels` call `Math.log`, `Math.sqrt`,
 * `Math.cos`, `Math.sin`, which V8 implements with the same fdlibm port on every platform):
 * - `uniform()`: 53 bits from two draws, `((a >>> 5)·2^26 + (b >>> 6)) / 2^53` ∈ [0, 1).
 * - `uniformsF32(n)`: one draw each, `(x >>> 8) / 2^24` = k/2^24 ∈ [0, 1), exact in float32.
 * - `bernoulli(p)`: one float32 uniform u as above, returns `u < p` (the fixture convention).
 * - `normal()`: Box–Muller from two 53-bit uniforms, u1 = 1 − uniform() ∈ (0, 1], u2 = uniform();
 *   returns √(−2 ln u1)·cos(2π u2). `normalsF32(n)` uses both Box–Muller outputs per pair (cos, then sin) and
 *   drops the last sin when n is odd; the values are rounded to float32.
 * - `gumbels(n)`: u = (k + 0.5)/2^52 with k a 52-bit integer from two draws, so u ∈ [2^−53, 1 − 2^−53] is never
 *   0 or 1; returns −log(−log u).
 * - `int(n)`: rejection sampling on 32-bit draws (n ≤ 2^32) or 53-bit draws (n ≤ 2^53), so it is unbiased.
 */
export const SEEDED_RNG_ALGORITHM = 'xoshiro128**/splitmix32/v1';

/** A seed accepted by {@link createRng}: a safe integer, or any string. */
export type Seed = number | string;

/** The {@link Rng} returned by {@link createRng}, with access to the raw integer stream. */
export interface SeededRng extends Rng {
  /** Next raw 32-bit output of xoshiro128** as an unsigned integer in [0, 2^32). */
  uint32(): number;
  /** Fills `out` with raw 32-bit outputs and returns it. */
  fillUint32(out: Uint32Array): Uint32Array;
  /** `n` standard Gumbel draws as float32. */
  gumbelsF32(n: number): Float32Array;
  /** Same as {@link Rng.fork}, typed as a {@link SeededRng}. */
  fork(label: string | number): SeededRng;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_24 = 16777216;
const TWO_POW_26 = 67108864;
const TWO_POW_52 = 4503599627370496;
const TWO_POW_53 = 9007199254740992;
const GOLDEN = 0x9e3779b9;

/**
 * 32-bit integer finaliser (Wellons' "lowbias32": xorshift-multiply ×2). A bijection on uint32.
 * @internal exported for tests.
 */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** 32-bit FNV-1a over bytes, starting from `basis`. */
export function fnv1a32(bytes: Uint8Array, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= required(bytes[i], 'byte');
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const utf8 = new TextEncoder();

function intToWords(n: number, what: string): [number, number] {
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(`${what} ${String(n)} is not a safe integer. Use a whole number between -(2^53-1) and 2^53-1, or a string.`);
  }
  const lo = n >>> 0; // low 32 bits of the two's complement (exact for safe integers)
  const hi = Math.floor(n / TWO_POW_32) >>> 0; // floor division keeps two's complement for negatives
  return [lo, hi];
}

function stringToWords(s: string): [number, number] {
  const bytes = utf8.encode(s);
  return [mix32(fnv1a32(bytes, 0x811c9dc5)), mix32(fnv1a32(bytes, 0x050c5d1f))];
}

const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** The 64-bit key of a seed as [lo, hi]. */
function seedKey(seed: Seed): [number, number] {
  if (typeof seed === 'number') return intToWords(seed, 'Seed');
  if (typeof seed !== 'string') {
    throw new ConfigError(`Seed ${String(seed)} has type ${typeof seed}; expected a safe integer or a string.`);
  }
  const trimmed = seed.trim();
  if (DECIMAL_INTEGER.test(trimmed)) {
    const n = Number(trimmed);
    if (Number.isSafeInteger(n)) return intToWords(n, 'Seed');
  }
  return stringToWords(seed);
}

/** Combines a key with label words and a tag; order-sensitive and non-linear. */
function combineKey(key: readonly [number, number], w: readonly [number, number], tag: number): [number, number] {
  const a = mix32((key[0] ^ mix32((w[0] + Math.imul(tag, GOLDEN)) >>> 0)) >>> 0);
  const b = mix32((key[1] ^ mix32((w[1] ^ a ^ 0x7f4a7c15) >>> 0)) >>> 0);
  const a2 = mix32((a ^ b ^ 0x632be5ab) >>> 0);
  return [a2, b];
}

function labelKey(key: readonly [number, number], label: string | number): [number, number] {
  if (typeof label === 'number') return combineKey(key, intToWords(label, 'Fork label'), 2);
  if (typeof label !== 'string') {
    throw new ConfigError(`Fork label ${String(label)} has type ${typeof label}; expected a string or a safe integer.`);
  }
  return combineKey(key, stringToWords(label), 1);
}

/** The four xoshiro128** state words, each a uint32. */
type StateWords = readonly [number, number, number, number];

function stateFromKey(key: readonly [number, number]): StateWords {
  const c0 = key[0];
  const c1 = (key[1] ^ 0x5bd1e995) >>> 0;
  return [mix32((c0 + GOLDEN) >>> 0), mix32((c0 + Math.imul(2, GOLDEN)) >>> 0), mix32((c1 + GOLDEN) >>> 0), mix32((c1 + Math.imul(2, GOLDEN)) >>> 0)];
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ConfigError(`${what}(${String(n)}): the count must be a non-negative integer.`);
  }
}

class Xoshiro128ss implements SeededRng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  #key: [number, number];

  constructor(key: [number, number], state?: StateWords) {
    this.#key = key;
    [this.#s0, this.#s1, this.#s2, this.#s3] = state ?? stateFromKey(key);
  }

  uint32(): number {
    const s1 = this.#s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 = s1 ^ this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  fillUint32(out: Uint32Array): Uint32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uint32();
    return out;
  }

  uniform(): number {
    const a = this.uint32() >>> 5;
    const b = this.uint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  uniformsF32(n: number): Float32Array {
    checkCount(n, 'uniformsF32');
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.uint32() >>> 8) / TWO_POW_24;
    return out;
  }

  #boxMuller(): [number, number] {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    return [r * Math.cos(theta), r * Math.sin(theta)];
  }

  normal(): number {
    return this.#boxMuller()[0];
  }

  normalsF32(n: number): Float32Array {
    checkCount(n, 'normalsF32');
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const [z0, z1] = this.#boxMuller();
      out[i] = z0;
      if (i + 1 < n) out[i + 1] = z1;
    }
    return out;
  }

  bernoulli(p: number): 0 | 1 {
    const u = (this.uint32() >>> 8) / TWO_POW_24;
    return u < p ? 1 : 0;
  }

  #openUniform(): number {
    const hi = this.uint32() >>> 12; // 20 bits
    const lo = this.uint32(); // 32 bits
    return (hi * TWO_POW_32 + lo + 0.5) / TWO_POW_52;
  }

  gumbels(n: number): Float64Array {
    checkCount(n, 'gumbels');
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = -Math.log(-Math.log(this.#openUniform()));
    return out;
  }

  gumbelsF32(n: number): Float32Array {
    return Float32Array.from(this.gumbels(n));
  }

  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new ConfigError(`int(${String(n)}): the range size must be a positive safe integer.`);
    }
    if (n <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = this.uint32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const x = (this.uint32() >>> 11) * TWO_POW_32 + this.uint32(); // 53 bits
      if (x < limit) return x % n;
    }
  }

  fork(label: string | number): SeededRng {
    return new Xoshiro128ss(labelKey(this.#key, label));
  }

  getState(): RngState {
    return {
      algorithm: SEEDED_RNG_ALGORITHM,
      words: [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0, this.#key[0], this.#key[1]],
    };
  }

  setState(state: RngState): void {
    const { words, key } = validateState(state);
    [this.#s0, this.#s1, this.#s2, this.#s3] = words;
    this.#key = key;
  }
}

/** The state words and key words of a saved {@link RngState}, each checked to be a uint32. */
function validateState(state: RngState): { words: StateWords; key: [number, number] } {
  if (typeof state !== 'object' || state === null || state.algorithm !== SEEDED_RNG_ALGORITHM) {
    const got = typeof state === 'object' && state !== null ? JSON.stringify(state.algorithm) : String(state);
    throw new FormatError(`RNG state algorithm ${got} is not supported; expected "${SEEDED_RNG_ALGORITHM}". Restore a state saved by createRng's getState().`);
  }
  const w = state.words;
  if (!Array.isArray(w) || w.length !== 6) {
    throw new FormatError(
      `RNG state has ${Array.isArray(w) ? w.length : 'no'} words; expected 6 (4 state words and 2 key words). Restore a state saved by getState().`,
    );
  }
  const word = (i: number): number => {
    const v: unknown = w[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO_POW_32) {
      throw new FormatError(`RNG state word ${i} is ${JSON.stringify(v)}; expected an integer in [0, 2^32). Restore a state saved by getState().`);
    }
    return v;
  };
  const words = [word(0), word(1), word(2), word(3)] as const;
  const key: [number, number] = [word(4), word(5)];
  if ((words[0] | words[1] | words[2] | words[3]) === 0) {
    throw new FormatError('RNG state words 0-3 are all zero, which xoshiro128** cannot leave; the state is corrupt. Restore a state saved by getState().');
  }
  return { words, key };
}

/**
 * Creates the seeded {@link Rng} (xoshiro128** seeded via splitmix32; see {@link SEEDED_RNG_ALGORITHM} for the
 * exact derivations). The same seed gives the same bits everywhere.
 */
export function createRng(seed: Seed): SeededRng {
  return new Xoshiro128ss(seedKey(seed));
}

/** Creates a {@link SeededRng} positioned at a state from {@link Rng.getState}. */
export function rngFromState(state: RngState): SeededRng {
  const { words, key } = validateState(state);
  return new Xoshiro128ss(key, words);
}

/**
 * A generator whose raw state is set directly (no seeding), for checking against the reference C
 * implementation of xoshiro128**.
 * @internal
 */
export function xoshiro128ssFromRawState(s0: number, s1: number, s2: number, s3: number): SeededRng {
  if ((s0 | s1 | s2 | s3) === 0) throw new ConfigError('xoshiro128** state must not be all zero; pass at least one non-zero word.');
  return new Xoshiro128ss([0, 0], [s0 >>> 0, s1 >>> 0, s2 >>> 0, s3 >>> 0]);
}
