/**
 * Fréchet distance between two Gaussians (FID, sFID; docs/evaluation.md §2):
 *
 *   FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2·tr((Σ₁Σ₂)^{1/2})
 *
 * computed in float64 by the normative symmetric eigen route of docs/evaluation.md §2.3 (1):
 * (a) Σ₁ = U·diag(w)·Uᵀ, w clamped at 0, S = Σ₁^{1/2}; (b) M = S·Σ₂·S, symmetrised; (c) eigenvalues of M,
 * negatives clamped to 0; (d) tr((Σ₁Σ₂)^{1/2}) = Σ √λᵢ(M).
 *
 * ε handling mirrors the reference (pytorch-fid/ADM add ε·I, ε = 1e-6, to both covariances when the matrix
 * square root is not finite and recompute): here the retry happens when the eigen solver fails to converge or
 * the trace is not finite, and is reported in {@link FrechetResult.offsetApplied} and the warnings. Inputs that
 * are themselves non-finite are rejected up front. The value is not clamped at 0 (identical inputs can give a
 * tiny negative number); {@link FrechetResult.clamped} is max(0, value) for display.
 */
import { required, FormatError, ShapeError } from '@bigr/core';
import { gemmNT } from '../linalg/gemm.js';
import { sqrtmPsd } from '../linalg/matrixSqrt.js';
import { EigenConvergenceError, symmetricEigen } from '../linalg/symmetricEigen.js';
import { type GaussianStats, gaussianDim } from './gaussianStats.js';

/** Options for {@link frechetDistance}. */
export interface FrechetOptions {
  /** Diagonal offset added to both covariances on the retry (default 1e-6, as pytorch-fid/ADM). */
  eps?: number;
  /** Largest tolerated |Σᵢⱼ − Σⱼᵢ| relative to max |Σ| before rejecting the input (default 1e-6). */
  symmetryTolerance?: number;
}

/** Trace of the square root of Σ₁Σ₂ with diagnostics (docs/evaluation.md §2.3 route 1). */
export interface TraceSqrtResult {
  /** tr((Σ₁Σ₂)^{1/2}) = Σ √max(λᵢ(M), 0). */
  readonly trace: number;
  /** Most negative raw eigenvalue of Σ₁ (0 if none). */
  readonly minEigenvalueSigma1: number;
  /** Most negative raw eigenvalue of M = Σ₁^{1/2}Σ₂Σ₁^{1/2} (0 if none). */
  readonly minEigenvalueM: number;
  /** Largest eigenvalue of M. */
  readonly maxEigenvalueM: number;
}

/** Result of {@link frechetDistance}. */
export interface FrechetResult extends TraceSqrtResult {
  /** The Fréchet distance (float64, unclamped). */
  readonly value: number;
  /** max(0, value), for display only. */
  readonly clamped: number;
  /** ‖μ₁ − μ₂‖². */
  readonly meanTerm: number;
  /** tr Σ₁ (after any offset). */
  readonly traceSigma1: number;
  /** tr Σ₂ (after any offset). */
  readonly traceSigma2: number;
  /** ε added to both diagonals on the retry, or 0. */
  readonly offsetApplied: number;
  /** Feature dimension d. */
  readonly dim: number;
  /** Human-readable warnings (N ≤ d, offset retry, non-PSD input). Library code never prints them. */
  readonly warnings: readonly string[];
}

/**
 * tr((Σ₁Σ₂)^{1/2}) for symmetric PSD Σ₁, Σ₂ (row-major d×d; upper triangles are read) by the symmetric eigen
 * route. Cost ≈ 16·d³ flops (≈ 30 s at d = 2048 in plain JS).
 */
export function traceSqrtProduct(sigma1: Float64Array, sigma2: Float64Array, d: number): TraceSqrtResult {
  if (sigma1.length !== d * d || sigma2.length !== d * d) {
    throw new ShapeError(`traceSqrtProduct: covariances have ${sigma1.length} and ${sigma2.length} entries; ${d}×${d} = ${d * d} were expected.`);
  }
  const s2 = symmetrized(sigma2, d);
  const { sqrt: s, minEigenvalue: minEigenvalueSigma1 } = sqrtmPsd(symmetrized(sigma1, d), d);
  // S and Σ₂ are symmetric, so S·Σ₂ = S·Σ₂ᵀ and (SΣ₂)·S = (SΣ₂)·Sᵀ: both are NT products.
  const t = gemmNT(s, s2, d, d, d);
  const m = gemmNT(t, s, d, d, d);
  const ms = symmetrized(m, d);
  const values = symmetricEigen(ms, d).values;
  let trace = 0;
  let minEigenvalueM = 0;
  for (const l of values) {
    if (l > 0) trace += Math.sqrt(l);
    else if (l < minEigenvalueM) minEigenvalueM = l;
  }
  // eigenvalues are ascending
  return { trace, minEigenvalueSigma1, minEigenvalueM, maxEigenvalueM: d > 0 ? required(values[d - 1], 'largest eigenvalue of M') : 0 };
}

/** Fréchet distance between two Gaussian summaries (symmetric in its arguments up to rounding). */
export function frechetDistance(a: GaussianStats, b: GaussianStats, options: FrechetOptions = {}): FrechetResult {
  const d = gaussianDim(a, 'frechetDistance (first statistics)');
  const d2 = gaussianDim(b, 'frechetDistance (second statistics)');
  if (d !== d2) {
    throw new ShapeError(
      `frechetDistance: feature dimensions differ (${d} vs ${d2}). Compare statistics of the same feature layer (e.g. both pool3, d = 2048).`,
    );
  }
  const eps = options.eps ?? 1e-6;
  const symTol = options.symmetryTolerance ?? 1e-6;
  for (const [s, name] of [
    [a, 'first'],
    [b, 'second'],
  ] as const) {
    assertFinite(s.mu, `${name} mu`);
    assertFinite(s.sigma, `${name} sigma`);
    const asym = relativeAsymmetry(s.sigma, d);
    if (asym > symTol) {
      throw new ShapeError(
        `frechetDistance: the ${name} sigma is not symmetric (max |Σij − Σji| / max |Σ| = ${asym.toExponential(2)} > ${symTol}). ` +
          `It is probably not a covariance matrix or has the wrong layout; pass a row-major d×d covariance.`,
      );
    }
  }
  const warnings: string[] = [];
  for (const [s, name] of [
    [a, 'first'],
    [b, 'second'],
  ] as const) {
    if (s.count !== undefined && s.count <= d) {
      warnings.push(
        `The ${name} statistics come from N = ${s.count} ≤ d = ${d} samples: the covariance is singular and the FID is heavily biased. ` +
          `Use N > d (N = 50,000 for ImageNet).`,
      );
    }
  }
  let meanTerm = 0;
  for (let i = 0; i < d; i++) {
    const diff = required(a.mu[i], 'first mean') - required(b.mu[i], 'second mean');
    meanTerm += diff * diff;
  }
  let offsetApplied = 0;
  let s1 = a.sigma;
  let s2 = b.sigma;
  let tr: TraceSqrtResult;
  try {
    tr = traceSqrtProduct(s1, s2, d);
    if (!Number.isFinite(tr.trace)) throw new EigenConvergenceError(`non-finite trace ${tr.trace}`);
  } catch (err) {
    if (!(err instanceof EigenConvergenceError)) throw err;
    offsetApplied = eps;
    s1 = withDiagonalOffset(s1, d, eps);
    s2 = withDiagonalOffset(s2, d, eps);
    warnings.push(
      `The matrix square root was not finite (${err.message.split('\n')[0]}); ` +
        `added ${eps} to the diagonals of both covariances and recomputed, as pytorch-fid/ADM do.`,
    );
    tr = traceSqrtProduct(s1, s2, d);
    if (!Number.isFinite(tr.trace)) {
      throw new FormatError(
        `frechetDistance: tr((Σ₁Σ₂)^{1/2}) is ${tr.trace} even after adding ${eps}·I to both covariances (largest eigenvalue of M: ${tr.maxEigenvalueM}). ` +
          `The covariances overflow float64; rescale the features.`,
      );
    }
  }
  if (tr.minEigenvalueM < -1e-6 * Math.max(tr.maxEigenvalueM, Number.MIN_VALUE)) {
    warnings.push(
      `M = Σ₁^{1/2}Σ₂Σ₁^{1/2} has a negative eigenvalue ${tr.minEigenvalueM.toExponential(3)} beyond rounding level ` +
        `(λmax = ${tr.maxEigenvalueM.toExponential(3)}): a covariance is not positive semi-definite.`,
    );
  }
  const traceSigma1 = trace(s1, d);
  const traceSigma2 = trace(s2, d);
  const value = meanTerm + traceSigma1 + traceSigma2 - 2 * tr.trace;
  return {
    ...tr,
    value,
    clamped: Math.max(0, value),
    meanTerm,
    traceSigma1,
    traceSigma2,
    offsetApplied,
    dim: d,
    warnings,
  };
}

function trace(s: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += required(s[i * d + i], 'diagonal entry');
  return t;
}

function symmetrized(s: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    out[i * d + i] = required(s[i * d + i], 'diagonal entry');
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (required(s[i * d + j], 'upper entry') + required(s[j * d + i], 'lower entry'));
      out[i * d + j] = v;
      out[j * d + i] = v;
    }
  }
  return out;
}

function relativeAsymmetry(s: Float64Array, d: number): number {
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const x = required(s[i * d + j], 'upper entry');
      const y = required(s[j * d + i], 'lower entry');
      maxAbs = Math.max(maxAbs, Math.abs(x), Math.abs(y));
      maxDiff = Math.max(maxDiff, Math.abs(x - y));
    }
  }
  return maxAbs === 0 ? 0 : maxDiff / maxAbs;
}

function withDiagonalOffset(s: Float64Array, d: number, eps: number): Float64Array {
  const out = Float64Array.from(s);
  for (let i = 0; i < d; i++) out[i * d + i] = required(out[i * d + i], 'diagonal entry') + eps;
  return out;
}

function assertFinite(x: Float64Array, what: string): void {
  for (let i = 0; i < x.length; i++) {
    const v = required(x[i], 'value');
    if (!Number.isFinite(v)) {
      throw new FormatError(`frechetDistance: ${what} contains a non-finite value (${v}) at index ${i}. Recompute the statistics; features must be finite.`);
    }
  }
}
