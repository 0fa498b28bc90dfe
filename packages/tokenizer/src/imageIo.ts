import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { atomicWrite, ConfigError, CpuTensor, FormatError, required, ShapeError, type Tensor } from '@bigr/core';
import { readBoundedFile } from './boundedRead.js';
import { centerCropResize, resizeImage, type ResizeFilter } from './resize.js';
import { rasterToTensor, tensorToRaster, type RasterImage } from './imageTensors.js';

export { type RasterImage, rasterToTensor, stackImages, toUint8Pixels, tensorToRaster, padImages, imageGrid } from './imageTensors.js';

/** Limits applied while decoding untrusted image files. */
export interface ImageLimits {
  /** Largest accepted width·height (default 64 Mi pixels). */
  readonly maxPixels?: number;
  /** Largest accepted file size in bytes (default 256 MiB). */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png', 'jpeg', or null when the bytes start with neither signature. */
export function sniffImageFormat(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function checkPixels(width: number, height: number, maxPixels: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FormatError(`${what}: image size ${width}x${height} is invalid; width and height must be at least 1.`);
  }
  if (width * height > maxPixels) {
    throw new FormatError(
      `${what}: image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}. Downscale it first or raise maxPixels.`,
    );
  }
}

/** Drops alpha and converts to the requested channel count; gray uses ITU-R 601-2 luma (PIL 'L'). */
function fromRgba(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): RasterImage {
  const n = width * height;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = required(rgba[i * 4], 'RGBA byte');
      out[i * 3 + 1] = required(rgba[i * 4 + 1], 'RGBA byte');
      out[i * 3 + 2] = required(rgba[i * 4 + 2], 'RGBA byte');
    }
  } else {
    // PIL: L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16
    for (let i = 0; i < n; i++) {
      out[i] =
        (required(rgba[i * 4], 'RGBA byte') * 19595 +
          required(rgba[i * 4 + 1], 'RGBA byte') * 38470 +
          required(rgba[i * 4 + 2], 'RGBA byte') * 7471 +
          0x8000) >>>
        16;
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Decodes PNG (pngjs) or JPEG (jpeg-js) bytes to an 8-bit raster with `channels` channels (default 3). Alpha is
 * dropped (like PIL's convert('RGB')); 16-bit PNGs are reduced to 8 bits. The header size is checked against
 * `maxPixels` before any pixel memory is allocated. Malformed or unsupported data throws FormatError.
 */
export function decodeImage(bytes: Uint8Array, options: ImageLimits & { channels?: 1 | 3; name?: string } = {}): RasterImage {
  const what = options.name ?? 'image';
  const channels = options.channels ?? 3;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`decodeImage: channels must be 1 or 3, got ${String(channels)}.`);
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    if (bytes.length < 33) throw new FormatError(`${what}: PNG is truncated (${bytes.length} bytes; a PNG header alone needs 33).`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
    if (ihdr !== 'IHDR') throw new FormatError(`${what}: PNG does not start with an IHDR chunk (found "${ihdr}"); the file is corrupt.`);
    checkPixels(view.getUint32(16), view.getUint32(20), maxPixels, what);
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: false });
    } catch (err) {
      throw new FormatError(`${what}: PNG could not be decoded (${(err as Error).message}). The file is corrupt or truncated.`, { cause: err });
    }
    const data = png.data as unknown as Uint8Array;
    if (data.length !== png.width * png.height * 4) {
      throw new FormatError(`${what}: PNG decoder returned ${data.length} bytes for ${png.width}x${png.height}; expected 8-bit RGBA.`);
    }
    return fromRgba(data, png.width, png.height, channels);
  }
  if (format === 'jpeg') {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: maxPixels / 1e6,
        maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 8) / 1e6)),
      });
    } catch (err) {
      throw new FormatError(`${what}: JPEG could not be decoded (${(err as Error).message}). The file is corrupt, truncated or too large.`, { cause: err });
    }
    checkPixels(img.width, img.height, maxPixels, what);
    return fromRgba(img.data, img.width, img.height, channels);
  }
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new FormatError(`${what}: not a PNG or JPEG file (first bytes: ${head || 'none, the file is empty'}). Convert it to PNG or JPEG.`);
}

/** Encodes an 8-bit raster as PNG (8-bit gray or RGB). */
export function encodePng(img: RasterImage): Uint8Array {
  const n = img.width * img.height;
  if (img.data.length !== n * img.channels) {
    throw new ShapeError(`encodePng: ${img.data.length} bytes for a ${img.width}x${img.height}x${img.channels} image; expected ${n * img.channels}.`);
  }
  const png = new PNG({ width: img.width, height: img.height, colorType: img.channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  const rgba = png.data;
  for (let i = 0; i < n; i++) {
    const r = required(img.data[i * img.channels], 'pixel byte');
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = img.channels === 1 ? r : required(img.data[i * 3 + 1], 'pixel byte');
    rgba[i * 4 + 2] = img.channels === 1 ? r : required(img.data[i * 3 + 2], 'pixel byte');
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: img.channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true }));
}

/** How {@link loadImage} brings a file to the model's input size. */
export interface LoadImageOptions extends ImageLimits {
  /** Channels of the result: 3 (RGB, default) or 1 (gray). */
  readonly channels?: 1 | 3;
  /**
   * Square output size. `'center-crop'` (default) uses the ADM center crop of docs/algorithm.md §0 (BOX halving, then
   * BICUBIC, then a center crop); `'resize'` stretches to size×size with `filter`.
   */
  readonly size?: number;
  /** Default `'center-crop'`. */
  readonly fit?: 'center-crop' | 'resize';
  /** Filter for `fit: 'resize'` (default 'bicubic'). */
  readonly filter?: ResizeFilter;
}

/** Loads a PNG/JPEG file as a raster (see {@link decodeImage}). */
export async function loadRaster(path: string, options: ImageLimits & { channels?: 1 | 3 } = {}): Promise<RasterImage> {
  const bytes = await readBoundedFile(path, options.maxBytes ?? DEFAULT_MAX_BYTES);
  return decodeImage(bytes, { ...options, name: path });
}

/**
 * Loads a PNG/JPEG file as a float tensor [C, H, W] in [0, 1], optionally brought to `size`×`size` (center crop
 * by default, see {@link LoadImageOptions}).
 */
export async function loadImage(path: string, options: LoadImageOptions = {}): Promise<CpuTensor<'float32'>> {
  let img = await loadRaster(path, options);
  if (options.size !== undefined) {
    img =
      (options.fit ?? 'center-crop') === 'center-crop'
        ? centerCropResize(img, options.size)
        : resizeImage(img, options.size, options.size, options.filter ?? 'bicubic');
  }
  return rasterToTensor(img);
}

/** Writes one float image [C, H, W] (or [1, C, H, W]) in [0, 1] as a PNG file, atomically. */
export async function saveImagePng(path: string, image: Tensor<'float32'>): Promise<void> {
  const t = image.shape.length === 4 && image.shape[0] === 1 ? new CpuTensor<'float32'>(image.data, image.shape.slice(1)) : image;
  await atomicWrite(path, encodePng(tensorToRaster(t)));
}
