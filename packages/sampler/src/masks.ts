/**
 * Region masks for the zero-shot applications (docs/algorithm.md §8.1): from a mask image or boxes to a per-token mask
 * [B, N] (1 = inside the region), on the tokenizer's latent grid.
 */
import { ConfigError, CpuTensor, dims2, dims3, dims4, ShapeError } from '@bigr/core';
import type { Tensor } from '@bigr/core';

/** A rectangle [x0, x1) × [y0, y1) in pixels (or tokens with `units: 'tokens'`). */
export interface Box {
  /** Left edge (inclusive). */
  readonly x0: number;
  /** Top edge (inclusive). */
  readonly y0: number;
  /** Right edge (exclusive). */
  readonly x1: number;
  /** Bottom edge (exclusive). */
  readonly y1: number;
}

/** A region given as a token mask, a mask image, or boxes. */
export type RegionMask =
  /** Per-token mask, [N] (shared by all samples) or [B, N]; non-zero = inside. */
  | { readonly kind: 'tokens'; readonly mask: Uint8Array | Tensor<'uint8'> }
  /** Mask image [H, W], [C, H, W] or [B, C, H, W] (pixels of the pre-processed image); channel 0 non-zero (white) = inside. */
  | { readonly kind: 'image'; readonly image: Tensor<'float32'> | Tensor<'uint8'> }
  /** Union of boxes, in pixels of an image of `imageSize` [H, W] (default: the tokenizer's) or in token units. */
  | { readonly kind: 'boxes'; readonly boxes: readonly Box[]; readonly units?: 'pixels' | 'tokens'; readonly imageSize?: readonly [number, number] };

/** Latent grid [rows, cols]. */
export type Grid = readonly [rows: number, cols: number];

function nearestIndex(dst: number, inSize: number, outSize: number): number {
  // torch 'nearest': src = floor(dst · in/out), clamped.
  return Math.min(Math.floor((dst * inSize) / outSize), inSize - 1);
}

/** [B, C, H, W] of a mask image given as [H, W], [C, H, W] or [B, C, H, W]. */
function maskImageDims(shape: readonly number[]): [number, number, number, number] {
  if (shape.length === 2) return [1, 1, ...dims2(shape, 'Mask image')];
  if (shape.length === 3) return [1, ...dims3(shape, 'Mask image')];
  if (shape.length === 4) return dims4(shape, 'Mask image');
  throw new ShapeError(`Mask image has shape [${shape.join(', ')}]; expected [H, W], [C, H, W] or [B, C, H, W].`);
}

/**
 * Downsamples a mask image to the token grid with nearest-neighbour sampling (token (i, j) reads pixel
 * (⌊i·H/rows⌋, ⌊j·W/cols⌋), e.g. (16i, 16j) at 256 px / 16×16) and takes channel 0 as a boolean (non-zero = inside),
 * as the official apps do with torch `interpolate(mode='nearest')`. Returns [B, N].
 */
export function maskFromImage(image: Tensor<'float32'> | Tensor<'uint8'>, grid: Grid): CpuTensor<'uint8'> {
  const [batch, channels, H, W] = maskImageDims(image.shape);
  const [rows, cols] = grid;
  if (H < rows || W < cols) throw new ShapeError(`Mask image is ${H}×${W} but the token grid is ${rows}×${cols}; pass a mask at image resolution.`);
  const out = new Uint8Array(batch * rows * cols);
  const d = image.data;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < rows; i++) {
      const y = nearestIndex(i, H, rows);
      for (let j = 0; j < cols; j++) {
        const x = nearestIndex(j, W, cols);
        out[(b * rows + i) * cols + j] = d[((b * channels + 0) * H + y) * W + x] !== 0 ? 1 : 0;
      }
    }
  }
  return new CpuTensor(out, [batch, rows * cols]);
}

/**
 * Token mask [1, N] of a union of boxes. Pixel boxes are rasterised and sampled like {@link maskFromImage}
 * (a token is inside when the pixel it samples is inside); token boxes select grid cells directly.
 */
export function maskFromBoxes(
  boxes: readonly Box[],
  grid: Grid,
  imageSize: readonly [number, number] | undefined,
  units: 'pixels' | 'tokens' = 'pixels',
): CpuTensor<'uint8'> {
  const [rows, cols] = grid;
  const size = units === 'pixels' ? imageSize : grid;
  if (!size) throw new ConfigError('Pixel boxes need the image size [H, W]; pass imageSize or use units: "tokens".');
  const [H, W] = size;
  for (const b of boxes) {
    if (![b.x0, b.y0, b.x1, b.y1].every(Number.isFinite)) throw new ConfigError(`Box ${JSON.stringify(b)} has a non-finite edge; pass numbers.`);
  }
  const out = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const y = nearestIndex(i, H, rows);
    for (let j = 0; j < cols; j++) {
      const x = nearestIndex(j, W, cols);
      if (boxes.some((b) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1)) out[i * cols + j] = 1;
    }
  }
  return new CpuTensor(out, [1, rows * cols]);
}

/** Flips a token mask (outpainting: the given region is what to keep). */
export function invertMask(mask: Tensor<'uint8'>): CpuTensor<'uint8'> {
  return new CpuTensor(
    Uint8Array.from(mask.data, (v) => (v ? 0 : 1)),
    mask.shape,
  );
}

/**
 * Resolves any {@link RegionMask} to a token mask [B, N] of 0/1, broadcasting a single mask to `batch` samples.
 * `imageSize` [H, W] is the default for pixel boxes.
 */
export function resolveRegionMask(region: RegionMask, grid: Grid, batch: number, imageSize?: readonly [number, number]): CpuTensor<'uint8'> {
  const N = grid[0] * grid[1];
  let m: CpuTensor<'uint8'>;
  switch (region.kind) {
    case 'tokens': {
      const data = region.mask instanceof Uint8Array ? region.mask : region.mask.data;
      if (data.length !== N && data.length !== batch * N) {
        throw new ShapeError(`Token mask has ${data.length} entries; expected ${N} (one per token) or ${batch * N} (per sample).`);
      }
      m = new CpuTensor(
        Uint8Array.from(data, (v) => (v ? 1 : 0)),
        [data.length / N, N],
      );
      break;
    }
    case 'image':
      m = maskFromImage(region.image, grid);
      break;
    case 'boxes':
      m = maskFromBoxes(region.boxes, grid, region.imageSize ?? imageSize, region.units ?? 'pixels');
      break;
    default:
      throw new ConfigError(`Unknown region kind ${JSON.stringify((region as { kind: unknown }).kind)}; expected 'tokens', 'image' or 'boxes'.`);
  }
  const [rowsIn] = dims2(m.shape, 'region mask');
  if (rowsIn === batch) return m;
  if (rowsIn !== 1) throw new ShapeError(`Region mask has ${rowsIn} samples but the batch has ${batch}; pass one mask or one per sample.`);
  const out = new Uint8Array(batch * N);
  for (let b = 0; b < batch; b++) out.set(m.data, b * N);
  return new CpuTensor(out, [batch, N]);
}
