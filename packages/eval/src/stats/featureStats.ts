/**
 * Streaming, mergeable feature statistics in float64 (docs/evaluation.md §2.2).
 *
 * The state is (N, μ, C) with C = Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ, the centred scatter matrix. A batch is folded in by
 * computing its own mean and centred scatter (two passes over the batch, float64) and combining with the
 * Chan–Golub–LeVeque pairwise update
 *
 *   δ = μ_b − μ_a,  N = N_a + N_b,  μ = μ_a + δ·N_b/N,  C = C_a + C_b + δδᵀ·N_a·N_b/N,
 *
 * which is also how states from several processes are merged. E[xxᵀ] − μμᵀ is never formed. The covariance is
 * C/(N − 1), as `numpy.cov(x, rowvar=False)` (ddof = 1).
 */
import { required, ConfigError, ShapeError } from '@bigr/core';
import { type GemmNT, syrkNT } from '../linalg/gemm.js';
import type { GaussianStats } from './gaussianStats.js';
import { type FeatureRows, type FeatureTensor, toFeatureRows } from './featureMatrix.js';

/** Plain, serialisable state of a {@link FeatureStats} accumulator. */
export interface FeatureStatsState {
  /** Feature dimension d. */
  readonly dim: number;
  /** Number of rows seen. */
  readonly count: number;
  /** Running mean (length d). */
  readonly mean: Float64Array;
  /** Centred scatter matrix Σ (x − μ)(x − μ)ᵀ, row-major d×d. */
  readonly scatter: Float64Array;
}

/** Streaming accumulator of mean and covariance for one feature layer. */
export class FeatureStats {
  /** Feature dimension d. */
  readonly dim: number;
  #count = 0;
  readonly #mean: Float64Array;
  readonly #scatter: Float64Array;

  /** An empty accumulator for d-dimensional features. */
  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new ConfigError(`FeatureStats: dimension ${dim} must be a positive integer.`);
    this.dim = dim;
    this.#mean = new Float64Array(dim);
    this.#scatter = new Float64Array(dim * dim);
  }

  /** Rebuilds an accumulator from {@link FeatureStats.toState} output (e.g. sent by another process). */
  static fromState(state: FeatureStatsState): FeatureStats {
    const s = new FeatureStats(state.dim);
    if (state.mean.length !== state.dim || state.scatter.length !== state.dim * state.dim || !(state.count >= 0)) {
      throw new ShapeError(
        `FeatureStats.fromState: mean has ${state.mean.length} and scatter ${state.scatter.length} entries with count ${state.count}; ` +
          `expected ${state.dim} and ${state.dim * state.dim} with count ≥ 0.`,
      );
    }
    s.#count = state.count;
    s.#mean.set(state.mean);
    s.#scatter.set(state.scatter);
    return s;
  }

  /** Number of rows accumulated. */
  get count(): number {
    return this.#count;
  }

  /** Adds a batch of rows ([B, d] tensor or {@link FeatureRows}) using the built-in float64 kernel. */
  add(batch: FeatureTensor | FeatureRows): void {
    const rows = this.#check(batch);
    if (rows.rows === 0) return;
    const { centredT, mean } = centre(rows);
    this.#combine(rows.rows, mean, syrkNT(centredT, this.dim, rows.rows));
  }

  /**
   * Like {@link FeatureStats.add} but computes the batch scatter with an injected NT matrix product (e.g. a
   * faster backend). The product receives the centred batch transposed (d×B, float64) twice; it should compute
   * in float64 — a float32 backend loses the precision docs/evaluation.md §2.2 asks for.
   */
  async addWith(batch: FeatureTensor | FeatureRows, gemm: GemmNT): Promise<void> {
    const rows = this.#check(batch);
    if (rows.rows === 0) return;
    const { centredT, mean } = centre(rows);
    const scatter = await gemm(centredT, centredT, this.dim, this.dim, rows.rows);
    if (scatter.length !== this.dim * this.dim) {
      throw new ShapeError(`FeatureStats.addWith: the injected gemm returned ${scatter.length} values; ${this.dim}×${this.dim} were expected.`);
    }
    this.#combine(rows.rows, mean, scatter);
  }

  /** Folds another accumulator (same d) into this one (Chan pairwise update). `other` is unchanged. */
  merge(other: FeatureStats | FeatureStatsState): void {
    if (other.dim !== this.dim)
      throw new ShapeError(`FeatureStats.merge: dimensions differ (${this.dim} vs ${other.dim}). Merge statistics of the same feature layer.`);
    // a copy, so that merging an accumulator into itself reads the state before the update; a plain state is
    // validated as by fromState
    const o = (other instanceof FeatureStats ? other : FeatureStats.fromState(other)).toState();
    if (o.count === 0) return;
    this.#combine(o.count, o.mean, o.scatter);
  }

  /** Mean μ (a copy). */
  mean(): Float64Array {
    return Float64Array.from(this.#mean);
  }

  /** Unbiased covariance C/(N − 1) (numpy.cov, ddof = 1), row-major d×d. Needs N ≥ 2. */
  covariance(): Float64Array {
    if (this.#count < 2) {
      throw new ConfigError(`FeatureStats: the covariance needs at least 2 samples but ${this.#count} were added. Add more feature rows.`);
    }
    const f = 1 / (this.#count - 1);
    const out = new Float64Array(this.#scatter.length);
    for (let i = 0; i < out.length; i++) out[i] = required(this.#scatter[i], 'scatter entry') * f;
    return out;
  }

  /** The {@link GaussianStats} (μ, Σ, N) used by the Fréchet distance. */
  toGaussian(): GaussianStats {
    return { mu: this.mean(), sigma: this.covariance(), count: this.#count };
  }

  /** A copy of the internal state, for merging across processes or checkpointing. */
  toState(): FeatureStatsState {
    return { dim: this.dim, count: this.#count, mean: Float64Array.from(this.#mean), scatter: Float64Array.from(this.#scatter) };
  }

  #check(batch: FeatureTensor | FeatureRows): FeatureRows {
    const rows = toFeatureRows(batch, 'FeatureStats batch');
    if (rows.dim !== this.dim) {
      throw new ShapeError(`FeatureStats: batch rows have ${rows.dim} features but this accumulator has d = ${this.dim}. Pass [B, ${this.dim}] features.`);
    }
    return rows;
  }

  #combine(nb: number, meanB: Float64Array, scatterB: Float64Array): void {
    const d = this.dim;
    const na = this.#count;
    const n = na + nb;
    // meanB has d entries and scatterB d·d (checked by the callers)
    const delta = Float64Array.from(this.#mean, (m, j) => required(meanB[j], 'batch mean') - m);
    const w = (na * nb) / n;
    const c = this.#scatter;
    // upper triangle, then mirror, so the scatter stays exactly symmetric
    for (const [i, deltaI] of delta.entries()) {
      const di = deltaI * w;
      const row = c.subarray(i * d, (i + 1) * d);
      const rowB = scatterB.subarray(i * d, (i + 1) * d);
      for (let j = i; j < d; j++)
        row[j] = required(row[j], 'scatter entry') + (required(rowB[j], 'batch scatter entry') + di * required(delta[j], 'mean difference'));
      for (let j = 0; j < i; j++) row[j] = required(c[j * d + i], 'scatter entry');
    }
    const f = nb / n;
    for (const [j, deltaJ] of delta.entries()) this.#mean[j] = required(this.#mean[j], 'mean') + deltaJ * f;
    this.#count = n;
  }
}

/** Batch mean and the centred batch transposed (d×B, float64). */
function centre(rows: FeatureRows): { centredT: Float64Array; mean: Float64Array } {
  const { data, rows: b, dim: d } = rows;
  const mean = new Float64Array(d);
  for (let i = 0; i < b; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j] = required(mean[j], 'batch mean') + required(data[o + j], 'feature');
  }
  for (const [j, sum] of mean.entries()) mean[j] = sum / b;
  const centredT = new Float64Array(d * b);
  for (let i = 0; i < b; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) centredT[j * b + i] = required(data[o + j], 'feature') - required(mean[j], 'batch mean');
  }
  return { centredT, mean };
}
