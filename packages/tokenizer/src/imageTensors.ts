import { ConfigError, CpuTensor, dims3, required, ShapeError, type Tensor } from '@bigr/core';

// Raster ↔ tensor conversions and image layout helpers: no file system and no codec, so they run in browsers too.
// PNG/JPEG decoding and file I/O are in imageIo.ts (Node).

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

/** Raster → float32 tensor [C, H, W] with values byte/255 in [0, 1] (torchvision ToTensor, docs/algorithm.md §0). */
export function rasterToTensor(img: RasterImage): CpuTensor<'float32'> {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Float32Array(c * h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = required(data[(y * w + x) * c + ch], 'raster byte') / 255;
  return new CpuTensor(out, [c, h, w]);
}

/** Stacks [C, H, W] tensors of equal shape into a batch [B, C, H, W]. */
export function stackImages(images: readonly Tensor<'float32'>[]): CpuTensor<'float32'> {
  const [first] = images;
  if (first === undefined) throw new ShapeError('stackImages: no images given; pass at least one [C, H, W] tensor.');
  const shape = first.shape;
  const per = first.size;
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
          const v = Math.min(1, Math.max(0, required(src[((i * c + ch) * h + y) * w + x], 'image value')));
          out[((i * h + y) * w + x) * c + ch] = Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5)));
        }
  return new CpuTensor(out, [b, h, w, c]);
}

/** One float image [C, H, W] (C = 1 or 3) → raster, with the {@link toUint8Pixels} rounding. */
export function tensorToRaster(image: Tensor<'float32'>): RasterImage {
  if (image.shape.length !== 3 || (image.shape[0] !== 1 && image.shape[0] !== 3)) {
    throw new ShapeError(`tensorToRaster: image has shape [${image.shape.join(', ')}]; expected [C, H, W] with C = 1 or 3.`);
  }
  const [channels, height, width] = dims3(image.shape, 'tensorToRaster image');
  const px = toUint8Pixels(image);
  return { width, height, channels: channels as 1 | 3, data: px.data };
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
