/**
 * The Gaussian summary of a feature set that the Fréchet distance consumes (docs/evaluation.md §2.2): mean μ and unbiased
 * covariance Σ (divide by N−1, like `numpy.cov(x, rowvar=False)`), both float64.
 */
import { ShapeError } from '@bigr/core';

/** Mean and covariance of a feature set. */
export interface GaussianStats {
  /** Mean, length d. */
  readonly mu: Float64Array;
  /** Covariance, row-major d×d. */
  readonly sigma: Float64Array;
  /** Number of samples the statistics came from, when known (used for the N ≤ d warning). */
  readonly count?: number;
}

/** Throws a {@link ShapeError} unless `s.mu` has length d and `s.sigma` has d² entries; returns d. */
export function gaussianDim(s: GaussianStats, what: string): number {
  const d = s.mu.length;
  if (s.sigma.length !== d * d) {
    throw new ShapeError(
      `${what}: sigma has ${s.sigma.length} entries but mu has length ${d}, so ${d}×${d} = ${d * d} were expected. ` +
        `Pass the covariance as a row-major d×d array matching mu.`,
    );
  }
  return d;
}
