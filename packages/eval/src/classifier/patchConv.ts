import { ShapeError, type Ops } from '@bigr/core';

/**
 * 3×3 convolution with stride 1 or 2 and zero padding 1 on a "batch-last" activation layout, written with slices,
 * concatenations, transposes and one matMul only (no conv2d).
 *
 * Layout: input `x` is [H, W, C, N] (row, column, channel, image), output is channel-first [O, H/s, W/s, N].
 * Putting the batch innermost makes every slice and concatenation copy contiguous runs of at least N·C values,
 * and lets the product be `W [O, 9C] · patches [9C, (H/2)(W/2)N]` without transposed operands. On tfjs-wasm this
 * trains several times faster than `ops.conv2d` (whose filter gradient the wasm backend lacks) and than
 * batch-first patch extraction (rank-6 and short-run slices take slow JavaScript paths there).
 *
 * Padding uses zeros made as `0 · (a row of x)`, so the graph never needs the batch size as a constant (it stays a
 * dynamic dimension in ONNX). Inputs must be finite (0·∞ would give NaN).
 *
 * Tap order of the patch rows is (ky, kx, c), matching the weight transposed from OIHW to (O, ky, kx, C).
 * For stride 2, H and W must be even.
 */
export function conv3x3BatchLast<T>(
  ops: Ops<T>,
  x: T,
  dims: { readonly height: number; readonly width: number; readonly channels: number },
  weight: T,
  bias: T,
  outChannels: number,
  stride: 1 | 2,
): T {
  const { height: h, width: w, channels: c } = dims;
  if (stride === 2 && (h % 2 !== 0 || w % 2 !== 0)) {
    throw new ShapeError(`conv3x3BatchLast: stride 2 needs an even height and width, got ${h}×${w}.`);
  }
  const ho = h / stride;
  const wo = w / stride;
  // Zero-pad one row above and below: view as [H, W·C·N].
  let v = ops.reshape(x, [h, -1]);
  const zeroRow = ops.mul(ops.slice(v, 0, 0, 1), ops.scalar(0));
  v = ops.concat([zeroRow, v, zeroRow], 0);
  // Zero-pad one column left and right: view as [H+2, W, C·N].
  v = ops.reshape(v, [h + 2, w, -1]);
  const zeroCol = ops.mul(ops.slice(v, 1, 0, 1), ops.scalar(0));
  v = ops.concat([zeroCol, v, zeroCol], 1);
  const taps: T[] = [];
  if (stride === 1) {
    for (let ky = 0; ky < 3; ky++) {
      const rows = ops.slice(v, 0, ky, ky + h); // [H, W+2, C·N]
      for (let kx = 0; kx < 3; kx++) taps.push(ops.reshape(ops.slice(rows, 1, kx, kx + w), [h * w, -1]));
    }
    return patchProduct(ops, taps, ho * wo, [ho, wo], c, weight, bias, outChannels);
  }
  // Space-to-depth view: padded row 2i+p, padded column 2j+q → [i, p, j, (q, c, n)].
  v = ops.reshape(v, [ho + 1, 2, wo + 1, -1]);
  for (let ky = 0; ky < 3; ky++) {
    // Output row oy reads padded row 2·oy + ky = 2·(oy + ky>>1) + (ky&1).
    let rows = ops.slice(v, 0, ky >> 1, (ky >> 1) + ho);
    rows = ops.slice(rows, 1, ky & 1, (ky & 1) + 1);
    rows = ops.reshape(rows, [ho, wo + 1, 2, -1]);
    for (let kx = 0; kx < 3; kx++) {
      let t = ops.slice(rows, 1, kx >> 1, (kx >> 1) + wo);
      t = ops.slice(t, 2, kx & 1, (kx & 1) + 1);
      taps.push(ops.reshape(t, [ho * wo, -1]));
    }
  }
  return patchProduct(ops, taps, ho * wo, [ho, wo], c, weight, bias, outChannels);
}

/** Concatenates the 9 taps ([positions, C·N] each) and multiplies with the weight: [O, ho, wo, N]. */
function patchProduct<T>(ops: Ops<T>, taps: readonly T[], positions: number, [ho, wo]: readonly [number, number], c: number, weight: T, bias: T, outChannels: number): T {
  // [positions, (tap, c, n)] → [(tap, c), positions, n] → [9C, positions·N].
  let patches = ops.reshape(ops.concat(taps, 1), [positions, 9 * c, -1]);
  patches = ops.reshape(ops.transpose(patches, [1, 0, 2]), [9 * c, -1]);
  const wm = ops.reshape(ops.transpose(weight, [0, 2, 3, 1]), [outChannels, 9 * c]);
  const y = ops.add(ops.matMul(wm, patches), ops.reshape(bias, [outChannels, 1]));
  return ops.reshape(y, [outChannels, ho, wo, -1]);
}
