/**
 * Principal square root of a symmetric positive semi-definite matrix through its eigendecomposition:
 * A = U·diag(w)·Uᵀ ⇒ A^{1/2} = U·diag(√max(w, 0))·Uᵀ (docs/evaluation.md §2.3 route 1, step a).
 */
import { required, ShapeError } from '@bigr/core';
import { syrkNT } from './gemm.js';
import { symmetricEigen } from './symmetricEigen.js';

/** Result of {@link sqrtmPsd}. */
export interface PsdSqrtResult {
  /** A^{1/2}, row-major n×n, exactly symmetric. */
  readonly sqrt: Float64Array;
  /** Eigenvalues of A before clamping (ascending). */
  readonly eigenvalues: Float64Array;
  /** Most negative raw eigenvalue (0 when none is negative): rounding noise for a true PSD matrix. */
  readonly minEigenvalue: number;
}

/**
 * Square root of a symmetric PSD matrix `a` (row-major n×n; only the upper triangle is read). Negative
 * eigenvalues are clamped to 0 and reported through {@link PsdSqrtResult.minEigenvalue}.
 */
export function sqrtmPsd(a: Float64Array, n: number): PsdSqrtResult {
  if (a.length !== n * n) {
    throw new ShapeError(`sqrtmPsd: matrix has ${a.length} elements but n = ${n} needs ${n * n}. Pass a row-major n×n Float64Array.`);
  }
  const { values, vectors } = symmetricEigen(a, n, { vectors: true });
  const v = required(vectors, 'eigenvectors (requested from symmetricEigen)');
  // W = U·diag(w^{1/4}) with U = Vᵀ (eigenvectors as columns); A^{1/2} = W·Wᵀ.
  const w = new Float64Array(n * n);
  let minEigenvalue = 0;
  for (const [k, lambda] of values.entries()) {
    if (lambda < minEigenvalue) minEigenvalue = lambda;
    const q = lambda > 0 ? Math.sqrt(Math.sqrt(lambda)) : 0;
    // row k of v is the eigenvector of lambda
    for (let i = 0; i < n; i++) w[i * n + k] = required(v[k * n + i], 'eigenvector entry') * q;
  }
  return { sqrt: syrkNT(w, n, n), eigenvalues: values, minEigenvalue };
}
