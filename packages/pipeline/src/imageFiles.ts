/**
 * Writing images to files in the format their extension names: PNG (.png) or JPEG (.jpg, .jpeg). Other extensions
 * (WebP included: neither bundled image library, pngjs nor jpeg-js, encodes it) are refused with the list of
 * supported ones, never written as PNG bytes under another name.
 */
import { extname } from 'node:path';
import { atomicWrite, ConfigError, CpuTensor, dims4, required, type Tensor } from '@bigr/core';
import { encodePng, imageGrid, tensorToRaster, type RasterImage } from '@bigr/tokenizer';
import jpeg from 'jpeg-js';

/** Image file formats the pipeline writes. */
export type ImageFileFormat = 'png' | 'jpeg';

/** Extensions → formats. */
export const IMAGE_OUTPUT_FORMATS: Readonly<Record<string, ImageFileFormat>> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' };

/** The format `path`'s extension names; ConfigError naming the extension and the supported ones otherwise. */
export function imageFormatOf(path: string): ImageFileFormat {
  const ext = extname(path).toLowerCase();
  const format = IMAGE_OUTPUT_FORMATS[ext];
  if (format) return format;
  const why = ext === '.webp' ? ' (WebP: the bundled image libraries, pngjs and jpeg-js, cannot encode it)' : ext === '' ? ' (no extension)' : '';
  throw new ConfigError(
    `Cannot write ${path}: "${ext || path}" is not a supported image format${why}. Use one of ${Object.keys(IMAGE_OUTPUT_FORMATS).join(', ')}.`,
  );
}

/** Encodes a raster as `format` (JPEG quality 95 by default). */
export function encodeImage(raster: RasterImage, format: ImageFileFormat, quality = 95): Uint8Array {
  if (format === 'png') return encodePng(raster);
  const n = raster.width * raster.height;
  const rgba = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    const c = raster.channels;
    rgba[i * 4] = required(raster.data[i * c], 'pixel');
    rgba[i * 4 + 1] = required(raster.data[i * c + (c === 1 ? 0 : 1)], 'pixel');
    rgba[i * 4 + 2] = required(raster.data[i * c + (c === 1 ? 0 : 2)], 'pixel');
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: raster.width, height: raster.height }, quality).data);
}

/** Options of {@link writeImageGrid}. */
export interface ImageGridOptions {
  /** Columns (default: a square grid). */
  readonly cols?: number;
  /** Pixels between tiles (default 2, white). */
  readonly gap?: number;
  /** JPEG quality 1..100 (default 95). */
  readonly quality?: number;
}

/**
 * Writes images [B, C, H, W] in [0, 1] (clamped) as one grid image, atomically, in the format of `path`'s
 * extension (see {@link imageFormatOf}).
 */
export async function writeImageGrid(path: string, images: Tensor<'float32'>, options: ImageGridOptions = {}): Promise<void> {
  const format = imageFormatOf(path);
  const [b] = dims4(images.shape, 'images [B, C, H, W]');
  const cols = options.cols && options.cols > 0 ? Math.floor(options.cols) : Math.max(1, Math.ceil(Math.sqrt(b)));
  const clamped = new CpuTensor<'float32'>(
    Float32Array.from(images.data, (v) => Math.min(1, Math.max(0, v))),
    images.shape,
  );
  const grid = imageGrid(clamped, cols, options.gap ?? 2, 1);
  await atomicWrite(path, encodeImage(tensorToRaster(grid), format, options.quality));
}
