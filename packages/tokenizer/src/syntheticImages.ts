import { at, ConfigError, CpuTensor, type Rng } from '@bigr/core';
import type { LabelledImages } from './idxReader.js';

/** Class names of {@link syntheticFashionImages}, index = label. */
export const SYNTHETIC_FASHION_CLASSES = ['T-shirt', 'Trouser', 'Bag', 'Sneaker', 'Dress'] as const;

/** Options of {@link syntheticFashionImages}. */
export interface SyntheticFashionOptions {
  /** Number of images. */
  readonly count: number;
  /** Side length of the square canvas (default 28, like Fashion-MNIST). */
  readonly size?: number;
  /** Zero padding added on every side after drawing (2 gives the 32×32 of the fashion-mnist-32 preset). Default 0. */
  readonly pad?: number;
}

type Shape = (u: number, v: number) => boolean;

/** Silhouettes in unit coordinates (u = x, v = y, both in [−1, 1], y down). */
const SHAPES: readonly Shape[] = [
  // T-shirt: body plus sleeves
  (u, v) => (Math.abs(u) < 0.45 && v > -0.6 && v < 0.8) || (Math.abs(u) < 0.85 && v > -0.6 && v < -0.2),
  // Trouser: two legs joined by a waistband
  (u, v) => (v > -0.8 && v < -0.45 && Math.abs(u) < 0.5) || (v >= -0.45 && v < 0.85 && Math.abs(u) > 0.08 && Math.abs(u) < 0.5),
  // Bag: body plus a handle ring
  (u, v) => (Math.abs(u) < 0.75 && v > -0.2 && v < 0.75) || (v <= -0.2 && v > -0.75 && Math.abs(Math.hypot(u, v + 0.2) - 0.42) < 0.1),
  // Sneaker: low sole and a rounded upper
  (u, v) => (v > 0.25 && v < 0.55 && Math.abs(u) < 0.85) || ((u + 0.2) ** 2 / 0.42 + (v - 0.25) ** 2 / 0.12 < 1 && v <= 0.25),
  // Dress: narrow top widening to the hem
  (u, v) => v > -0.8 && v < 0.85 && Math.abs(u) < 0.22 + 0.45 * ((v + 0.8) / 1.65),
];

/**
 * Fashion-MNIST-like synthetic images for tests, demos and benchmarks (no data set needed): five garment-like
 * silhouettes on a black background, with random scale, shift, brightness, a smooth shading gradient and slight
 * noise, antialiased by 4×4 supersampling. Returns [N, 1, size + 2·pad, size + 2·pad] in [0, 1] and labels
 * 0…4 ({@link SYNTHETIC_FASHION_CLASSES}); every value comes from `rng`.
 */
export function syntheticFashionImages(rng: Rng, options: SyntheticFashionOptions): LabelledImages {
  const { count } = options;
  const size = options.size ?? 28;
  const pad = options.pad ?? 0;
  if (!Number.isInteger(count) || count < 0) throw new ConfigError(`syntheticFashionImages: count must be a non-negative integer, got ${count}.`);
  if (!Number.isInteger(size) || size < 4) throw new ConfigError(`syntheticFashionImages: size must be an integer >= 4, got ${size}.`);
  const side = size + 2 * pad;
  const data = new Float32Array(count * side * side);
  const labels = new Int32Array(count);
  const ss = 4;
  for (let i = 0; i < count; i++) {
    const label = rng.int(SHAPES.length);
    labels[i] = label;
    const shape = at(SHAPES, label, 'synthetic shape');
    const scale = 0.8 + 0.25 * rng.uniform();
    const dx = (rng.uniform() - 0.5) * 0.25;
    const dy = (rng.uniform() - 0.5) * 0.25;
    const bright = 0.55 + 0.45 * rng.uniform();
    const gx = (rng.uniform() - 0.5) * 0.5;
    const gy = (rng.uniform() - 0.5) * 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let cover = 0;
        for (let sy = 0; sy < ss; sy++) {
          for (let sx = 0; sx < ss; sx++) {
            const u = (((x + (sx + 0.5) / ss) / size) * 2 - 1 - dx) / scale;
            const v = (((y + (sy + 0.5) / ss) / size) * 2 - 1 - dy) / scale;
            if (shape(u, v)) cover++;
          }
        }
        const u0 = (x / size) * 2 - 1;
        const v0 = (y / size) * 2 - 1;
        const shade = bright * (1 + gx * u0 + gy * v0);
        const noise = 0.03 * (rng.uniform() - 0.5);
        const val = (cover / (ss * ss)) * (shade + noise);
        data[i * side * side + (y + pad) * side + x + pad] = Math.min(1, Math.max(0, val));
      }
    }
  }
  return { images: new CpuTensor(data, [count, 1, side, side]), labels, classNames: [...SYNTHETIC_FASHION_CLASSES] };
}
