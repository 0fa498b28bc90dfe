import { ConfigError, required } from '@bigr/core';
import type { RasterImage } from './imageIo.js';

/**
 * Resampling filters, with Pillow's kernels and support (so results match `PIL.Image.resize`):
 * - `'box'`: support 0.5, 1 inside (−0.5, 0.5] (area average when shrinking);
 * - `'bilinear'`: triangle, support 1;
 * - `'bicubic'`: Keys cubic with a = −0.5, support 2;
 * - `'nearest'`: pixel at floor((x + 0.5)·scale).
 * Except for `'nearest'` the kernel is widened by the scale factor when shrinking (antialiasing), weights are
 * normalised per output pixel and quantised to 22-bit fixed point, and each pass rounds to uint8, as Pillow does
 * for 8-bit images (horizontal pass first, then vertical).
 */
export type ResizeFilter = 'nearest' | 'box' | 'bilinear' | 'bicubic';

const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

const FILTERS: Record<Exclude<ResizeFilter, 'nearest'>, { support: number; f: (x: number) => number }> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    f: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

interface Coefficients {
  /** First input index per output pixel. */
  start: Int32Array;
  /** Taps per output pixel. */
  count: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  weights: Int32Array;
  ksize: number;
}

function coefficients(inSize: number, outSize: number, filter: Exclude<ResizeFilter, 'nearest'>): Coefficients {
  const { support: baseSupport, f } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = f((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? required(pre[x], 'filter tap') / ww : 0;
      weights[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(sum: number): number {
  const v = Math.floor((sum + HALF) / ONE);
  return Math.min(Math.max(v, 0), 255);
}

function resampleHorizontal(img: RasterImage, outW: number, filter: Exclude<ResizeFilter, 'nearest'>): RasterImage {
  const { width, height, channels, data } = img;
  const c = coefficients(width, outW, filter);
  const out = new Uint8Array(outW * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let xx = 0; xx < outW; xx++) {
      const s = required(c.start[xx], 'first source column');
      const n = required(c.count[xx], 'source column count');
      const kOff = xx * c.ksize;
      for (let ch = 0; ch < channels; ch++) {
        let sum = 0;
        for (let x = 0; x < n; x++) sum += required(data[row + (s + x) * channels + ch], 'source byte') * required(c.weights[kOff + x], 'filter weight');
        out[(y * outW + xx) * channels + ch] = clip8(sum);
      }
    }
  }
  return { width: outW, height, channels, data: out };
}

function resampleVertical(img: RasterImage, outH: number, filter: Exclude<ResizeFilter, 'nearest'>): RasterImage {
  const { width, height, channels, data } = img;
  const c = coefficients(height, outH, filter);
  const out = new Uint8Array(width * outH * channels);
  const stride = width * channels;
  for (let yy = 0; yy < outH; yy++) {
    const s = required(c.start[yy], 'first source row');
    const n = required(c.count[yy], 'source row count');
    const kOff = yy * c.ksize;
    for (let i = 0; i < stride; i++) {
      let sum = 0;
      for (let y = 0; y < n; y++) sum += required(data[(s + y) * stride + i], 'source byte') * required(c.weights[kOff + y], 'filter weight');
      out[yy * stride + i] = clip8(sum);
    }
  }
  return { width, height: outH, channels, data: out };
}

function nearest(img: RasterImage, outW: number, outH: number): RasterImage {
  const { width, height, channels, data } = img;
  const out = new Uint8Array(outW * outH * channels);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outH));
    for (let x = 0; x < outW; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outW));
      for (let ch = 0; ch < channels; ch++) out[(y * outW + x) * channels + ch] = required(data[(sy * width + sx) * channels + ch], 'source byte');
    }
  }
  return { width: outW, height: outH, channels, data: out };
}

/** Resizes an 8-bit raster to `width`×`height` with `filter` (see {@link ResizeFilter}). */
export function resizeImage(img: RasterImage, width: number, height: number, filter: ResizeFilter): RasterImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ConfigError(`resizeImage: target size ${width}x${height} must be positive integers.`);
  }
  if (filter === 'nearest') return nearest(img, width, height);
  if (!(filter in FILTERS)) throw new ConfigError(`Unknown resize filter "${String(filter)}"; use nearest, box, bilinear or bicubic.`);
  let out = img;
  if (width !== img.width) out = resampleHorizontal(out, width, filter);
  if (height !== img.height) out = resampleVertical(out, height, filter);
  return out === img ? { ...img, data: img.data.slice() } : out;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Crops `width`×`height` at offsets floor((H − height)/2), floor((W − width)/2). */
export function centerCrop(img: RasterImage, width: number, height: number): RasterImage {
  if (width > img.width || height > img.height) {
    throw new ConfigError(`centerCrop: cannot crop ${width}x${height} from a ${img.width}x${img.height} image. Resize it first.`);
  }
  const oy = Math.floor((img.height - height) / 2);
  const ox = Math.floor((img.width - width) / 2);
  const c = img.channels;
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) out.set(img.data.subarray(((oy + y) * img.width + ox) * c, ((oy + y) * img.width + ox + width) * c), y * width * c);
  return { width, height, channels: c, data: out };
}

/**
 * The ADM center crop of docs/algorithm.md §0 (`center_crop_arr`): while min(w, h) ≥ 2·size, halve both sides (integer
 * division) with the BOX filter; then resize by size/min(w, h) (sides rounded half-to-even, like Python's round)
 * with BICUBIC, and crop size×size at floor((H − size)/2), floor((W − size)/2).
 */
export function centerCropResize(img: RasterImage, size: number): RasterImage {
  if (!Number.isInteger(size) || size < 1) throw new ConfigError(`centerCropResize: size ${size} must be a positive integer.`);
  let cur = img;
  while (Math.min(cur.width, cur.height) >= 2 * size) {
    cur = resizeImage(cur, Math.floor(cur.width / 2), Math.floor(cur.height / 2), 'box');
  }
  const scale = size / Math.min(cur.width, cur.height);
  const w = Math.max(size, roundHalfEven(cur.width * scale));
  const h = Math.max(size, roundHalfEven(cur.height * scale));
  if (w !== cur.width || h !== cur.height) cur = resizeImage(cur, w, h, 'bicubic');
  return centerCrop(cur, size, size);
}
