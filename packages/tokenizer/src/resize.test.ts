import { at } from '@bigr/core';
import type { RasterImage } from './imageIo.js';
import { centerCrop, centerCropResize, resizeImage, type ResizeFilter } from './resize.js';
import { PIL_CENTER_CROP_37x23_TO_8, PIL_CENTER_CROP_70x41_TO_16, PIL_GRAY_RESIZE, PIL_RESIZE } from './test/pilVectors.js';

/** The pattern the Pillow vectors were generated from. */
function pilSource(w: number, h: number, c: 1 | 3): RasterImage {
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = (x * 37 + y * 91 + ch * 53 + ((x * y * 7) % 29)) % 256;
  return { width: w, height: h, channels: c, data };
}

describe('resizeImage matches Pillow bit-exactly', () => {
  for (const v of PIL_RESIZE) {
    it(`${v.filter} 13x9 → ${v.width}x${v.height}`, () => {
      const out = resizeImage(pilSource(13, 9, 3), v.width, v.height, v.filter as ResizeFilter);
      expect(Array.from(out.data)).toEqual(v.data);
    });
  }
  it('grayscale bicubic 11x6 → 4x3', () => {
    expect(Array.from(resizeImage(pilSource(11, 6, 1), 4, 3, 'bicubic').data)).toEqual(PIL_GRAY_RESIZE.data);
  });
});

describe('ADM center crop (docs/algorithm.md §0)', () => {
  it('37x23 → 8 (one BOX halving, BICUBIC, crop) matches Pillow', () => {
    const out = centerCropResize(pilSource(37, 23, 3), 8);
    expect([out.width, out.height]).toEqual([8, 8]);
    expect(Array.from(out.data)).toEqual(PIL_CENTER_CROP_37x23_TO_8);
  });
  it('70x41 → 16 matches Pillow', () => {
    expect(Array.from(centerCropResize(pilSource(70, 41, 3), 16).data)).toEqual(PIL_CENTER_CROP_70x41_TO_16);
  });
  it('box halving of an even image is the 2x2 mean (within the rounding of two 8-bit passes)', () => {
    const img = pilSource(8, 6, 1);
    const out = resizeImage(img, 4, 3, 'box');
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++) {
        const top = img.data.subarray(2 * y * 8 + 2 * x, 2 * y * 8 + 2 * x + 2);
        const bottom = img.data.subarray((2 * y + 1) * 8 + 2 * x, (2 * y + 1) * 8 + 2 * x + 2);
        const s = [...top, ...bottom].reduce((a, b) => a + b, 0);
        expect(Math.abs(at(out.data, y * 4 + x, 'output pixel') - s / 4)).toBeLessThanOrEqual(1);
      }
  });
  it('centerCrop takes the floor offsets and refuses crops larger than the image', () => {
    const img = pilSource(5, 4, 1);
    const c = centerCrop(img, 2, 2);
    expect(Array.from(c.data)).toEqual([img.data[1 * 5 + 1], img.data[1 * 5 + 2], img.data[2 * 5 + 1], img.data[2 * 5 + 2]]);
    expect(() => centerCrop(img, 6, 2)).toThrow(/cannot crop 6x2 from a 5x4/);
  });
  it('nearest and identity sizes', () => {
    const img = pilSource(4, 4, 3);
    expect(Array.from(resizeImage(img, 4, 4, 'bicubic').data)).toEqual(Array.from(img.data));
    const up = resizeImage(img, 8, 8, 'nearest');
    expect(up.data[(3 * 8 + 5) * 3 + 1]).toBe(img.data[(1 * 4 + 2) * 3 + 1]);
  });
});
