import { gemmNT, rowSquaredNorms, syrkNT } from './gemm.js';
import { lcgMatrix, matmul, maxAbsDiff, transpose } from '../test/lcg.js';

describe('gemm kernels', () => {
  it.each([
    [1, 1, 1],
    [3, 5, 7],
    [9, 70, 13],
    [66, 65, 130],
  ])('gemmNT matches the naive product for m=%i n=%i k=%i', (m, n, k) => {
    const a = lcgMatrix(1, m, k);
    const b = lcgMatrix(2, n, k);
    expect(maxAbsDiff(gemmNT(a, b, m, n, k), matmul(a, transpose(b, n, k), m, k, n))).toBeLessThan(1e-12 * k);
  });

  it('syrkNT is bitwise equal to gemmNT(A, A) and symmetric; norms equal the diagonal bit for bit', () => {
    const n = 70;
    const k = 33;
    const a = Float32Array.from(lcgMatrix(3, n, k));
    const g = gemmNT(a, a, n, n, k);
    const s = syrkNT(a, n, k);
    expect(Array.from(s)).toEqual(Array.from(g));
    const norms = rowSquaredNorms(a, n, k);
    for (let i = 0; i < n; i++) expect(norms[i]).toBe(g[i * n + i]);
  });

  it('every entry is independent of which block computes it', () => {
    const a = lcgMatrix(4, 10, 17);
    const b = lcgMatrix(5, 9, 17);
    const full = gemmNT(a, b, 10, 9, 17);
    const sub = gemmNT(a.subarray(3 * 17, 7 * 17), b.subarray(2 * 17, 3 * 17), 4, 1, 17);
    for (let i = 0; i < 4; i++) expect(sub[i]).toBe(full[(3 + i) * 9 + 2]);
  });
});
