/** Element-wise float64 reference ops with NumPy broadcasting. */
import { ShapeError, at } from '@bigr/core';
import { sizeOf, stridesOf, type F64Array } from './ndarray.js';

/** NumPy broadcast of two shapes (aligned at the trailing axis; a dimension of 1 stretches). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`reference broadcast: shapes [${a.join(', ')}] and [${b.join(', ')}] are incompatible at axis ${i}.`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` seen from an output of rank `rank` (broadcast axes get stride 0). */
function broadcastStrides(shape: readonly number[], rank: number): number[] {
  const s = stridesOf(shape);
  const out = new Array<number>(rank).fill(0);
  for (const [i, d] of shape.entries()) out[rank - shape.length + i] = d === 1 ? 0 : at(s, i);
  return out;
}

/** Applies `f` element-wise with broadcasting. */
export function binaryOp(a: F64Array, b: F64Array, f: (x: number, y: number) => number): F64Array {
  const shape = broadcastShapes(a.shape, b.shape);
  const rank = shape.length;
  const sa = broadcastStrides(a.shape, rank);
  const sb = broadcastStrides(b.shape, rank);
  const n = sizeOf(shape);
  const data = new Float64Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let ia = 0;
    let ib = 0;
    for (const [i, v] of idx.entries()) {
      ia += v * at(sa, i);
      ib += v * at(sb, i);
    }
    data[o] = f(at(a.data, ia), at(b.data, ib));
    // Advance the multi-index like an odometer, last axis fastest.
    for (let i = rank - 1; i >= 0; i--) {
      const next = at(idx, i) + 1;
      if (next < at(shape, i)) {
        idx[i] = next;
        break;
      }
      idx[i] = 0;
    }
  }
  return { data, shape };
}

/** Applies `f` to every element. */
export function unaryOp(x: F64Array, f: (v: number) => number): F64Array {
  return { data: x.data.map(f), shape: [...x.shape] };
}

/** a + b. */
export const add = (a: F64Array, b: F64Array): F64Array => binaryOp(a, b, (x, y) => x + y);
/** a − b. */
export const sub = (a: F64Array, b: F64Array): F64Array => binaryOp(a, b, (x, y) => x - y);
/** a · b. */
export const mul = (a: F64Array, b: F64Array): F64Array => binaryOp(a, b, (x, y) => x * y);
/** a / b. */
export const div = (a: F64Array, b: F64Array): F64Array => binaryOp(a, b, (x, y) => x / y);

/** Scalar functions behind the unary reference ops. */
export const SCALAR = {
  neg: (v: number): number => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (v: number): number => 1 / Math.sqrt(v),
  square: (v: number): number => v * v,
  sigmoid: (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  silu: (v: number): number => v * SCALAR.sigmoid(v),
  tanh: Math.tanh,
  relu: (v: number): number => Math.max(v, 0),
  sin: Math.sin,
  cos: Math.cos,
} as const;

/** −x. */
export const neg = (x: F64Array): F64Array => unaryOp(x, SCALAR.neg);
/** eˣ. */
export const exp = (x: F64Array): F64Array => unaryOp(x, SCALAR.exp);
/** ln x. */
export const log = (x: F64Array): F64Array => unaryOp(x, SCALAR.log);
/** √x. */
export const sqrt = (x: F64Array): F64Array => unaryOp(x, SCALAR.sqrt);
/** 1/√x. */
export const rsqrt = (x: F64Array): F64Array => unaryOp(x, SCALAR.rsqrt);
/** x². */
export const square = (x: F64Array): F64Array => unaryOp(x, SCALAR.square);
/** σ(x), evaluated without overflow for either sign. */
export const sigmoid = (x: F64Array): F64Array => unaryOp(x, SCALAR.sigmoid);
/** x·σ(x). */
export const silu = (x: F64Array): F64Array => unaryOp(x, SCALAR.silu);
/** tanh x. */
export const tanh = (x: F64Array): F64Array => unaryOp(x, SCALAR.tanh);
/** max(x, 0). */
export const relu = (x: F64Array): F64Array => unaryOp(x, SCALAR.relu);
/** sin x. */
export const sin = (x: F64Array): F64Array => unaryOp(x, SCALAR.sin);
/** cos x. */
export const cos = (x: F64Array): F64Array => unaryOp(x, SCALAR.cos);

/** |x|. */
export const abs = (x: F64Array): F64Array => unaryOp(x, Math.abs);
/** max(a, b) with broadcasting. */
export const maximum = (a: F64Array, b: F64Array): F64Array => binaryOp(a, b, Math.max);
/** Heaviside step [x > 0]. */
export const step = (x: F64Array): F64Array => unaryOp(x, (v) => (v > 0 ? 1 : 0));
/** `x` broadcast to `shape` (NumPy rules). */
export const broadcastTo = (x: F64Array, shape: readonly number[]): F64Array =>
  binaryOp(x, { data: new Float64Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] }, (v) => v);
