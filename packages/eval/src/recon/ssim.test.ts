import { at, CpuTensor, ConfigError } from '@bigr/core';
import { ssim, gaussianWindow } from './ssim.js';
import { Lcg } from '../test/lcg.js';

/** Direct 2-D weighted-window SSIM of one grayscale image (independent of the separable implementation). */
function naiveSsim(x: number[][], y: number[][], L: number): number {
  const k = 11;
  const s = 1.5;
  const w = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => Math.exp(-((i - 5) ** 2 + (j - 5) ** 2) / (2 * s * s))));
  let tot = 0;
  for (const row of w) for (const v of row) tot += v;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  let acc = 0;
  let count = 0;
  // an image without rows has no columns either
  const width = x[0]?.length ?? 0;
  for (let r = 0; r + k <= x.length; r++) {
    for (let c = 0; c + k <= width; c++) {
      let mx = 0,
        my = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (const [i, wRow] of w.entries()) {
        const xRow = at(x, r + i, 'row of x');
        const yRow = at(y, r + i, 'row of y');
        for (const [j, wij] of wRow.entries()) {
          const ww = wij / tot;
          const u = at(xRow, c + j, 'pixel of x');
          const v = at(yRow, c + j, 'pixel of y');
          mx += ww * u;
          my += ww * v;
          sxx += ww * u * u;
          syy += ww * v * v;
          sxy += ww * u * v;
        }
      }
      const vx = sxx - mx * mx;
      const vy = syy - my * my;
      const cov = sxy - mx * my;
      acc += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return acc / count;
}

describe('ssim', () => {
  it('identical images give 1; constant images follow (2ab + C1)/(a² + b² + C1)', () => {
    const a = new CpuTensor(new Uint8Array(16 * 16 * 3).fill(80), [1, 16, 16, 3]);
    const b = new CpuTensor(new Uint8Array(16 * 16 * 3).fill(120), [1, 16, 16, 3]);
    expect(ssim(a, a).value).toBeCloseTo(1, 14);
    const c1 = (0.01 * 255) ** 2;
    expect(ssim(a, b).value).toBeCloseTo((2 * 80 * 120 + c1) / (80 ** 2 + 120 ** 2 + c1), 12);
  });

  it('matches a direct 2-D windowed reference on random images (NHWC and NCHW)', () => {
    const g = new Lcg(3);
    const h = 19;
    const w = 23;
    const x = Array.from({ length: h }, () => Array.from({ length: w }, () => g.next() * 2 - 1));
    const y = x.map((row) => row.map((v) => v * 0.7 + (g.next() - 0.5) * 0.4));
    const ref = naiveSsim(x, y, 2);
    const t = (m: number[][]) => new CpuTensor(Float32Array.from(m.flat()), [1, h, w, 1]);
    const r = ssim(t(x), t(y), { dataRange: 2 });
    // float32 storage of the inputs: compare against the reference on the same float32 values
    const xf = x.map((row) => row.map(Math.fround));
    const yf = y.map((row) => row.map(Math.fround));
    expect(Math.abs(r.value - naiveSsim(xf, yf, 2))).toBeLessThan(1e-12);
    expect(Math.abs(r.value - ref)).toBeLessThan(1e-6);
    const tc = (m: number[][]) => new CpuTensor(Float32Array.from(m.flat()), [1, 1, h, w]);
    expect(ssim(tc(x), tc(y), { dataRange: 2, layout: 'NCHW' }).value).toBe(r.value);
    expect(ssim(t(y), t(x), { dataRange: 2 }).value).toBeCloseTo(r.value, 14);
  });

  it('window is normalised and small images are rejected', () => {
    expect(gaussianWindow(11, 1.5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
    const a = new CpuTensor(new Uint8Array(10 * 10), [1, 10, 10, 1]);
    expect(() => ssim(a, a)).toThrow(ConfigError);
  });
});
