import { symmetricEigen, EigenConvergenceError } from './symmetricEigen.js';
import { jacobiEigenvalues, matmul, maxAbsDiff, randomSpd, transpose, Lcg } from '../test/lcg.js';
import { at, required, ShapeError } from '@bigr/core';

function randomSymmetric(seed: number, n: number): Float64Array {
  const g = new Lcg(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = g.next() * 2 - 1;
  return a;
}

describe('symmetricEigen', () => {
  it.each([1, 2, 3, 4, 7, 16, 33])('matches cyclic Jacobi and reconstructs A for n=%i', (n) => {
    const a = randomSymmetric(n, n);
    const { values, vectors } = symmetricEigen(a, n, { vectors: true });
    const ref = jacobiEigenvalues(a, n);
    expect(maxAbsDiff(values, ref)).toBeLessThan(1e-12 * n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(at(values, i - 1, 'eigenvalue'));
    // V rows are eigenvectors: A = Vᵀ Λ V, V Vᵀ = I
    const v = required(vectors, 'eigenvectors');
    const vtl = transpose(v, n, n);
    for (let i = 0; i < n; i++) for (const [k, lambda] of values.entries()) vtl[i * n + k] = at(vtl, i * n + k, 'entry') * lambda;
    expect(maxAbsDiff(matmul(vtl, v, n, n, n), a)).toBeLessThan(1e-13 * n);
    const eye = matmul(v, transpose(v, n, n), n, n, n);
    for (let i = 0; i < n; i++) eye[i * n + i] = at(eye, i * n + i, 'diagonal entry') - 1;
    expect(maxAbsDiff(eye, new Float64Array(n * n))).toBeLessThan(1e-13 * n);
  });

  it('gives the same eigenvalues with and without vectors', () => {
    const n = 40;
    const a = randomSpd(5, n, 10); // rank 10: many zero eigenvalues
    const withV = symmetricEigen(a, n, { vectors: true }).values;
    const without = symmetricEigen(a, n).values;
    expect(maxAbsDiff(withV, without)).toBeLessThan(1e-13);
    // rank-deficient: 30 eigenvalues are rounding-level
    expect(Math.abs(at(without, 29, 'eigenvalue'))).toBeLessThan(1e-12);
    expect(at(without, 30, 'eigenvalue')).toBeGreaterThan(1e-3);
  });

  it('handles diagonal, zero and repeated-eigenvalue matrices', () => {
    const n = 6;
    const diag = new Float64Array(n * n);
    [3, -1, 2, 2, 0, 5].forEach((x, i) => {
      diag[i * n + i] = x;
    });
    expect(Array.from(symmetricEigen(diag, n).values)).toEqual([-1, 0, 2, 2, 3, 5]);
    expect(Array.from(symmetricEigen(new Float64Array(n * n), n).values)).toEqual([0, 0, 0, 0, 0, 0]);
    const eye = new Float64Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    const r = symmetricEigen(eye, n, { vectors: true });
    expect(maxAbsDiff(r.values, new Float64Array(n).fill(1))).toBe(0);
  });

  it('reads only the upper triangle', () => {
    const n = 5;
    const a = randomSymmetric(9, n);
    const b = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) b[i * n + j] = 123;
    expect(maxAbsDiff(symmetricEigen(a, n).values, symmetricEigen(b, n).values)).toBe(0);
  });

  it('validates the size', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(ShapeError);
    expect(EigenConvergenceError).toBeDefined();
  });
});
