/**
 * Structural similarity (Wang et al. 2004) with the standard settings: Gaussian window 11×11, σ = 1.5
 * (normalised to sum 1), K₁ = 0.01, K₂ = 0.03, C₁ = (K₁L)², C₂ = (K₂L)², L the data range; local statistics
 * are Gaussian-weighted population moments over **valid** window positions only (no padding), computed per
 * channel in float64. The SSIM of an image is the mean of the SSIM map over positions and channels; the batch
 * value is the mean over images. This equals MATLAB `ssim_index`, pytorch-msssim, torchmetrics and
 * skimage (`gaussian_weights=True, use_sample_covariance=False`, per channel), all of which average the valid
 * region. Images must be at least 11×11.
 */
import { required, ConfigError, type Tensor } from '@bigr/core';
import { type ImageLayout, type ImagePair, imagePair, pixelIndex } from './imageBatch.js';

/** Options for {@link ssim}. */
export interface SsimOptions {
  /** Value range L (default 255 for uint8; required for float images). */
  dataRange?: number;
  /** Layout (default NHWC). */
  layout?: ImageLayout;
  /** Window size (default 11). */
  windowSize?: number;
  /** Gaussian σ (default 1.5). */
  sigma?: number;
}

/** Result of {@link ssim}. */
export interface SsimResult {
  /** Mean SSIM over images. */
  readonly value: number;
  /** SSIM of each image (mean over its valid positions and channels). */
  readonly perImage: Float64Array;
}

/** Normalised 1-D Gaussian window. */
export function gaussianWindow(size: number, sigma: number): Float64Array {
  const c = (size - 1) / 2;
  const w = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  let s = 0;
  for (const v of w) s += v;
  for (const [i, v] of w.entries()) w[i] = v / s;
  return w;
}

/** SSIM between two equally shaped image batches. */
export function ssim(a: Tensor, b: Tensor, options: SsimOptions = {}): SsimResult {
  const p = imagePair(a, b, options.layout ?? 'NHWC', options.dataRange, 'ssim');
  const k = options.windowSize ?? 11;
  const win = gaussianWindow(k, options.sigma ?? 1.5);
  if (p.h < k || p.w < k) throw new ConfigError(`ssim: images are ${p.h}×${p.w}, smaller than the ${k}×${k} window.`);
  const c1 = (0.01 * p.dataRange) ** 2;
  const c2 = (0.03 * p.dataRange) ** 2;
  const oh = p.h - k + 1;
  const ow = p.w - k + 1;
  const perImage = new Float64Array(p.n);
  const plane = (): Float64Array => new Float64Array(p.h * p.w);
  const planes: Planes = [plane(), plane(), plane(), plane(), plane()];
  for (let i = 0; i < p.n; i++) {
    let acc = 0;
    for (let ch = 0; ch < p.c; ch++) {
      fillPlanes(p, i, ch, planes);
      const [x, y, xx, yy, xy] = planes;
      const filter = (plane: Float64Array): Float64Array => filterValid(plane, p.h, p.w, win);
      const [fy, fxx, fyy, fxy] = [filter(y), filter(xx), filter(yy), filter(xy)];
      // every filtered plane has oh·ow entries
      const fx = filter(x);
      for (let q = 0; q < fx.length; q++) {
        const mx = required(fx[q], 'local mean of x');
        const my = required(fy[q], 'local mean of y');
        const vx = required(fxx[q], 'local mean of x²') - mx * mx;
        const vy = required(fyy[q], 'local mean of y²') - my * my;
        const cxy = required(fxy[q], 'local mean of xy') - mx * my;
        acc += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    }
    perImage[i] = acc / (oh * ow * p.c);
  }
  return { value: perImage.reduce((s, v) => s + v, 0) / p.n, perImage };
}

/** The planes x, y, x², y² and xy of one channel of one image pair. */
type Planes = readonly [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];

function fillPlanes(p: ImagePair, i: number, ch: number, planes: Planes): void {
  const [x, y, xx, yy, xy] = planes;
  for (let r = 0; r < p.h; r++) {
    for (let c = 0; c < p.w; c++) {
      const idx = pixelIndex(p, i, r, c, ch);
      const u = required(p.a[idx], 'pixel of the first image');
      const v = required(p.b[idx], 'pixel of the second image');
      const q = r * p.w + c;
      x[q] = u;
      y[q] = v;
      xx[q] = u * u;
      yy[q] = v * v;
      xy[q] = u * v;
    }
  }
}

/** Separable valid filtering with window `win`: returns (h−k+1)×(w−k+1). */
function filterValid(src: Float64Array, h: number, w: number, win: Float64Array): Float64Array {
  const k = win.length;
  const ow = w - k + 1;
  const oh = h - k + 1;
  const tmp = new Float64Array(h * ow);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += required(win[t], 'window weight') * required(src[r * w + c + t], 'plane value');
      tmp[r * ow + c] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += required(win[t], 'window weight') * required(tmp[(r + t) * ow + c], 'row-filtered value');
      out[r * ow + c] = s;
    }
  }
  return out;
}
