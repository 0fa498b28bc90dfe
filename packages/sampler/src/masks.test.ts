import { CpuTensor } from '@bigr/core';
import { invertMask, maskFromBoxes, maskFromImage, resolveRegionMask } from './masks.js';

describe('region masks (docs/algorithm.md §8.1)', () => {
  it('samples pixel (16i, 16j) of a 256-px mask for a 16×16 grid, channel 0, non-zero = inside', () => {
    const H = 256;
    const img = new Float32Array(3 * H * H);
    // channel 0: a white square covering pixels [40, 100) in both axes; channels 1-2 white everywhere (ignored)
    for (let y = 40; y < 100; y++) for (let x = 40; x < 100; x++) img[y * H + x] = 1;
    img.fill(1, H * H);
    const m = maskFromImage(new CpuTensor<'float32'>(img, [3, H, H]), [16, 16]);
    expect(m.shape).toEqual([1, 256]);
    for (let i = 0; i < 16; i++)
      for (let j = 0; j < 16; j++) {
        const inside = 16 * i >= 40 && 16 * i < 100 && 16 * j >= 40 && 16 * j < 100; // rows/cols 3..6
        expect(m.data[i * 16 + j]).toBe(inside ? 1 : 0);
      }
    // a grey (anti-aliased) pixel counts as inside; a pixel not on the sampling lattice is ignored
    const grey = new Float32Array(H * H);
    grey[16 * 2 * H + 16 * 5] = 0.1;
    grey[17 * H + 17] = 1;
    const g = maskFromImage(new CpuTensor<'float32'>(grey, [H, H]), [16, 16]);
    expect(Array.from(g.data).reduce((a, b) => a + b, 0)).toBe(1);
    expect(g.data[2 * 16 + 5]).toBe(1);
  });

  it('boxes in pixels select the tokens whose sampled pixel is inside; token boxes select cells', () => {
    const m = maskFromBoxes([{ x0: 64, y0: 0, x1: 129, y1: 32 }], [16, 16], [256, 256]);
    const expected = new Uint8Array(256);
    for (let i = 0; i < 2; i++) for (let j = 4; j <= 8; j++) expected[i * 16 + j] = 1;
    expect(Array.from(m.data)).toEqual(Array.from(expected));
    const t = maskFromBoxes([{ x0: 1, y0: 1, x1: 3, y1: 2 }], [4, 4], undefined, 'tokens');
    expect(Array.from(t.data)).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => maskFromBoxes([{ x0: 0, y0: 0, x1: 1, y1: 1 }], [4, 4], undefined)).toThrow(/image size/);
  });

  it('resolves every kind and broadcasts to the batch; inverts for outpainting', () => {
    const tokens = Uint8Array.of(1, 0, 0, 1);
    const r = resolveRegionMask({ kind: 'tokens', mask: tokens }, [2, 2], 3);
    expect(r.shape).toEqual([3, 4]);
    expect(Array.from(r.data)).toEqual([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
    expect(Array.from(invertMask(r).data.subarray(0, 4))).toEqual([0, 1, 1, 0]);
    const b = resolveRegionMask({ kind: 'boxes', boxes: [{ x0: 0, y0: 0, x1: 4, y1: 4 }] }, [2, 2], 1, [8, 8]);
    expect(Array.from(b.data)).toEqual([1, 0, 0, 0]);
    expect(() => resolveRegionMask({ kind: 'tokens', mask: new Uint8Array(5) }, [2, 2], 1)).toThrow(/5 entries/);
  });
});
