import { ConfigError, CpuTensor, required, ShapeError, type DataTypeMap, type Tensor } from '@bigr/core';
import { centerCropResize, padImages, rasterToTensor, stackImages, type BaeTokenizer, type RasterImage } from '@bigr/tokenizer';

// The tokenizer's input geometry and tensor-only image transforms (no file system), shared by the Node entry
// (images.ts, which adds image files) and the browser entry.

/**
 * How files are brought to the tokenizer's input: `channels` (1 = grayscale), the size the file is center-cropped
 * and resized to (`inner`), then `pad` pixels of zero padding on each side (`size` = inner + 2·pad, e.g. 28 → 32 for
 * Fashion-MNIST).
 */
export interface ImageGeometry {
  /** Channels of the tokenizer input (1 = grayscale). */
  readonly channels: 1 | 3;
  /** Side of the tokenizer input. */
  readonly size: number;
  /** Zero padding on each side. */
  readonly pad: number;
  /** Side of the image before padding. */
  readonly inner: number;
}

/** The input geometry of a tokenizer whose model directory records `pad` (0 when absent). */
export function imageGeometry(tokenizer: Pick<BaeTokenizer, 'imageShape'>, config: { readonly pad?: number }): ImageGeometry {
  const [c, h, w] = tokenizer.imageShape;
  if (h !== w)
    throw new ConfigError(
      `The tokenizer takes ${h}×${w} images; only square inputs are supported (expected height = width). Use a tokenizer with square inputs.`,
    );
  const pad = config.pad ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || 2 * pad >= h)
    throw new ConfigError(
      `Tokenizer pad ${pad} is invalid for ${h}×${w} inputs; expected an integer in 0..${Math.ceil(h / 2) - 1}. Fix the tokenizer's config.json.`,
    );
  return { channels: c === 1 ? 1 : 3, size: h, pad, inner: h - 2 * pad };
}

/** `raster` center-cropped and resized to side × side (returned unchanged when it already has that size). */
export function fitRaster(raster: RasterImage, side: number): RasterImage {
  return raster.width === side && raster.height === side ? raster : centerCropResize(raster, side);
}

/** A raster as [1, C, size, size] in [0, 1]: center-crop-resized to `inner`, then zero-padded. */
export function rasterToModel(raster: RasterImage, geom: ImageGeometry): CpuTensor<'float32'> {
  if (raster.channels !== geom.channels)
    throw new ShapeError(`The image has ${raster.channels} channel(s) but the tokenizer takes ${geom.channels}. Load it with channels: ${geom.channels}.`);
  const t = rasterToTensor(fitRaster(raster, geom.inner));
  const one = new CpuTensor<'float32'>(t.data, [1, ...t.shape]);
  return geom.pad > 0 ? padImages(one, geom.pad) : one;
}

/**
 * Images given in memory (what the browser pipeline takes): rasters (any size; center-cropped and resized) or a float
 * tensor [B, C, H, W] in [0, 1], at the tokenizer's size or at the size before padding (then it is padded).
 */
export type WebImageSource = RasterImage | readonly RasterImage[] | Tensor<'float32'>;

/** Whether an image source is a tensor (not a path or a raster). */
export function isImageTensor(x: unknown): x is Tensor<'float32'> {
  return typeof x === 'object' && x !== null && 'shape' in x && 'data' in x && 'dtype' in x;
}

/** A float32 tensor [B, C, H, W] in [0, 1] as the tokenizer's input: at its size, or before padding (then padded). */
export function tensorToModel(source: Tensor<'float32'>, geom: ImageGeometry): CpuTensor<'float32'> {
  const [b = 0, c, h, w] = source.shape;
  if (source.shape.length !== 4 || c !== geom.channels || h !== w || (h !== geom.size && h !== geom.inner)) {
    throw new ShapeError(
      `Images have shape [${source.shape.join(', ')}]; ` +
        `expected [B, ${geom.channels}, ${geom.size}, ${geom.size}] (or [B, ${geom.channels}, ${geom.inner}, ${geom.inner}] before padding). ` +
        `Pass rasters or file paths to have them cropped and resized.`,
    );
  }
  if (source.dtype !== 'float32') throw new ShapeError(`Images are ${source.dtype}; expected float32 in [0, 1].`);
  const t = new CpuTensor<'float32'>(source.data as Float32Array, [b, geom.channels, h, h]);
  return h === geom.inner && geom.pad > 0 ? padImages(t, geom.pad) : t;
}

/** Rasters (center-crop-resized and padded, see {@link rasterToModel}) stacked as the tokenizer's input [B, C, size, size]. */
export function rastersToModel(rasters: readonly RasterImage[], geom: ImageGeometry): CpuTensor<'float32'> {
  if (rasters.length === 0) throw new ConfigError('No images given; pass at least one image.');
  return stackImages(
    rasters.map((r) => {
      const t = rasterToModel(r, geom);
      return new CpuTensor<'float32'>(t.data, t.shape.slice(1));
    }),
  );
}

/** In-memory images as the tokenizer's input [B, C, size, size]. */
export function webModelImages(source: WebImageSource, geom: ImageGeometry): CpuTensor<'float32'> {
  if (isImageTensor(source)) return tensorToModel(source, geom);
  return rastersToModel(Array.isArray(source) ? (source as readonly RasterImage[]) : [source as RasterImage], geom);
}

/** Removes `pad` pixels from every side of [B, C, H, W] images (undoes the 28→32 Fashion-MNIST padding). */
export function unpadImages(images: Tensor<'float32'>, pad: number): CpuTensor<'float32'> {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (pad === 0) return new CpuTensor<'float32'>(images.data, images.shape);
  const H = h - 2 * pad;
  const W = w - 2 * pad;
  const out = new Float32Array(b * c * H * W);
  for (let p = 0; p < b * c; p++)
    for (let y = 0; y < H; y++) out.set(images.data.subarray((p * h + y + pad) * w + pad, (p * h + y + pad) * w + pad + W), (p * H + y) * W);
  return new CpuTensor<'float32'>(out, [b, c, H, W]);
}

/** Clamps to [0, 1] (the official save path clamps decoder output). */
export function clampImages(images: Tensor<'float32'>): CpuTensor<'float32'> {
  return new CpuTensor<'float32'>(
    Float32Array.from(images.data, (v) => Math.min(1, Math.max(0, v))),
    images.shape,
  );
}

/** Concatenates batches [Bi, ...] along the batch axis. */
export function concatBatches<D extends 'float32' | 'uint8'>(parts: readonly Tensor<D>[]): CpuTensor<D> {
  const [first] = parts;
  if (first === undefined) throw new ShapeError('Nothing to concatenate; pass at least one batch.');
  const shape = first.shape.slice(1);
  const total = parts.reduce((s, p) => s + required(p.shape[0], 'batch size of a part'), 0);
  const length = parts.reduce((s, p) => s + p.data.length, 0);
  const out = first.data instanceof Float32Array ? new Float32Array(length) : new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p.data as ArrayLike<number>, at);
    at += p.data.length;
  }
  return new CpuTensor<D>(out as unknown as DataTypeMap[D], [total, ...shape]);
}
