import { CpuTensor, type Tensor } from '@bigr/core';
import { writeImageGrid } from '@bigr/pipeline';

/** Removes `pad` pixels from every side of [B, C, H, W] images (undoes the 28→32 Fashion-MNIST padding). */
export function unpad(images: Tensor<'float32'>, pad: number): CpuTensor<'float32'> {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  if (pad === 0) return new CpuTensor<'float32'>(images.data, images.shape);
  const H = h - 2 * pad;
  const W = w - 2 * pad;
  const out = new Float32Array(b * c * H * W);
  for (let p = 0; p < b * c; p++)
    for (let y = 0; y < H; y++) out.set(images.data.subarray((p * h + y + pad) * w + pad, (p * h + y + pad) * w + pad + W), (p * H + y) * W);
  return new CpuTensor<'float32'>(out, [b, c, H, W]);
}

/**
 * Clamps to [0, 1] (the official save path clamps decoder output) and writes a grid atomically, as PNG or JPEG by
 * the extension of `path` (other extensions are refused; see `imageFormatOf` of @bigr/pipeline).
 */
export async function writeGrid(path: string, images: Tensor<'float32'>, cols: number): Promise<void> {
  await writeImageGrid(path, images, { cols, gap: 2 });
}
