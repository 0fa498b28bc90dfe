/**
 * Inception Score (docs/evaluation.md §4), ADM convention: consecutive, unshuffled splits of `splitSize` samples (default
 * 5,000; the last split may be shorter), IS(G) = exp(mean_{x∈G} KL(p(y|x) ‖ p_G(y))), reported IS = arithmetic
 * mean of the split scores (ADM reports no std; the population std is given for reference).
 *
 * Numerics: stable log-softmax in float64 (subtract the row max). Per split the accumulator keeps Σₓ p(y|x) and
 * Σₓ Σ_y p log p, since mean KL = mean_x Σ_y p log p − Σ_y p_G log p_G; terms with p = 0 contribute 0 (their
 * limit), so there is no NaN where ADM's float32 log would produce one. IS uses only the samples, never
 * reference data. If samples are stored sorted by class, permute them (with a recorded seed) first (§4.4).
 */
import { required, ConfigError, ShapeError } from '@bigr/core';
import { type FeatureRows, type FeatureTensor, toFeatureRows } from './featureMatrix.js';

/** Options for {@link InceptionScoreAccumulator} and {@link inceptionScore}. */
export interface InceptionScoreOptions {
  /** Samples per split (ADM: 5000). Ignored when {@link InceptionScoreOptions.numSplits} is given. */
  splitSize?: number;
  /**
   * Alternative split rule for {@link inceptionScore} only: exactly this many splits with boundaries ⌊i·N/K⌋
   * (torch-fidelity; it also shuffles with seed 2020 first, which is the caller's job here).
   */
  numSplits?: number;
}

/** Result of an Inception Score computation. */
export interface InceptionScoreResult {
  /** Mean of the split scores (the reported IS). */
  readonly score: number;
  /** Population standard deviation of the split scores. */
  readonly std: number;
  /** Score of each split, in order. */
  readonly splitScores: readonly number[];
  /** Number of samples. */
  readonly count: number;
  /** Number of classes C. */
  readonly numClasses: number;
}

/** Streams logits into consecutive splits of fixed size and scores each split as it closes. */
export class InceptionScoreAccumulator {
  readonly #splitSize: number;
  #numClasses = -1;
  #probSum: Float64Array = new Float64Array(0);
  #negEntropySum = 0;
  #inSplit = 0;
  #count = 0;
  readonly #scores: number[] = [];

  /** A new accumulator (`splitSize` default 5000). */
  constructor(options: { splitSize?: number } = {}) {
    const s = options.splitSize ?? 5000;
    if (!Number.isInteger(s) || s < 1) throw new ConfigError(`Inception Score splitSize ${s} must be a positive integer (ADM uses 5000).`);
    this.#splitSize = s;
  }

  /** Samples added so far. */
  get count(): number {
    return this.#count;
  }

  /** Adds logits of shape [B, C] (unbiased logits; C = 1008 for the FID Inception). */
  add(logits: FeatureTensor | FeatureRows): void {
    const rows = toFeatureRows(logits, 'Inception Score logits');
    const c = rows.dim;
    if (this.#numClasses < 0) {
      if (c < 1) throw new ShapeError('Inception Score logits have 0 classes; expected [B, C] with C ≥ 1.');
      this.#numClasses = c;
      this.#probSum = new Float64Array(c);
    } else if (c !== this.#numClasses) {
      throw new ShapeError(
        `Inception Score logits have ${c} classes but earlier batches had ${this.#numClasses}. Keep all ${this.#numClasses} classes (1008 for Inception).`,
      );
    }
    const lp = new Float64Array(c);
    for (let r = 0; r < rows.rows; r++) {
      const o = r * c;
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, required(rows.data[o + j], 'logit'));
      if (!Number.isFinite(max)) throw new ShapeError(`Inception Score logits row ${this.#count} contains a non-finite maximum (${max}).`);
      let z = 0;
      for (let j = 0; j < c; j++) {
        const shifted = required(rows.data[o + j], 'logit') - max;
        lp[j] = shifted;
        z += Math.exp(shifted);
      }
      const logZ = Math.log(z);
      let negEnt = 0;
      for (let j = 0; j < c; j++) {
        const l = required(lp[j], 'shifted logit') - logZ;
        const p = Math.exp(l);
        this.#probSum[j] = required(this.#probSum[j], 'probability sum') + p;
        if (p > 0) negEnt += p * l;
      }
      this.#negEntropySum += negEnt;
      this.#inSplit++;
      this.#count++;
      if (this.#inSplit === this.#splitSize) this.#closeSplit();
    }
  }

  /** Scores of the completed splits plus the open (shorter) last one. Does not modify the accumulator. */
  result(): InceptionScoreResult {
    if (this.#count === 0) throw new ConfigError('Inception Score: no logits were added. Add [B, C] logits first.');
    const scores = [...this.#scores];
    if (this.#inSplit > 0) scores.push(splitScore(this.#probSum, this.#negEntropySum, this.#inSplit));
    return summarise(scores, this.#count, this.#numClasses);
  }

  #closeSplit(): void {
    this.#scores.push(splitScore(this.#probSum, this.#negEntropySum, this.#inSplit));
    this.#probSum.fill(0);
    this.#negEntropySum = 0;
    this.#inSplit = 0;
  }
}

/** Inception Score of a whole [N, C] logits matrix (see {@link InceptionScoreOptions} for split rules). */
export function inceptionScore(logits: FeatureTensor | FeatureRows, options: InceptionScoreOptions = {}): InceptionScoreResult {
  const rows = toFeatureRows(logits, 'Inception Score logits');
  if (options.numSplits === undefined) {
    const acc = new InceptionScoreAccumulator({ splitSize: options.splitSize });
    acc.add(rows);
    return acc.result();
  }
  const k = options.numSplits;
  if (!Number.isInteger(k) || k < 1 || k > rows.rows) {
    throw new ConfigError(`Inception Score numSplits ${k} must be an integer in [1, N = ${rows.rows}].`);
  }
  const scores: number[] = [];
  for (let i = 0; i < k; i++) {
    const from = Math.floor((i * rows.rows) / k);
    const to = Math.floor(((i + 1) * rows.rows) / k);
    const acc = new InceptionScoreAccumulator({ splitSize: to - from });
    acc.add({ data: rows.data.subarray(from * rows.dim, to * rows.dim), rows: to - from, dim: rows.dim });
    scores.push(acc.result().score);
  }
  return summarise(scores, rows.rows, rows.dim);
}

function splitScore(probSum: Float64Array, negEntropySum: number, n: number): number {
  // mean KL = (1/n)Σ_x Σ_y p log p − Σ_y p_G log p_G
  let cross = 0;
  for (let j = 0; j < probSum.length; j++) {
    const pg = required(probSum[j], 'probability sum') / n;
    if (pg > 0) cross += pg * Math.log(pg);
  }
  return Math.exp(negEntropySum / n - cross);
}

function summarise(scores: number[], count: number, numClasses: number): InceptionScoreResult {
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return { score: mean, std, splitScores: scores, count, numClasses };
}
