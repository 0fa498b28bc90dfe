import { at, CpuTensor } from '@bigr/core';
import { resizeBilinear } from './resize.js';

describe('bilinear resize (align_corners = False)', () => {
  it('upsamples 1×2 → 1×4 like torch: [0, 1] → [0, 0.25, 0.75, 1]', () => {
    const out = resizeBilinear(new CpuTensor<'float32'>(Float32Array.of(0, 1), [1, 1, 1, 2]), 1, 4);
    expect(Array.from(out.data)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('matches a float64 reference of the half-pixel formula for 128 → 256-like ratios', () => {
    const H = 5;
    const W = 6;
    const src = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.fround(Math.abs(Math.sin(i))));
    const out = resizeBilinear(new CpuTensor<'float32'>(src, [1, 2, H, W]), 2 * H, 2 * W);
    const coord = (d: number, inn: number, o: number) => Math.max(0, ((d + 0.5) * inn) / o - 0.5);
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 2 * H; y++)
        for (let x = 0; x < 2 * W; x++) {
          const sy = coord(y, H, 2 * H);
          const sx = coord(x, W, 2 * W);
          const y0 = Math.floor(sy);
          const x0 = Math.floor(sx);
          const y1 = Math.min(y0 + 1, H - 1);
          const x1 = Math.min(x0 + 1, W - 1);
          const ly = sy - y0;
          const lx = sx - x0;
          const px = (yy: number, xx: number) => at(src, (c * H + yy) * W + xx, 'source pixel');
          const ref = (1 - ly) * ((1 - lx) * px(y0, x0) + lx * px(y0, x1)) + ly * ((1 - lx) * px(y1, x0) + lx * px(y1, x1));
          expect(out.data[(c * 2 * H + y) * 2 * W + x]).toBeCloseTo(ref, 6);
        }
  });

  it('keeps a constant image constant and rejects bad shapes', () => {
    const out = resizeBilinear(new CpuTensor<'float32'>(new Float32Array(3 * 4 * 4).fill(0.3), [1, 3, 4, 4]), 8, 8);
    expect(Array.from(out.data).every((v) => Math.abs(v - 0.3) < 1e-7)).toBe(true);
    expect(() => resizeBilinear(new CpuTensor<'float32'>(new Float32Array(4), [2, 2]), 4, 4)).toThrow(/\[B, C, H, W\]/);
  });
});
