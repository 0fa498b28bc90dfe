/**
 * The value type of the float64 reference implementations: a row-major n-dimensional array over a
 * `Float64Array`. Everything in `reference/` is plain, naive JavaScript written for clarity rather than speed,
 * independently of the engines and of the component packages.
 */
import { ShapeError, at } from '@bigr/core';

/** A float64 row-major n-dimensional array. Integer data (indices) is stored exactly as float64 too. */
export interface F64Array {
  /** Row-major elements. */
  readonly data: Float64Array;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`Shape [${shape.join(', ')}] has dimension ${d}; dimensions must be non-negative integers.`);
    n *= d;
  }
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= at(shape, i);
  }
  return s;
}

/** A float64 array holding a copy of `data` (any numeric array-like) with the given shape. */
export function f64(data: ArrayLike<number>, shape: readonly number[]): F64Array {
  const n = sizeOf(shape);
  if (data.length !== n) throw new ShapeError(`Reference array: ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements).`);
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** A float64 copy of any tensor-like value (e.g. a float32 or int32 `CpuTensor`); conversion to float64 is exact. */
export function fromTensor(t: { readonly data: ArrayLike<number>; readonly shape: readonly number[] }): F64Array {
  return f64(t.data, t.shape);
}

/** A zero-filled array. */
export function zeros(shape: readonly number[]): F64Array {
  return { data: new Float64Array(sizeOf(shape)), shape: [...shape] };
}

/** Normalises a possibly negative axis; throws a ShapeError naming `op` when it is out of range. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new ShapeError(`reference ${op}: axis ${axis} is out of range for rank ${rank}; use an integer in [${-rank}, ${rank - 1}].`);
  }
  return a;
}

/** Multi-index of flat offset `flat` in `shape` (row-major). */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = at(shape, i);
    idx[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}
