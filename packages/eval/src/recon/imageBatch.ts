/** Shared validation of image batches for the reconstruction metrics. */
import { ConfigError, dims4, ShapeError, type Tensor } from '@bigr/core';

/** Memory layout of a 4-D image batch. */
export type ImageLayout = 'NHWC' | 'NCHW';

/** A validated image pair with geometry. */
export interface ImagePair {
  /** Values of the first batch. */
  readonly a: ArrayLike<number>;
  /** Values of the second batch. */
  readonly b: ArrayLike<number>;
  /** Images. */
  readonly n: number;
  /** Height. */
  readonly h: number;
  /** Width. */
  readonly w: number;
  /** Channels. */
  readonly c: number;
  /** Memory layout. */
  readonly layout: ImageLayout;
  /** Value range L. */
  readonly dataRange: number;
}

/**
 * Checks that `a` and `b` are 4-D image batches of equal shape and dtype and resolves the data range
 * (default 255 for uint8; required for float images, e.g. 2 for [−1, 1] or 1 for [0, 1]).
 */
export function imagePair(a: Tensor, b: Tensor, layout: ImageLayout, dataRange: number | undefined, what: string): ImagePair {
  if (a.shape.length !== 4 || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${what}: images have shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]; two equal 4-D ${layout} batches were expected.`);
  }
  if (a.dtype !== b.dtype) throw new ShapeError(`${what}: images have dtypes ${a.dtype} and ${b.dtype}; compare images of the same dtype.`);
  const range = dataRange ?? (a.dtype === 'uint8' ? 255 : undefined);
  if (range === undefined || !(range > 0)) {
    throw new ConfigError(`${what}: dataRange ${range} is invalid for ${a.dtype} images; pass the value range (2 for [−1, 1], 1 for [0, 1], 255 for 0…255).`);
  }
  const [n, d1, d2, d3] = dims4(a.shape, `${what} images`);
  const [h, w, c] = layout === 'NHWC' ? [d1, d2, d3] : [d2, d3, d1];
  return { a: a.data, b: b.data, n, h, w, c, layout, dataRange: range };
}

/** Flat index of (image i, row y, column x, channel ch). */
export function pixelIndex(p: ImagePair, i: number, y: number, x: number, ch: number): number {
  return p.layout === 'NHWC' ? ((i * p.h + y) * p.w + x) * p.c + ch : ((i * p.c + ch) * p.h + y) * p.w + x;
}
