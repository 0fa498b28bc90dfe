/**
 * Bringing images to a tokenizer's input and back: the input geometry (channels, crop size, padding), image files
 * or rasters → [B, C, H, W] in [0, 1] at the tokenizer's size, and model output → images without the padding.
 */
import { stat } from 'node:fs/promises';
import { ConfigError, CpuTensor, NotFoundError, type Tensor } from '@bigr/core';
import { loadRaster, stackImages, type RasterImage } from '@bigr/tokenizer';
import { isImageTensor, rasterToModel, tensorToModel, type ImageGeometry } from './imageLayout.js';

export {
  type ImageGeometry,
  type WebImageSource,
  imageGeometry,
  fitRaster,
  rasterToModel,
  rastersToModel,
  tensorToModel,
  webModelImages,
  unpadImages,
  clampImages,
  concatBatches,
} from './imageLayout.js';

async function readRaster(path: string, channels: 1 | 3): Promise<RasterImage> {
  try {
    await stat(path);
  } catch {
    throw new NotFoundError(`Image ${path} does not exist. Check the path.`);
  }
  return loadRaster(path, { channels });
}

/** An image file as [1, C, size, size] in [0, 1]: center-crop-resized to `inner`, then zero-padded. */
export async function loadModelImage(path: string, geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  return rasterToModel(await readRaster(path, geom.channels), geom);
}

/** Several image files as [B, C, size, size]. */
export async function loadModelImages(paths: readonly string[], geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  const list: CpuTensor<'float32'>[] = [];
  for (const p of paths) {
    const t = await loadModelImage(p, geom);
    list.push(new CpuTensor<'float32'>(t.data, t.shape.slice(1)));
  }
  return stackImages(list);
}

/**
 * Images a pipeline accepts: file paths (PNG/JPEG), decoded rasters (any size; center-cropped and resized like
 * files), or a float tensor [B, C, H, W] in [0, 1] — either at the tokenizer's full size or at the unpadded size
 * (then it is padded).
 */
export type ImageSource = string | RasterImage | readonly (string | RasterImage)[] | Tensor<'float32'>;

/** Brings any {@link ImageSource} to the tokenizer's input [B, C, size, size]. */
export async function toModelImages(source: ImageSource, geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  if (isImageTensor(source)) return tensorToModel(source, geom);
  const list = Array.isArray(source) ? (source as readonly (string | RasterImage)[]) : [source as string | RasterImage];
  if (list.length === 0) throw new ConfigError('No images given; pass at least one path, raster or tensor.');
  const out: CpuTensor<'float32'>[] = [];
  for (const item of list) {
    const t = typeof item === 'string' ? await loadModelImage(item, geom) : rasterToModel(item, geom);
    out.push(new CpuTensor<'float32'>(t.data, t.shape.slice(1)));
  }
  return stackImages(out);
}
