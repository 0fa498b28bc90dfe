import { resizeBilinearTf1 } from './tf1Resize.js';
import { quantizeUnitToUint8, toUint8Nhwc } from './quantize.js';
import { at, CpuTensor } from '@bigr/core';

describe('resizeBilinearTf1 (docs/evaluation.md §1.3, §6.2)', () => {
  it('2×2 [[0,1],[2,3]] → 3×3 follows the asymmetric TF1 mapping', () => {
    const out = resizeBilinearTf1(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 1, 3, 3);
    const expected = [0, 2 / 3, 1, 4 / 3, 2, 7 / 3, 2, 8 / 3, 3];
    out.forEach((v, i) => {
      expect(Math.abs(v - at(expected, i, 'expected value'))).toBeLessThan(1e-6);
    });
  });

  it('a 0…255 ramp resized 256 → 299 starts 0, 0.8561873, 1.7123746 and ends 254.2876, 255', () => {
    const ramp = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = resizeBilinearTf1(ramp, 1, 1, 256, 1, 1, 299);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(0.8561873, 6);
    expect(out[2]).toBeCloseTo(1.7123746, 6);
    expect(out[297]).toBeCloseTo(254.2876, 4);
    expect(out[298]).toBe(255);
  });

  it('resizes channels independently and handles batches', () => {
    const img = Uint8Array.from([0, 100, 10, 110, 20, 120, 30, 130]); // 2×2×2
    const out = resizeBilinearTf1(new Uint8Array([...img, ...img]), 2, 2, 2, 2, 2, 2);
    expect(Array.from(out)).toEqual([...img, ...img]);
    expect(() => resizeBilinearTf1(new Uint8Array(3), 1, 2, 2, 1, 3, 3)).toThrow(/NHWC/);
  });
});

describe('quantisation (docs/evaluation.md §1.1)', () => {
  it('maps [−1, 1] to 0…255 with round-half-up, clamping outside values', () => {
    expect(quantizeUnitToUint8(-1)).toBe(0);
    expect(quantizeUnitToUint8(1)).toBe(255);
    expect(quantizeUnitToUint8(0)).toBe(128); // 127.5 + 0.5
    expect(quantizeUnitToUint8(-3)).toBe(0);
    expect(quantizeUnitToUint8(7)).toBe(255);
    for (let i = 0; i <= 255; i++) expect(quantizeUnitToUint8(i / 127.5 - 1)).toBe(i); // exact levels survive
  });
  it('converts float NCHW to uint8 NHWC and passes uint8 through', () => {
    const t = new CpuTensor(Float32Array.from([-1, 1, 0, 0.5]), [1, 2, 1, 2]); // C=2, H=1, W=2
    const q = toUint8Nhwc(t);
    expect(q.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(q.data)).toEqual([0, 128, 255, 191]);
    const u = new CpuTensor(new Uint8Array(12), [1, 2, 2, 3]);
    expect(toUint8Nhwc(u)).toBe(u);
    expect(() => toUint8Nhwc(new CpuTensor(new Uint8Array(3), [3]))).toThrow(/NHWC/);
  });
});
