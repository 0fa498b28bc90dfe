import { at } from '@bigr/core';
import { sqrtmPsd } from './matrixSqrt.js';
import { matmul, maxAbsDiff, randomSpd } from '../test/lcg.js';

/** Denman–Beavers iteration Y ← (Y + Z⁻¹)/2, Z ← (Z + Y⁻¹)/2 → A^{1/2} — independent of any eigensolver. */
function denmanBeavers(a: Float64Array, n: number): Float64Array {
  let y = Float64Array.from(a);
  let z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  for (let it = 0; it < 60; it++) {
    const yi = invert(y, n);
    const zi = invert(z, n);
    const y2 = y.map((v, i) => 0.5 * (v + at(zi, i, 'entry of Z⁻¹')));
    const z2 = z.map((v, i) => 0.5 * (v + at(yi, i, 'entry of Y⁻¹')));
    const change = maxAbsDiff(y, y2);
    y = y2;
    z = z2;
    if (change < 1e-15) break;
  }
  return y;
}

/** Gauss–Jordan inverse with partial pivoting. */
function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(at(m, r * n + c, 'entry')) > Math.abs(at(m, piv * n + c, 'entry'))) piv = r;
    // swap rows c and piv of both matrices
    for (const x of [m, inv]) {
      const rowC = x.slice(c * n, (c + 1) * n);
      x.copyWithin(c * n, piv * n, (piv + 1) * n);
      x.set(rowC, piv * n);
    }
    const p = at(m, c * n + c, 'pivot');
    for (let k = 0; k < n; k++) {
      m[c * n + k] = at(m, c * n + k, 'entry') / p;
      inv[c * n + k] = at(inv, c * n + k, 'entry') / p;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = at(m, r * n + c, 'entry');
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] = at(m, r * n + k, 'entry') - f * at(m, c * n + k, 'entry');
        inv[r * n + k] = at(inv, r * n + k, 'entry') - f * at(inv, c * n + k, 'entry');
      }
    }
  }
  return inv;
}

describe('sqrtmPsd', () => {
  it.each([2, 5, 24])('agrees with Denman–Beavers on a well-conditioned SPD matrix (n=%i)', (n) => {
    const a = randomSpd(n + 100, n, 3 * n, 0.5);
    const { sqrt, minEigenvalue } = sqrtmPsd(a, n);
    expect(minEigenvalue).toBe(0);
    const db = denmanBeavers(a, n);
    expect(maxAbsDiff(sqrt, db)).toBeLessThan(1e-12);
    expect(maxAbsDiff(matmul(sqrt, sqrt, n, n, n), a)).toBeLessThan(1e-12);
  });

  it('squares back to a rank-deficient PSD matrix and reports tiny negative eigenvalues', () => {
    const n = 20;
    const a = randomSpd(77, n, 6); // rank 6
    const { sqrt, minEigenvalue } = sqrtmPsd(a, n);
    expect(maxAbsDiff(matmul(sqrt, sqrt, n, n, n), a)).toBeLessThan(1e-12);
    expect(minEigenvalue).toBeLessThanOrEqual(0);
    expect(minEigenvalue).toBeGreaterThan(-1e-13);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(sqrt[i * n + j]).toBe(sqrt[j * n + i]);
  });

  it('of a diagonal matrix is the element-wise root', () => {
    const a = new Float64Array([4, 0, 0, 0, 9, 0, 0, 0, 0]);
    expect(maxAbsDiff(sqrtmPsd(a, 3).sqrt, [2, 0, 0, 0, 3, 0, 0, 0, 0])).toBeLessThan(1e-15);
  });
});
