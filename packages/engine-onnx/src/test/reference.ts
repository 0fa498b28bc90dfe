// Float64 references for the engine tests. The kernels are @bigr/testing's naive float64 implementations (written
// independently of the engines, see docs/architecture.md); this module adds seeded test data, the call shapes these
// tests use and a closeness assertion.
import { CpuTensor, at } from '@bigr/core';
import { reference as T } from '@bigr/testing';

/** A float64 reference tensor. */
export type Ref = T.F64Array;

/** mulberry32: a small seeded PRNG for test data. */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const size = T.sizeOf;

/** Random float32 tensor in [lo, hi) plus its float64 reference copy (same values). */
export function randomTensor(rand: () => number, shape: number[], lo = -1, hi = 1): { t: CpuTensor<'float32'>; ref: Ref } {
  const f = new Float32Array(size(shape));
  for (let i = 0; i < f.length; i++) f[i] = lo + (hi - lo) * rand();
  return { t: new CpuTensor(f, shape), ref: { data: Float64Array.from(f), shape: [...shape] } };
}

export const toRef = T.fromTensor;

export const binary = T.binaryOp;
export const unary = T.unaryOp;
export const transpose = T.transpose;
export const matMul = T.matMul;
export const softmax = T.softmax;
export const slice = T.slice;
export const concat = T.concat;
export const upsample2x = T.upsampleNearest2x;

export function reduce(x: Ref, axes: readonly number[], keepDims: boolean, kind: 'sum' | 'mean'): Ref {
  return kind === 'sum' ? T.sum(x, axes, keepDims) : T.mean(x, axes, keepDims);
}

export function gather(table: Ref, indices: Int32Array, indexShape: readonly number[]): Ref {
  return T.gather(table, T.f64(indices, indexShape));
}

/** NCHW / OIHW convolution with zero padding [top, left, bottom, right]. */
export function conv2d(x: Ref, w: Ref, bias: Ref | null, stride: number, pads: readonly [number, number, number, number]): Ref {
  return T.conv2d(x, w, bias, { strides: stride, pads });
}

/** Asserts |a - b| <= tol·(1 + |b|) element-wise and equal shapes. */
export function expectClose(actual: { data: ArrayLike<number>; shape: readonly number[] }, expected: Ref, tol = 1e-5): void {
  expect([...actual.shape]).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = -1;
  let worstExcess = 0;
  for (const [i, b] of expected.data.entries()) {
    const a = at(actual.data, i);
    const excess = Math.abs(a - b) - tol * (1 + Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `element ${worst}: got ${actual.data[worst]} expected ${expected.data[worst]} ` +
        `(|diff| ${Math.abs(at(actual.data, worst) - at(expected.data, worst))} > ${tol}·(1+|b|))`,
    );
  }
}
