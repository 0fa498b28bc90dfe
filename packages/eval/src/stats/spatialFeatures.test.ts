import { CpuTensor, ShapeError } from '@bigr/core';
import { spatialFeatures } from './spatialFeatures.js';

/** value encodes (n, h, w, c) */
const code = (n: number, h: number, w: number, c: number) => n * 1e6 + h * 1e4 + w * 100 + c;

describe('spatialFeatures (docs/evaluation.md §3 layout)', () => {
  const [N, H, W, C] = [2, 17, 17, 192];
  it('maps NCHW and NHWC maps to index (h·W + w)·7 + c', () => {
    const nchw = new Float32Array(N * C * H * W);
    const nhwc = new Float32Array(N * H * W * C);
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) {
            nchw[((n * C + c) * H + h) * W + w] = code(n, h, w, c);
            nhwc[((n * H + h) * W + w) * C + c] = code(n, h, w, c);
          }
    const a = spatialFeatures(new CpuTensor(nchw, [N, C, H, W]), 'NCHW');
    const b = spatialFeatures(new CpuTensor(nhwc, [N, H, W, C]), 'NHWC');
    expect(a.shape).toEqual([2, 2023]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    for (const [n, h, w, c] of [
      [0, 0, 0, 0],
      [1, 16, 16, 6],
      [1, 3, 5, 2],
      [0, 0, 1, 0],
    ] as const) {
      expect(a.data[n * 2023 + (h * 17 + w) * 7 + c]).toBe(Math.fround(code(n, h, w, c)));
    }
  });
  it('rejects wrong ranks and channel counts', () => {
    expect(() => spatialFeatures(new CpuTensor(new Float32Array(6), [2, 3]), 'NCHW')).toThrow(ShapeError);
    expect(() => spatialFeatures(new CpuTensor(new Float32Array(2 * 4 * 4 * 5), [2, 4, 4, 5]), 'NHWC')).toThrow(/first 7 channels of a map with 5/);
  });
});
