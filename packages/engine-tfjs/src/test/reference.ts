// Float64 references for the engine tests. The kernels are @bigr/testing's naive float64 implementations (written
// independently of the engines, see docs/architecture.md); this module adds the call shapes these tests use and a
// tolerance ratio.
import { at } from '@bigr/core';
import { reference as T } from '@bigr/testing';

/** A float64 array with a shape (row-major). */
export type Nd = T.F64Array;

export function nd(data: ArrayLike<number>, shape: readonly number[]): Nd {
  return T.f64(data, shape);
}

export const size = T.sizeOf;
export const binary = T.binaryOp;
export const unary = T.unaryOp;
export const transpose = T.transpose;
export const concat = T.concat;
export const slice = T.slice;
export const matMul = T.matMul;
export const softmax = T.softmax;
export const upsample2x = T.upsampleNearest2x;

export function reduce(x: Nd, axes: readonly number[], keepDims: boolean, mean: boolean): Nd {
  return mean ? T.mean(x, axes, keepDims) : T.sum(x, axes, keepDims);
}

export function gather(table: Nd, indices: Int32Array, indexShape: readonly number[]): Nd {
  return T.gather(table, T.f64(indices, indexShape));
}

/** NCHW / OIHW convolution with zero padding [top, left, bottom, right]. */
export function conv2d(x: Nd, w: Nd, bias: Nd | null, stride: number, pads: readonly [number, number, number, number]): Nd {
  return T.conv2d(x, w, bias, { strides: stride, pads });
}

/** Largest violation of |a − b| ≤ tol·(1 + |b|), as the ratio |a − b| / (tol·(1 + |b|)); ≤ 1 passes. */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = at(expected, i);
    const r = Math.abs(at(actual, i) - e) / (tol * (1 + Math.abs(e)));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}
