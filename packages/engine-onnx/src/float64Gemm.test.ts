import { at } from '@bigr/core';
import { createFloat64GemmNT } from './float64Gemm.js';

function lcg(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5 + 1e-9 * (i % 7);
  }
  return out;
}

describe('float64 A·Bᵀ on onnxruntime', () => {
  it('matches a sequential float64 product to a few ulps, for 1 and 2 threads', async () => {
    const [m, n, k] = [37, 53, 301];
    const a = lcg(m * k, 1);
    const b = lcg(n * k, 2);
    for (const threads of [1, 2]) {
      const gemm = await createFloat64GemmNT({ threads });
      try {
        const c = await gemm(a, b, m, n, k);
        expect(c).toBeInstanceOf(Float64Array);
        expect(c.length).toBe(m * n);
        let worst = 0;
        for (let i = 0; i < m; i++) {
          const aRow = a.subarray(i * k, (i + 1) * k);
          for (let j = 0; j < n; j++) {
            const bRow = b.subarray(j * k, (j + 1) * k);
            let s = 0;
            let abs = 0;
            for (const [p, ap] of aRow.entries()) {
              const product = ap * at(bRow, p);
              s += product;
              abs += Math.abs(product);
            }
            worst = Math.max(worst, Math.abs(at(c, i * n + j) - s) / abs);
          }
        }
        // float32 would be ~1e-7; float64 accumulation differs from the sequential sum only by rounding.
        expect(worst).toBeLessThan(1e-14);
      } finally {
        await gemm.dispose();
      }
    }
  });
});
