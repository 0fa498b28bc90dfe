/**
 * Bilinear image resizing for image enrichment (docs/algorithm.md §8.3), torch `interpolate(mode='bilinear',
 * align_corners=False)` semantics, without antialiasing.
 */
import { CpuTensor, dims4, required, ShapeError } from '@bigr/core';
import type { Tensor } from '@bigr/core';

/** The two source positions an output position reads, with their float32 weights. */
interface Tap {
  readonly i0: number;
  readonly i1: number;
  readonly w0: number;
  readonly w1: number;
}

function taps(inSize: number, outSize: number): Tap[] {
  const scale = Math.fround(inSize / outSize);
  return Array.from({ length: outSize }, (_, d) => {
    const src = Math.max(0, Math.fround(Math.fround(scale * (d + 0.5)) - 0.5));
    const lo = Math.min(Math.floor(src), inSize - 1);
    const lambda = lo < inSize - 1 ? Math.fround(src - lo) : 0;
    return { i0: lo, i1: Math.min(lo + 1, inSize - 1), w0: Math.fround(1 - lambda), w1: lambda };
  });
}

/**
 * Resizes images [B, C, H, W] to [B, C, height, width] bilinearly with half-pixel centres (align_corners = False):
 * source coordinate (d + 0.5)·in/out − 0.5, clamped at 0, in float32 arithmetic. Used to upsample the 128-px input
 * to 256 px before encoding in {@link enrichImage}.
 */
export function resizeBilinear(images: Tensor<'float32'>, height: number, width: number): CpuTensor<'float32'> {
  const [B, C, H, W] = dims4(images.shape, 'resizeBilinear images [B, C, H, W]');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new ShapeError(`Target size ${height}×${width} is invalid; pass positive integers.`);
  }
  const rowTaps = taps(H, height);
  const colTaps = taps(W, width);
  const src = images.data;
  const out = new Float32Array(B * C * height * width);
  const f = Math.fround;
  for (let p = 0; p < B * C; p++) {
    const plane = p * H * W;
    for (const [y, ty] of rowTaps.entries()) {
      const row0 = src.subarray(plane + ty.i0 * W, plane + (ty.i0 + 1) * W);
      const row1 = src.subarray(plane + ty.i1 * W, plane + (ty.i1 + 1) * W);
      for (let x = 0; x < width; x++) {
        const tx = required(colTaps[x], 'column taps');
        const top = f(f(tx.w0 * required(row0[tx.i0], 'source pixel')) + f(tx.w1 * required(row0[tx.i1], 'source pixel')));
        const bottom = f(f(tx.w0 * required(row1[tx.i0], 'source pixel')) + f(tx.w1 * required(row1[tx.i1], 'source pixel')));
        out[(p * height + y) * width + x] = f(f(ty.w0 * top) + f(ty.w1 * bottom));
      }
    }
  }
  return new CpuTensor(out, [B, C, height, width]);
}
