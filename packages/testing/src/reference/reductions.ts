/** Float64 reference reductions (sum, mean) over arbitrary axes. */
import { ShapeError, at } from '@bigr/core';
import { normAxis, sizeOf, unravel, type F64Array } from './ndarray.js';

function reduce(x: F64Array, axes: readonly number[], keepDims: boolean, kind: 'sum' | 'mean'): F64Array {
  const rank = x.shape.length;
  const ax = new Set(axes.map((a) => normAxis(a, rank, kind)));
  if (ax.size !== axes.length) throw new ShapeError(`reference ${kind}: axes [${axes.join(', ')}] repeat an axis.`);
  const keptShape = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !ax.has(i));
  const out = new Float64Array(sizeOf(keptShape));
  let count = 1;
  for (const a of ax) count *= at(x.shape, a);
  for (const [flat, v] of x.data.entries()) {
    const idx = unravel(flat, x.shape);
    const o = keptShape.reduce((acc, d, i) => acc * d + (ax.has(i) ? 0 : at(idx, i)), 0);
    out[o] = at(out, o) + v;
  }
  if (kind === 'mean') for (const [i, v] of out.entries()) out[i] = v / count;
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
