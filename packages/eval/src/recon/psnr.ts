/**
 * Peak signal-to-noise ratio of reconstructions: PSNR = 10·log10(L² / MSE) with L the data range (255 for
 * uint8). Default reduction: PSNR per image, then the arithmetic mean over images (as tokenizer papers using
 * skimage per image do); `'global'` instead uses the MSE over the whole batch. Identical images give +Infinity.
 */
import { required, type Tensor } from '@bigr/core';
import { type ImageLayout, imagePair } from './imageBatch.js';

/** Options for {@link psnr}. */
export interface PsnrOptions {
  /** Value range L (default 255 for uint8; required for float images). */
  dataRange?: number;
  /** 'per-image-mean' (default) or 'global'. */
  reduction?: 'per-image-mean' | 'global';
  /** Layout of the batches (default NHWC); irrelevant for PSNR except for validation. */
  layout?: ImageLayout;
}

/** Result of {@link psnr}. */
export interface PsnrResult {
  /** The reduced PSNR in dB. */
  readonly value: number;
  /** PSNR of each image in dB. */
  readonly perImage: Float64Array;
}

/** PSNR between two equally shaped image batches ([N, H, W, C] by default). */
export function psnr(a: Tensor, b: Tensor, options: PsnrOptions = {}): PsnrResult {
  const p = imagePair(a, b, options.layout ?? 'NHWC', options.dataRange, 'psnr');
  const per = p.h * p.w * p.c;
  const perImage = new Float64Array(p.n);
  const l2 = p.dataRange * p.dataRange;
  let total = 0;
  for (let i = 0; i < p.n; i++) {
    let se = 0;
    for (let j = i * per; j < (i + 1) * per; j++) {
      const d = required(p.a[j], 'pixel of the first image') - required(p.b[j], 'pixel of the second image');
      se += d * d;
    }
    total += se;
    perImage[i] = 10 * Math.log10(l2 / (se / per));
  }
  const value = options.reduction === 'global' ? 10 * Math.log10(l2 / (total / (per * p.n))) : perImage.reduce((s, v) => s + v, 0) / p.n;
  return { value, perImage };
}
