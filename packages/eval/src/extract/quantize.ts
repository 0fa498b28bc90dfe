/**
 * The one float → uint8 rule used everywhere (docs/evaluation.md §1.1): for model outputs x ∈ [−1, 1],
 * q = trunc(clamp(((clamp(x, −1, 1) + 1) / 2)·255 + 0.5, 0, 255)) — exactly what `torchvision.save_image`
 * (normalize=True, value_range=(−1, 1)) does, evaluated step by step in float32, and equal to LlamaGen's
 * `127.5·x + 128` then truncation up to float32 rounding (round half up).
 */
import { required, CpuTensor, dims4, ShapeError, type Tensor } from '@bigr/core';

/** Quantises one float in [−1, 1] to 0…255 (float32 arithmetic, round half up). */
export function quantizeUnitToUint8(x: number): number {
  const c = Math.min(Math.max(x, -1), 1);
  const u = Math.fround(Math.fround(c + 1) / 2);
  const v = Math.fround(Math.fround(u * 255) + 0.5);
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v);
}

/**
 * Brings an image batch to uint8 NHWC: uint8 [N, H, W, C] passes through; float32 [N, C, H, W] in [−1, 1]
 * (model output) is quantised with {@link quantizeUnitToUint8} and transposed. NaN maps to 0.
 */
export function toUint8Nhwc(images: Tensor): Tensor<'uint8'> {
  if (images.shape.length !== 4) {
    throw new ShapeError(`Images have shape [${images.shape.join(', ')}]; expected uint8 NHWC [N, H, W, C] or float32 NCHW [N, C, H, W].`);
  }
  if (images.dtype === 'uint8') return images as Tensor<'uint8'>;
  if (images.dtype !== 'float32') throw new ShapeError(`Images have dtype ${images.dtype}; expected uint8 (NHWC, 0…255) or float32 (NCHW, −1…1).`);
  const [n, c, h, w] = dims4(images.shape, 'images');
  const src = images.data as Float32Array;
  const out = new Uint8Array(n * h * w * c);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const so = (i * c + ch) * h * w;
      for (let p = 0; p < h * w; p++) {
        const x = required(src[so + p], 'image value');
        out[(i * h * w + p) * c + ch] = Number.isNaN(x) ? 0 : quantizeUnitToUint8(x);
      }
    }
  }
  return new CpuTensor(out, [n, h, w, c]);
}
