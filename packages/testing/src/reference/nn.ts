/** Float64 reference NN ops: softmax, gather, conv2d, nearest ×2 upsampling, eval-mode dropout. */
import { ConfigError, ShapeError, at, dims2, dims4, lastDim } from '@bigr/core';
import type { F64Array } from './ndarray.js';

/** Softmax over the last axis (max-subtracted). */
export function softmax(x: F64Array): F64Array {
  const n = lastDim(x.shape, 'reference softmax input');
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length; r += n) {
    const row = x.data.subarray(r, r + n);
    const out = data.subarray(r, r + n);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let s = 0;
    for (const [j, v] of row.entries()) {
      const e = Math.exp(v - max);
      out[j] = e;
      s += e;
    }
    for (const [j, e] of out.entries()) out[j] = e / s;
  }
  return { data, shape: [...x.shape] };
}

/** Rows of `table` [V, D] at integer `indices` (any shape) → indices.shape + [D]. */
export function gather(table: F64Array, indices: F64Array): F64Array {
  if (table.shape.length !== 2) throw new ShapeError(`reference gather: table must be [V, D], got [${table.shape.join(', ')}].`);
  const [v, d] = dims2(table.shape, 'reference gather table');
  const data = new Float64Array(indices.data.length * d);
  indices.data.forEach((ix, i) => {
    if (!Number.isInteger(ix) || ix < 0 || ix >= v) throw new ShapeError(`reference gather: index ${ix} is outside [0, ${v}).`);
    data.set(table.data.subarray(ix * d, (ix + 1) * d), i * d);
  });
  return { data, shape: [...indices.shape, d] };
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Stride in both directions. */
  readonly strides: number;
  /** Zero padding [top, left, bottom, right]. */
  readonly pads: readonly [number, number, number, number];
}

/**
 * Cross-correlation (PyTorch/ONNX "convolution") of NCHW `x` with OIHW `weight`, optional bias [O], zero padding
 * `pads` = [top, left, bottom, right] and equal strides. Output size floor((H + top + bottom − kH)/s) + 1.
 */
export function conv2d(x: F64Array, weight: F64Array, bias: F64Array | null, options: Conv2dOptions): F64Array {
  if (x.shape.length !== 4 || weight.shape.length !== 4 || weight.shape[1] !== x.shape[1]) {
    throw new ShapeError(`reference conv2d: input [${x.shape.join(', ')}] and weight [${weight.shape.join(', ')}] are not NCHW/OIHW with matching channels.`);
  }
  const [n, c, h, w] = dims4(x.shape, 'reference conv2d input');
  const [o, , kh, kw] = dims4(weight.shape, 'reference conv2d weight');
  const [top, left, bottom, right] = options.pads;
  const s = options.strides;
  const oh = Math.floor((h + top + bottom - kh) / s) + 1;
  const ow = Math.floor((w + left + right - kw) / s) + 1;
  const data = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          let acc = bias ? at(bias.data, oc) : 0;
          for (let ic = 0; ic < c; ic++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * s + ky - top;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xo * s + kx - left;
                if (ix < 0 || ix >= w) continue;
                acc += at(x.data, ((b * c + ic) * h + iy) * w + ix) * at(weight.data, ((oc * c + ic) * kh + ky) * kw + kx);
              }
            }
          data[((b * o + oc) * oh + y) * ow + xo] = acc;
        }
  return { data, shape: [n, o, oh, ow] };
}

/** Nearest-neighbour ×2 upsampling of NCHW input: out[.., y, x] = in[.., ⌊y/2⌋, ⌊x/2⌋]. */
export function upsampleNearest2x(x: F64Array): F64Array {
  const [n, c, h, w] = dims4(x.shape, 'reference upsampleNearest2x input');
  const data = new Float64Array(n * c * 4 * h * w);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < 2 * h; y++) for (let xo = 0; xo < 2 * w; xo++) data[(p * 2 * h + y) * 2 * w + xo] = at(x.data, (p * h + (y >> 1)) * w + (xo >> 1));
  return { data, shape: [n, c, 2 * h, 2 * w] };
}

/** Dropout in evaluation mode: the identity (a copy), for any valid rate in [0, 1). */
export function dropoutEval(x: F64Array, rate: number): F64Array {
  if (!(rate >= 0 && rate < 1)) throw new ConfigError(`reference dropout: rate ${rate} is not in [0, 1).`);
  return { data: x.data.slice(), shape: [...x.shape] };
}

/** Adjoint of {@link gather}: a zero [rows, D] table with each row of `updates` added at its index (repeats add). */
export function scatterAddRows(updates: F64Array, indices: F64Array, rows: number): F64Array {
  const d = lastDim(updates.shape, 'reference scatterAddRows updates');
  const data = new Float64Array(rows * d);
  indices.data.forEach((ix, i) => {
    if (!Number.isInteger(ix) || ix < 0 || ix >= rows) throw new ShapeError(`reference scatterAddRows: index ${ix} is outside [0, ${rows}).`);
    for (let j = 0; j < d; j++) data[ix * d + j] = at(data, ix * d + j) + at(updates.data, i * d + j);
  });
  return { data, shape: [rows, d] };
}

/**
 * Gradients of {@link conv2d} written straight from the definition y[b,o,y,x] = Σ x[b,c,y·s+i−top, x·s+j−left]·w[o,c,i,j]:
 * every (output, tap) pair adds dy·w to dx and dy·x to dW.
 */
function conv2dGrads(
  x: F64Array | null,
  weight: F64Array | null,
  dy: F64Array,
  inputShape: readonly number[],
  weightShape: readonly number[],
  options: Conv2dOptions,
): { dx: F64Array; dw: F64Array } {
  const [n, c, h, w] = dims4(inputShape, 'reference conv2d input shape');
  const [o, , kh, kw] = dims4(weightShape, 'reference conv2d weight shape');
  const [top, left] = options.pads;
  const s = options.strides;
  const [, , oh, ow] = dims4(dy.shape, 'reference conv2d dy');
  const dx = new Float64Array(n * c * h * w);
  const dw = new Float64Array(o * c * kh * kw);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          const g = at(dy.data, ((b * o + oc) * oh + y) * ow + xo);
          for (let ic = 0; ic < c; ic++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = y * s + ky - top;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xo * s + kx - left;
                if (ix < 0 || ix >= w) continue;
                const xi = ((b * c + ic) * h + iy) * w + ix;
                const wi = ((oc * c + ic) * kh + ky) * kw + kx;
                if (weight) dx[xi] = at(dx, xi) + g * at(weight.data, wi);
                if (x) dw[wi] = at(dw, wi) + g * at(x.data, xi);
              }
            }
        }
  return { dx: { data: dx, shape: [n, c, h, w] }, dw: { data: dw, shape: [o, c, kh, kw] } };
}

/** d loss / d input of a convolution, from dy and the weight. */
export function conv2dInputGrad(dy: F64Array, weight: F64Array, inputShape: readonly number[], options: Conv2dOptions): F64Array {
  return conv2dGrads(null, weight, dy, inputShape, weight.shape, options).dx;
}

/** d loss / d weight of a convolution, from the input and dy. */
export function conv2dWeightGrad(x: F64Array, dy: F64Array, weightShape: readonly number[], options: Conv2dOptions): F64Array {
  return conv2dGrads(x, null, dy, x.shape, weightShape, options).dw;
}
