/**
 * Code usage statistics of binary latent codes ([batch, tokens, K] of 0/1, docs/algorithm.md §0):
 *
 * - per-bit frequency of 1 and per-bit binary entropy H(p) = −p·log₂p − (1−p)·log₂(1−p) (1 bit = balanced);
 * - token-pattern usage: each token is the K-bit pattern r = Σ_k 2^k·z_k (paper Eq. 2 order); the number of
 *   distinct patterns seen, usage = distinct / min(2^K, tokens), the empirical pattern entropy in bits and its
 *   perplexity 2^H (≤ min(2^K, tokens)).
 *
 * Patterns are counted exactly up to `maxDistinctPatterns` (default 2^24) distinct values; beyond that new
 * patterns are no longer tracked and the pattern statistics are flagged inexact.
 */
import { required, ConfigError, ShapeError, type Tensor } from '@bigr/core';

/** Result of {@link CodeUsageAccumulator.result}. */
export interface CodeUsageResult {
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Tokens seen. */
  readonly tokens: number;
  /** Frequency of 1 for each bit. */
  readonly bitOneFrequency: Float64Array;
  /** Binary entropy (bits) of each bit. */
  readonly bitEntropy: Float64Array;
  /** Mean of {@link CodeUsageResult.bitEntropy}. */
  readonly meanBitEntropy: number;
  /** Distinct token patterns seen (a lower bound when not exact). */
  readonly distinctPatterns: number;
  /** distinctPatterns / min(2^K, tokens). */
  readonly patternUsage: number;
  /** Empirical entropy of the pattern distribution in bits (undefined when not exact). */
  readonly patternEntropy?: number;
  /** 2^patternEntropy (undefined when not exact). */
  readonly patternPerplexity?: number;
  /** Whether every pattern was counted. */
  readonly exact: boolean;
}

/** Streams code tensors and summarises bit and pattern usage. */
export class CodeUsageAccumulator {
  /** Bits per token K. */
  readonly bitsPerToken: number;
  readonly #ones: Float64Array;
  readonly #counts = new Map<number | string, number>();
  readonly #max: number;
  #tokens = 0;
  #exact = true;

  /** A new accumulator for K-bit tokens. */
  constructor(bitsPerToken: number, options: { maxDistinctPatterns?: number } = {}) {
    if (!Number.isInteger(bitsPerToken) || bitsPerToken < 1)
      throw new ConfigError(`CodeUsageAccumulator: bitsPerToken ${bitsPerToken} must be a positive integer.`);
    this.bitsPerToken = bitsPerToken;
    this.#ones = new Float64Array(bitsPerToken);
    this.#max = options.maxDistinctPatterns ?? 2 ** 24;
  }

  /** Adds codes whose last axis is K (e.g. [batch, tokens, K]), uint8 0/1 or float 0.0/1.0. */
  add(codes: Tensor): void {
    const k = this.bitsPerToken;
    if (codes.shape.length < 1 || codes.shape[codes.shape.length - 1] !== k) {
      throw new ShapeError(`CodeUsageAccumulator: codes have shape [${codes.shape.join(', ')}]; the last axis must be K = ${k}.`);
    }
    const d = codes.data;
    const n = d.length / k;
    const numeric = k <= 52;
    for (let t = 0; t < n; t++) {
      let key = 0;
      let str = '';
      for (let j = 0; j < k; j++) {
        const v = d[t * k + j];
        if (v !== 0 && v !== 1) throw new ShapeError(`CodeUsageAccumulator: token ${this.#tokens} bit ${j} is ${v}; codes must hold only 0 and 1.`);
        if (v === 1) {
          this.#ones[j] = required(this.#ones[j], 'count of ones') + 1;
          if (numeric) key += 2 ** j;
        }
        if (!numeric) str += v === 1 ? '1' : '0';
      }
      const id = numeric ? key : str;
      const c = this.#counts.get(id);
      if (c !== undefined) this.#counts.set(id, c + 1);
      else if (this.#counts.size < this.#max) this.#counts.set(id, 1);
      else this.#exact = false;
      this.#tokens++;
    }
  }

  /** Current summary. */
  result(): CodeUsageResult {
    const k = this.bitsPerToken;
    const n = this.#tokens;
    const freq = new Float64Array(k);
    const ent = new Float64Array(k);
    for (const [j, ones] of this.#ones.entries()) {
      const p = n === 0 ? 0 : ones / n;
      freq[j] = p;
      ent[j] = binaryEntropy(p);
    }
    const distinct = this.#counts.size;
    let h = 0;
    for (const c of this.#counts.values()) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
    const capacity = Math.min(2 ** k, n);
    return {
      bitsPerToken: k,
      tokens: n,
      bitOneFrequency: freq,
      bitEntropy: ent,
      meanBitEntropy: ent.reduce((s, v) => s + v, 0) / k,
      distinctPatterns: distinct,
      patternUsage: capacity === 0 ? 0 : distinct / capacity,
      patternEntropy: this.#exact ? h : undefined,
      patternPerplexity: this.#exact ? 2 ** h : undefined,
      exact: this.#exact,
    };
  }
}

/** Binary entropy in bits. */
export function binaryEntropy(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
}
