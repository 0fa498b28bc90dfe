import { CpuTensor, ConfigError, ShapeError } from '@bigr/core';
import { psnr } from './psnr.js';

describe('psnr', () => {
  it('known answers: uniform error e gives 10·log10(L²/e²); identical images give Infinity', () => {
    const a = new CpuTensor(new Uint8Array(2 * 4 * 4 * 3).fill(100), [2, 4, 4, 3]);
    const b = new CpuTensor(new Uint8Array(2 * 4 * 4 * 3).fill(110), [2, 4, 4, 3]);
    expect(psnr(a, b).value).toBeCloseTo(10 * Math.log10(255 ** 2 / 100), 12);
    expect(psnr(a, a).value).toBe(Infinity);
  });
  it('per-image mean vs global reduction', () => {
    const a = new CpuTensor(new Float32Array(2 * 2 * 2 * 1), [2, 2, 2, 1]);
    const b = new CpuTensor(Float32Array.from([0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2]), [2, 2, 2, 1]);
    const r = psnr(a, b, { dataRange: 2 });
    const p1 = 10 * Math.log10(4 / Math.fround(0.1) ** 2);
    const p2 = 10 * Math.log10(4 / Math.fround(0.2) ** 2);
    expect(r.perImage[0]).toBeCloseTo(p1, 10);
    expect(r.value).toBeCloseTo((p1 + p2) / 2, 10);
    const mse = (Math.fround(0.1) ** 2 + Math.fround(0.2) ** 2) / 2;
    expect(psnr(a, b, { dataRange: 2, reduction: 'global' }).value).toBeCloseTo(10 * Math.log10(4 / mse), 10);
  });
  it('validates inputs', () => {
    const a = new CpuTensor(new Float32Array(4), [1, 2, 2, 1]);
    expect(() => psnr(a, a)).toThrow(ConfigError);
    expect(() => psnr(a, new CpuTensor(new Float32Array(8), [2, 2, 2, 1]), { dataRange: 1 })).toThrow(ShapeError);
  });
});
