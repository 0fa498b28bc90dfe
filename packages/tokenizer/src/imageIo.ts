import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { atomicWrite, ConfigError, CpuTensor, FormatError, ShapeError, type Tensor } from '@bigr/core';
import { readBoundedFile } from './boundedRead.js';
import { centerCropResize, resizeImage, type ResizeFilter } from './resize.js';

/** An 8-bit image, interleaved HWC (row-major, channels last), 1 (gray) or 3 (RGB) channels. */
export interface RasterImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** 1 = grayscale, 3 = RGB. */
  readonly channels: 1 | 3;
  /** `height·width·channels` bytes. */
  readonly data: Uint8Array;
}

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
    throw new FormatError(`${what}: image is ${width}x${height} = ${width * height} pixels, above the limit of ${maxPixels}. Downscale it first or raise maxPixels.`);
  }
}

/** Drops alpha and converts to the requested channel count; gray uses ITU-R 601-2 luma (PIL 'L'). */
function fromRgba(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): RasterImage {
  const n = width * height;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = rgba[i * 4]!;
      out[i * 3 + 1] = rgba[i * 4 + 1]!;
      out[i * 3 + 2] = rgba[i * 4 + 2]!;
    }
  } else {
    // PIL: L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16
    for (let i = 0; i < n; i++) out[i] = (rgba[i * 4]! * 19595 + rgba[i * 4 + 1]! * 38470 + rgba[i * 4 + 2]! * 7471 + 0x8000) >>> 16;
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
    const ihdr = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
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
    const r = img.data[i * img.channels]!;
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = img.channels === 1 ? r : img.data[i * 3 + 1]!;
    rgba[i * 4 + 2] = img.channels === 1 ? r : img.data[i * 3 + 2]!;
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: img.channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true }));
}

/** Raster → float32 tensor [C, H, W] with values byte/255 in [0, 1] (torchvision ToTensor, docs/algorithm.md §0). */
export function rasterToTensor(img: RasterImage): CpuTensor<'float32'> {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Float32Array(c * h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = data[(y * w + x) * c + ch]! / 255;
  return new CpuTensor(out, [c, h, w]);
}

/** Stacks [C, H, W] tensors of equal shape into a batch [B, C, H, W]. */
export function stackImages(images: readonly Tensor<'float32'>[]): CpuTensor<'float32'> {
  if (images.length === 0) throw new ShapeError('stackImages: no images given; pass at least one [C, H, W] tensor.');
  const shape = images[0]!.shape;
  const per = images[0]!.size;
  const out = new Float32Array(per * images.length);
  images.forEach((t, i) => {
    if (t.shape.length !== 3 || t.shape.some((d, j) => d !== shape[j])) {
      throw new ShapeError(`stackImages: image ${i} has shape [${t.shape.join(', ')}] but image 0 has [${shape.join(', ')}]; resize them to one size first.`);
    }
    out.set(t.data, i * per);
  });
  return new CpuTensor(out, [images.length, ...shape]);
}

/**
 * Float images [B, C, H, W] (or [C, H, W]) → uint8 pixels [B, H, W, C] exactly as `torchvision.utils.save_image`
 * with value_range (0, 1) writes them (docs/algorithm.md §0): clamp to [0, 1], then floor(clamp(x·255 + 0.5, 0, 255)).
 */
export function toUint8Pixels(images: Tensor<'float32'>): CpuTensor<'uint8'> {
  const s = images.shape.length === 3 ? [1, ...images.shape] : [...images.shape];
  if (s.length !== 4) throw new ShapeError(`toUint8Pixels: images have shape [${images.shape.join(', ')}]; expected [B, C, H, W] or [C, H, W].`);
  const [b, c, h, w] = s as [number, number, number, number];
  const out = new Uint8Array(b * h * w * c);
  const src = images.data;
  for (let i = 0; i < b; i++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const v = Math.min(1, Math.max(0, src[((i * c + ch) * h + y) * w + x]!));
          out[((i * h + y) * w + x) * c + ch] = Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
        }
  return new CpuTensor(out, [b, h, w, c]);
}

/** One float image [C, H, W] (C = 1 or 3) → raster, with the {@link toUint8Pixels} rounding. */
export function tensorToRaster(image: Tensor<'float32'>): RasterImage {
  if (image.shape.length !== 3 || (image.shape[0] !== 1 && image.shape[0] !== 3)) {
    throw new ShapeError(`tensorToRaster: image has shape [${image.shape.join(', ')}]; expected [C, H, W] with C = 1 or 3.`);
  }
  const px = toUint8Pixels(image);
  return { width: image.shape[2]!, height: image.shape[1]!, channels: image.shape[0] as 1 | 3, data: px.data };
}

/** Zero-pads (or fills with `value`) images [B, C, H, W] by `pad` pixels on every side, e.g. 28→32 for Fashion-MNIST. */
export function padImages(images: Tensor<'float32'>, pad: number, value = 0): CpuTensor<'float32'> {
  if (images.shape.length !== 4) throw new ShapeError(`padImages: images have shape [${images.shape.join(', ')}]; expected [B, C, H, W].`);
  if (!Number.isInteger(pad) || pad < 0) throw new ConfigError(`padImages: pad must be a non-negative integer, got ${pad}.`);
  const [b, c, h, w] = images.shape as [number, number, number, number];
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const out = new Float32Array(b * c * H * W).fill(value);
  const src = images.data;
  for (let p = 0; p < b * c; p++) for (let y = 0; y < h; y++) out.set(src.subarray((p * h + y) * w, (p * h + y + 1) * w), (p * H + y + pad) * W + pad);
  return new CpuTensor(out, [b, c, H, W]);
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
    img = (options.fit ?? 'center-crop') === 'center-crop' ? centerCropResize(img, options.size) : resizeImage(img, options.size, options.size, options.filter ?? 'bicubic');
  }
  return rasterToTensor(img);
}

/** Writes one float image [C, H, W] (or [1, C, H, W]) in [0, 1] as a PNG file, atomically. */
export async function saveImagePng(path: string, image: Tensor<'float32'>): Promise<void> {
  const t = image.shape.length === 4 && image.shape[0] === 1 ? new CpuTensor<'float32'>(image.data, image.shape.slice(1)) : image;
  await atomicWrite(path, encodePng(tensorToRaster(t)));
}

/**
 * Tiles images [B, C, H, W] into one [C, rows·(H+pad)−pad, cols·(W+pad)−pad] image (row-major), with `pad` pixels
 * of `padValue` between tiles; handy for saving samples and reconstructions side by side.
 */
export function imageGrid(images: Tensor<'float32'>, cols: number, pad = 2, padValue = 1): CpuTensor<'float32'> {
  if (images.shape.length !== 4) throw new ShapeError(`imageGrid: images have shape [${images.shape.join(', ')}]; expected [B, C, H, W].`);
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (!Number.isInteger(cols) || cols < 1) throw new ConfigError(`imageGrid: cols must be a positive integer, got ${cols}.`);
  const rows = Math.ceil(b / cols);
  const H = rows * (h + pad) - pad;
  const W = cols * (w + pad) - pad;
  const out = new Float32Array(c * H * W).fill(padValue);
  for (let i = 0; i < b; i++) {
    const oy = Math.floor(i / cols) * (h + pad);
    const ox = (i % cols) * (w + pad);
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) out.set(images.data.subarray(((i * c + ch) * h + y) * w, ((i * c + ch) * h + y + 1) * w), (ch * H + oy + y) * W + ox);
  }
  return new CpuTensor(out, [c, H, W]);
}
