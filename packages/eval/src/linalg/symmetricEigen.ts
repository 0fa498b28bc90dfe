/**
 * Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form followed by the implicit
 * QL algorithm with Wilkinson-type shifts (EISPACK tred2/tql2 lineage, reorganised for row-major storage).
 *
 * Cost for n×n: ≈ 4/3·n³ flops for the reduction (one fused sweep per step over the upper triangle),
 * ≈ 4/3·n³ to accumulate the orthogonal factor and ≈ 6·n³ for the QL rotations when eigenvectors are wanted;
 * eigenvalues alone cost the reduction plus O(n²).
 */
import { required, ConfigError, ShapeError } from '@bigr/core';

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
    d[0] = required(w[0], 'matrix entry');
    if (n === 2) {
      e[0] = required(w[1], 'matrix entry');
      d[1] = required(w[3], 'matrix entry');
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
    for (let j = k + 1; j < n; j++) vp += required(v[j], 'v') * required(p[j], 'p');
    const kk = 0.5 * beta * vp;
    for (let j = k + 1; j < n; j++) wv[j] = required(p[j], 'p') - kk * required(v[j], 'v');
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
      const vi = required(v[i], 'v');
      const wi = required(wv[i], 'w');
      if (!hasNext) {
        for (let j = i; j < n; j++) w[row + j] = required(w[row + j], 'matrix entry') - (vi * required(wv[j], 'w') + wi * required(v[j], 'v'));
        continue;
      }
      const vni = required(vNext[i], 'next v');
      const aii = required(w[row + i], 'matrix entry') - vi * wi - wi * vi;
      w[row + i] = aii;
      let acc = aii * vni;
      for (let j = i + 1; j < n; j++) {
        const aij = required(w[row + j], 'matrix entry') - vi * required(wv[j], 'w') - wi * required(v[j], 'v');
        w[row + j] = aij;
        acc += aij * required(vNext[j], 'next v');
        pNext[j] = required(pNext[j], 'next p') + aij * vni;
      }
      pNext[i] = required(pNext[i], 'next p') + acc;
    }
    if (hasNext) {
      for (let j = r + 1; j < n; j++) {
        v[j] = required(vNext[j], 'next v');
        p[j] = betaNext * required(pNext[j], 'next p');
      }
      beta = betaNext;
    }
  }
  d[n - 2] = required(w[(n - 2) * n + (n - 2)], 'matrix entry');
  e[n - 2] = required(w[(n - 2) * n + (n - 1)], 'matrix entry');
  d[n - 1] = required(w[(n - 1) * n + (n - 1)], 'matrix entry');
  e[n - 1] = 0;
  // Steps past the last reflector have no reflector (β = 0).
  for (let k = Math.max(0, n - 2); k < n; k++) betas[k] = 0;
}

/** A[r][j] −= v_r·w_j + w_r·v_j for j ≥ r (upper triangle of row r). */
function updateRow(w: Float64Array, n: number, r: number, v: Float64Array, wv: Float64Array): void {
  const row = r * n;
  const vr = required(v[r], 'v');
  const wr = required(wv[r], 'w');
  for (let j = r; j < n; j++) w[row + j] = required(w[row + j], 'matrix entry') - (vr * required(wv[j], 'w') + wr * required(v[j], 'v'));
}

/**
 * Builds the reflector that zeroes row k of `w` beyond column k+1: stores v in `v[k+1..]` and in `w[k][k+1..]`,
 * records d[k] and e[k] and returns β (0 when the row is already zero).
 */
function householder(w: Float64Array, n: number, k: number, v: Float64Array, d: Float64Array, e: Float64Array): number {
  const row = w.subarray(k * n, (k + 1) * n);
  // the entries beyond the diagonal, which the reflector zeroes
  const tail = row.subarray(k + 1);
  d[k] = required(row[k], 'matrix entry');
  let scale = 0;
  for (let t = 0; t < tail.length; t++) scale = Math.max(scale, Math.abs(required(tail[t], 'matrix entry')));
  if (scale === 0 || !Number.isFinite(scale)) {
    e[k] = scale === 0 ? 0 : NaN;
    v.fill(0, k + 1, n);
    tail.fill(0);
    return 0;
  }
  let sigma2 = 0;
  for (let t = 0; t < tail.length; t++) {
    const x = required(tail[t], 'matrix entry') / scale;
    v[k + 1 + t] = x;
    sigma2 += x * x;
  }
  const sigma = Math.sqrt(sigma2);
  const x0 = required(v[k + 1], 'v');
  const alpha = x0 >= 0 ? -sigma : sigma;
  v[k + 1] = x0 - alpha;
  e[k] = alpha * scale;
  tail.set(v.subarray(k + 1, n));
  return 1 / (sigma * (sigma + Math.abs(x0)));
}

/** p[i] = β·Σ_j A[i][j]·v[j] over the trailing block starting at `start`, reading only the upper triangle. */
function symvUpper(w: Float64Array, n: number, start: number, v: Float64Array, p: Float64Array, beta: number): void {
  p.fill(0, start, n);
  for (let i = start; i < n; i++) {
    const row = i * n;
    const vi = required(v[i], 'v');
    let acc = required(w[row + i], 'matrix entry') * vi;
    for (let j = i + 1; j < n; j++) {
      const aij = required(w[row + j], 'matrix entry');
      acc += aij * required(v[j], 'v');
      p[j] = required(p[j], 'p') + aij * vi;
    }
    p[i] = required(p[i], 'p') + acc;
  }
  for (let i = start; i < n; i++) p[i] = required(p[i], 'p') * beta;
}

/** Forms Qᵀ (row-major) from the reflectors stored in `w`, by backward accumulation Q = H₀(H₁(…H_{n−3})). */
function accumulateTransposedQ(w: Float64Array, n: number, betas: Float64Array): Float64Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const u = new Float64Array(n);
  for (let k = n - 3; k >= 0; k--) {
    const beta = required(betas[k], 'beta');
    if (beta === 0) continue;
    const vrow = k * n;
    const s = k + 1;
    // u = vᵀ·Q[s.., s..]
    u.fill(0, s, n);
    for (let i = s; i < n; i++) {
      const vi = required(w[vrow + i], 'reflector entry');
      if (vi === 0) continue;
      const row = i * n;
      for (let j = s; j < n; j++) u[j] = required(u[j], 'u') + vi * required(q[row + j], 'Q entry');
    }
    // Q[s.., s..] −= β·v·u
    for (let i = s; i < n; i++) {
      const f = beta * required(w[vrow + i], 'reflector entry');
      if (f === 0) continue;
      const row = i * n;
      for (let j = s; j < n; j++) q[row + j] = required(q[row + j], 'Q entry') - f * required(u[j], 'u');
    }
  }
  // transpose in place
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = required(q[i * n + j], 'Q entry');
      q[i * n + j] = required(q[j * n + i], 'Q entry');
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
    tst1 = Math.max(tst1, Math.abs(required(d[l], 'd')) + Math.abs(required(e[l], 'e')));
    let m = l;
    while (m < n - 1 && !(Math.abs(required(e[m], 'e')) <= eps * tst1)) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > maxIter) {
          throw new EigenConvergenceError(
            `symmetricEigen: the QL iteration did not converge for eigenvalue ${l} of ${n} after ${maxIter} iterations. ` +
              `The matrix probably contains NaN or Infinity; check the input covariance.`,
          );
        }
        // l < m ≤ n − 1, so l + 1 is a valid index
        const el = required(e[l], 'e');
        let g = required(d[l], 'd');
        let p = (required(d[l + 1], 'd') - g) / (2 * el);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        const dl = el / (p + r);
        const dl1 = el * (p + r);
        d[l] = dl;
        d[l + 1] = dl1;
        let h = g - dl;
        for (let i = l + 2; i < n; i++) d[i] = required(d[i], 'd') - h;
        f += h;
        p = required(d[m], 'd');
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = required(e[l + 1], 'e');
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          const ei = required(e[i], 'e');
          const di = required(d[i], 'd');
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * ei;
          h = c * p;
          r = hypot(p, ei);
          e[i + 1] = s * r;
          s = ei / r;
          c = p / r;
          p = c * di - s * g;
          d[i + 1] = h + s * (c * g + s * di);
          if (vt) rotateRows(vt, n, i, c, s);
        }
        p = (-s * s2 * c3 * el1 * required(e[l], 'e')) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(required(e[l], 'e')) > eps * tst1);
    }
    d[l] = required(d[l], 'd') + f;
    e[l] = 0;
  }
}

/** rows i and i+1 of vt: (x, y) ← (c·x − s·y, s·x + c·y). */
function rotateRows(vt: Float64Array, n: number, i: number, c: number, s: number): void {
  const xo = i * n;
  const yo = xo + n;
  for (let k = 0; k < n; k++) {
    const x = required(vt[xo + k], 'row i of the rotation');
    const y = required(vt[yo + k], 'row i+1 of the rotation');
    vt[yo + k] = s * x + c * y;
    vt[xo + k] = c * x - s * y;
  }
}

function sortAscending(d: Float64Array, n: number, vt: Float64Array | undefined): SymmetricEigenResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => required(d[x], 'eigenvalue') - required(d[y], 'eigenvalue') || x - y);
  const values = Float64Array.from(order, (i) => required(d[i], 'eigenvalue'));
  if (!vt) return { values };
  const vectors = new Float64Array(n * n);
  for (const [i, from] of order.entries()) vectors.set(vt.subarray(from * n, from * n + n), i * n);
  return { values, vectors };
}
