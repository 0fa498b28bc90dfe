/**
 * For the tests: the docs/evaluation.md §6.3 32-bit LCG (bit-identical to the Python fixture script) and small matrix
 * utilities written independently of the package code.
 */
import { at } from '@bigr/core';

/** docs/evaluation.md §6.3 LCG: state ← (1664525·state + 1013904223) mod 2³², output state/2³² (update first). */
export class Lcg {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Next uniform in [0, 1). */
  next(): number {
    this.state = (Math.imul(1664525, this.state) + 1013904223) >>> 0;
    return this.state / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Approximate standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-300);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** Row-major rows×cols matrix of consecutive LCG outputs. */
export function lcgMatrix(seed: number, rows: number, cols: number): Float64Array {
  const g = new Lcg(seed);
  return Float64Array.from({ length: rows * cols }, () => g.next());
}

/** Naive C = A·B for row-major A (m×k), B (k×n). */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = at(a, i * k + p, 'A entry');
      for (let j = 0; j < n; j++) c[i * n + j] = at(c, i * n + j, 'C entry') + x * at(b, p * n + j, 'B entry');
    }
  }
  return c;
}

/** Transpose of a row-major m×n matrix. */
export function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = at(a, i * n + j, 'matrix entry');
  return t;
}

/** Random symmetric PSD matrix X·Xᵀ/cols (+ ridge·I) from LCG-normal entries. */
export function randomSpd(seed: number, n: number, cols: number, ridge = 0): Float64Array {
  const g = new Lcg(seed);
  const x = Float64Array.from({ length: n * cols }, () => g.normal());
  const s = matmul(x, transpose(x, n, cols), n, cols, n);
  for (const [i, v] of s.entries()) s[i] = v / cols;
  for (let i = 0; i < n; i++) s[i * n + i] = at(s, i * n + i, 'diagonal entry') + ridge;
  return s;
}

/** np.cov(x, rowvar=False) by the two-pass textbook formula. */
export function naiveCov(x: ArrayLike<number>, rows: number, cols: number): { mu: Float64Array; sigma: Float64Array } {
  const mu = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mu[j] = at(mu, j, 'mean') + at(x, i * cols + j, 'sample');
  for (const [j, v] of mu.entries()) mu[j] = v / rows;
  const sigma = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < cols; a++) {
      const da = at(x, i * cols + a, 'sample') - at(mu, a, 'mean');
      for (let b = 0; b < cols; b++) sigma[a * cols + b] = at(sigma, a * cols + b, 'covariance') + da * (at(x, i * cols + b, 'sample') - at(mu, b, 'mean'));
    }
  }
  for (const [i, v] of sigma.entries()) sigma[i] = v / (rows - 1);
  return { mu, sigma };
}

/** Cyclic Jacobi eigenvalues (ascending) of a small symmetric matrix — an independent reference solver. */
export function jacobiEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const m = Float64Array.from(a);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += at(m, i * n + j, 'entry') ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = at(m, p * n + q, 'entry');
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (at(m, q * n + q, 'entry') - at(m, p * n + p, 'entry')) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = at(m, k * n + p, 'entry');
          const akq = at(m, k * n + q, 'entry');
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = at(m, p * n + k, 'entry');
          const aqk = at(m, q * n + k, 'entry');
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => at(m, i * n + i, 'diagonal entry')).sort();
}

export { maxAbsDiff } from '@bigr/testing';
