/**
 * Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form followed by the implicit
 * QL algorithm with Wilkinson-type shifts (EISPACK tred2/tql2 lineage, reorganised for row-major storage).
 *
 * Cost for n×n: ≈ 4/3·n³ flops for the reduction (one fused sweep per step over the upper triangle),
 * ≈ 4/3·n³ to accumulate the orthogonal factor and ≈ 6·n³ for the QL rotations when eigenvectors are wanted;
 * eigenvalues alone cost the reduction plus O(n²).
 */
import { ConfigError, ShapeError } from '@bigr/core';

/** Result of {@link symmetricEigen}. */
export interface SymmetricEigenResult {
  /** Eigenvalues in ascending order. */
  readonly values: Float64Array;
  /**
   * Eigenvectors as the rows of a row-major n×n array (row i belongs to `values[i]`), orthonormal.
   * Present only when requested.
   */
  readonly vectors?: Float64Array;
}

/** Options for {@link symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** Also compute eigenvectors (default false). */
  vectors?: boolean;
  /** QL iterations allowed per eigenvalue before giving up (default 60). */
  maxIterationsPerValue?: number;
}

/** Thrown by {@link symmetricEigen} when the QL iteration does not converge (practically only on NaN/Inf input). */
export class EigenConvergenceError extends ConfigError {}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of the symmetric matrix `a` (row-major n×n). Only the upper
 * triangle of `a` is read; `a` is not modified.
 */
export function symmetricEigen(a: Float64Array, n: number, options: SymmetricEigenOptions = {}): SymmetricEigenResult {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new ShapeError(`symmetricEigen: matrix has ${a.length} elements but n = ${n} needs ${n * n}. Pass a row-major n×n Float64Array.`);
  }
  const wantVectors = options.vectors === true;
  const maxIter = options.maxIterationsPerValue ?? 60;
  const w = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const betas = new Float64Array(n);
  tridiagonalize(w, n, d, e, betas);
  let vt: Float64Array | undefined;
  if (wantVectors) vt = accumulateTransposedQ(w, n, betas);
  tridiagonalQl(d, e, n, vt, maxIter);
  return sortAscending(d, n, vt);
}

/**
 * Reduces the symmetric matrix held in `w` (upper triangle used) to tridiagonal T = Qᵀ·A·Q with
 * Q = H₀·H₁·…·H_{n−3}, Hₖ = I − βₖ·vₖ·vₖᵀ. On return d = diag(T), e[i] = T[i][i+1] (e[n−1] = 0), βₖ in
 * `betas`, and row k of `w` holds vₖ in columns k+1…n−1.
 *
 * Step k's rank-2 update of the trailing block is fused with step k+1's symmetric matrix-vector product, so the
 * upper triangle is swept once per step.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array, betas: Float64Array): void {
  if (n === 0) return;
  if (n <= 2) {
    d[0] = w[0];
    if (n === 2) {
      e[0] = w[1];
      d[1] = w[3];
    }
    return;
  }
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  const wv = new Float64Array(n);
  const vNext = new Float64Array(n);
  const pNext = new Float64Array(n);
  // Householder for step 0 and its product p = β·A₂₂·v (plain symmetric sweep).
  let beta = householder(w, n, 0, v, d, e);
  betas[0] = beta;
  if (n > 2) symvUpper(w, n, 1, v, p, beta);
  for (let k = 0; k <= n - 3; k++) {
    // w = p − (β/2)(vᵀp)·v
    let vp = 0;
    for (let j = k + 1; j < n; j++) vp += v[j] * p[j];
    const kk = 0.5 * beta * vp;
    for (let j = k + 1; j < n; j++) wv[j] = p[j] - kk * v[j];
    if (beta === 0) wv.fill(0, k + 1, n);
    // Row k+1 first: update, then build the next reflector from it.
    const r = k + 1;
    updateRow(w, n, r, v, wv);
    const hasNext = r <= n - 3;
    let betaNext = 0;
    if (hasNext) {
      betaNext = householder(w, n, r, vNext, d, e);
      betas[r] = betaNext;
      pNext.fill(0, r + 1, n);
    }
    for (let i = r + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = wv[i];
      if (!hasNext) {
        for (let j = i; j < n; j++) w[row + j] -= vi * wv[j] + wi * v[j];
        continue;
      }
      const vni = vNext[i];
      const aii = w[row + i] - vi * wi - wi * vi;
      w[row + i] = aii;
      let acc = aii * vni;
      for (let j = i + 1; j < n; j++) {
        const aij = w[row + j] - vi * wv[j] - wi * v[j];
        w[row + j] = aij;
        acc += aij * vNext[j];
        pNext[j] += aij * vni;
      }
      pNext[i] += acc;
    }
    if (hasNext) {
      for (let j = r + 1; j < n; j++) {
        v[j] = vNext[j];
        p[j] = betaNext * pNext[j];
      }
      beta = betaNext;
    }
  }
  d[n - 2] = w[(n - 2) * n + (n - 2)];
  e[n - 2] = w[(n - 2) * n + (n - 1)];
  d[n - 1] = w[(n - 1) * n + (n - 1)];
  e[n - 1] = 0;
  // Steps past the last reflector have no reflector (β = 0).
  for (let k = Math.max(0, n - 2); k < n; k++) betas[k] = 0;
}

/** A[r][j] −= v_r·w_j + w_r·v_j for j ≥ r (upper triangle of row r). */
function updateRow(w: Float64Array, n: number, r: number, v: Float64Array, wv: Float64Array): void {
  const row = r * n;
  const vr = v[r];
  const wr = wv[r];
  for (let j = r; j < n; j++) w[row + j] -= vr * wv[j] + wr * v[j];
}

/**
 * Builds the reflector that zeroes row k of `w` beyond column k+1: stores v in `v[k+1..]` and in `w[k][k+1..]`,
 * records d[k] and e[k] and returns β (0 when the row is already zero).
 */
function householder(w: Float64Array, n: number, k: number, v: Float64Array, d: Float64Array, e: Float64Array): number {
  const row = k * n;
  d[k] = w[row + k];
  let scale = 0;
  for (let j = k + 1; j < n; j++) scale = Math.max(scale, Math.abs(w[row + j]));
  if (scale === 0 || !Number.isFinite(scale)) {
    e[k] = scale === 0 ? 0 : NaN;
    for (let j = k + 1; j < n; j++) {
      v[j] = 0;
      w[row + j] = 0;
    }
    return 0;
  }
  let sigma2 = 0;
  for (let j = k + 1; j < n; j++) {
    const x = w[row + j] / scale;
    v[j] = x;
    sigma2 += x * x;
  }
  const sigma = Math.sqrt(sigma2);
  const x0 = v[k + 1];
  const alpha = x0 >= 0 ? -sigma : sigma;
  v[k + 1] = x0 - alpha;
  e[k] = alpha * scale;
  for (let j = k + 1; j < n; j++) w[row + j] = v[j];
  return 1 / (sigma * (sigma + Math.abs(x0)));
}

/** p[i] = β·Σ_j A[i][j]·v[j] over the trailing block starting at `start`, reading only the upper triangle. */
function symvUpper(w: Float64Array, n: number, start: number, v: Float64Array, p: Float64Array, beta: number): void {
  p.fill(0, start, n);
  for (let i = start; i < n; i++) {
    const row = i * n;
    const vi = v[i];
    let acc = w[row + i] * vi;
    for (let j = i + 1; j < n; j++) {
      const aij = w[row + j];
      acc += aij * v[j];
      p[j] += aij * vi;
    }
    p[i] += acc;
  }
  for (let i = start; i < n; i++) p[i] *= beta;
}

/** Forms Qᵀ (row-major) from the reflectors stored in `w`, by backward accumulation Q = H₀(H₁(…H_{n−3})). */
function accumulateTransposedQ(w: Float64Array, n: number, betas: Float64Array): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const u = new Float64Array(n);
  for (let k = n - 3; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const vrow = k * n;
    const s = k + 1;
    // u = vᵀ·Q[s.., s..]
    u.fill(0, s, n);
    for (let i = s; i < n; i++) {
      const vi = w[vrow + i];
      if (vi === 0) continue;
      const row = i * n;
      for (let j = s; j < n; j++) u[j] += vi * q[row + j];
    }
    // Q[s.., s..] −= β·v·u
    for (let i = s; i < n; i++) {
      const f = beta * w[vrow + i];
      if (f === 0) continue;
      const row = i * n;
      for (let j = s; j < n; j++) q[row + j] -= f * u[j];
    }
  }
  // transpose in place
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = q[i * n + j];
      q[i * n + j] = q[j * n + i];
      q[j * n + i] = t;
    }
  }
  return q;
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/**
 * Implicit QL on the symmetric tridiagonal (d, e) (e[i] couples i and i+1). Eigenvalues replace d; when `vt`
 * is given, its rows are rotated alongside, turning Qᵀ into the transposed eigenvector matrix.
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number, vt: Float64Array | undefined, maxIter: number): void {
  if (n <= 1) return;
  e[n - 1] = 0;
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && !(Math.abs(e[m]) <= eps * tst1)) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > maxIter) {
          throw new EigenConvergenceError(
            `symmetricEigen: the QL iteration did not converge for eigenvalue ${l} of ${n} after ${maxIter} iterations. ` +
              `The matrix probably contains NaN or Infinity; check the input covariance.`,
          );
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (vt) rotateRows(vt, n, i, c, s);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** rows i and i+1 of vt: (x, y) ← (c·x − s·y, s·x + c·y). */
function rotateRows(vt: Float64Array, n: number, i: number, c: number, s: number): void {
  const xo = i * n;
  const yo = xo + n;
  for (let k = 0; k < n; k++) {
    const x = vt[xo + k];
    const y = vt[yo + k];
    vt[yo + k] = s * x + c * y;
    vt[xo + k] = c * x - s * y;
  }
}

function sortAscending(d: Float64Array, n: number, vt: Float64Array | undefined): SymmetricEigenResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y] || x - y);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = d[order[i]];
  if (!vt) return { values };
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vectors.set(vt.subarray(order[i] * n, order[i] * n + n), i * n);
  return { values, vectors };
}
