/**
 * Bilinear image resizing for image enrichment (docs/algorithm.md §8.3), torch `interpolate(mode='bilinear',
 * align_corners=False)` semantics, without antialiasing.
 */
import { CpuTensor, ShapeError } from '@bigr/core';
import type { Tensor } from '@bigr/core';

interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w0: Float32Array;
  readonly w1: Float32Array;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, Math.fround(Math.fround(scale * (d + 0.5)) - 0.5));
    const lo = Math.min(Math.floor(src), inSize - 1);
    const lambda = lo < inSize - 1 ? Math.fround(src - lo) : 0;
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = lambda;
    w0[d] = Math.fround(1 - lambda);
  }
  return { i0, i1, w0, w1 };
}

/**
 * Resizes images [B, C, H, W] to [B, C, height, width] bilinearly with half-pixel centres (align_corners = False):
 * source coordinate (d + 0.5)·in/out − 0.5, clamped at 0, in float32 arithmetic. Used to upsample the 128-px input
 * to 256 px before encoding in {@link enrichImage}.
 */
export function resizeBilinear(images: Tensor<'float32'>, height: number, width: number): CpuTensor<'float32'> {
  if (images.shape.length !== 4) throw new ShapeError(`resizeBilinear needs images [B, C, H, W]; got [${images.shape.join(', ')}].`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new ShapeError(`Target size ${height}×${width} is invalid; pass positive integers.`);
  }
  const [B, C, H, W] = images.shape as [number, number, number, number];
  const ty = taps(H, height);
  const tx = taps(W, width);
  const src = images.data;
  const out = new Float32Array(B * C * height * width);
  const f = Math.fround;
  for (let p = 0; p < B * C; p++) {
    const plane = p * H * W;
    for (let y = 0; y < height; y++) {
      const r0 = plane + ty.i0[y]! * W;
      const r1 = plane + ty.i1[y]! * W;
      const a0 = ty.w0[y]!;
      const a1 = ty.w1[y]!;
      for (let x = 0; x < width; x++) {
        const c0 = tx.i0[x]!;
        const c1 = tx.i1[x]!;
        const b0 = tx.w0[x]!;
        const b1 = tx.w1[x]!;
        const top = f(f(b0 * src[r0 + c0]!) + f(b1 * src[r0 + c1]!));
        const bottom = f(f(b0 * src[r1 + c0]!) + f(b1 * src[r1 + c1]!));
        out[(p * height + y) * width + x] = f(f(a0 * top) + f(a1 * bottom));
      }
    }
  }
  return new CpuTensor(out, [B, C, height, width]);
}
