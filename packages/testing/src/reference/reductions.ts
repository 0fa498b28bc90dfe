/** Float64 reference reductions (sum, mean) over arbitrary axes. */
import { ShapeError } from '@bigr/core';
import { normAxis, sizeOf, unravel, type F64Array } from './ndarray.js';

function reduce(x: F64Array, axes: readonly number[], keepDims: boolean, kind: 'sum' | 'mean'): F64Array {
  const rank = x.shape.length;
  const ax = new Set(axes.map((a) => normAxis(a, rank, kind)));
  if (ax.size !== axes.length) throw new ShapeError(`reference ${kind}: axes [${axes.join(', ')}] repeat an axis.`);
  const keptShape = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !ax.has(i));
  const out = new Float64Array(sizeOf(keptShape));
  let count = 1;
  for (const a of ax) count *= x.shape[a]!;
  for (let flat = 0; flat < x.data.length; flat++) {
    const idx = unravel(flat, x.shape);
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * keptShape[i]! + (ax.has(i) ? 0 : idx[i]!);
    out[o] = out[o]! + x.data[flat]!;
  }
  if (kind === 'mean') for (let i = 0; i < out.length; i++) out[i] = out[i]! / count;
  return { data: out, shape: outShape };
}

/** Sum over `axes` (negative axes count from the end); `keepDims` keeps reduced axes as size 1. */
export function sum(x: F64Array, axes: readonly number[], keepDims: boolean): F64Array {
  return reduce(x, axes, keepDims, 'sum');
}

/** Mean over `axes`; `keepDims` keeps reduced axes as size 1. */
export function mean(x: F64Array, axes: readonly number[], keepDims: boolean): F64Array {
  return reduce(x, axes, keepDims, 'mean');
}
