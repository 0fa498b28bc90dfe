/**
 * Float64 reference of the binary transcoder's DiT-style blocks (docs/algorithm.md §3 steps 4–5): LayerNorm without affine
 * (eps 1e-6), modulation from Linear(SiLU(c)), and for the residual block an MLP Lin → SiLU → Lin with biases.
 * Rows are independent; written as explicit per-row loops.
 */
import { ShapeError } from '@bigr/core';
import { SCALAR } from './elementwise.js';
import type { F64Array } from './ndarray.js';

/** Weights of a residual adaLN MLP block (`DenoiseBlock`), PyTorch layout. */
export interface AdaLnMlpBlockWeights {
  /** adaLN Linear weight [3·Dh, Dh] producing (shift, scale, gate). */
  readonly adaWeight: F64Array;
  /** adaLN Linear bias [3·Dh]. */
  readonly adaBias: F64Array;
  /** First MLP Linear weight [Dh, Dh]. */
  readonly fc1Weight: F64Array;
  /** First MLP Linear bias [Dh]. */
  readonly fc1Bias: F64Array;
  /** Second MLP Linear weight [Dh, Dh]. */
  readonly fc2Weight: F64Array;
  /** Second MLP Linear bias [Dh]. */
  readonly fc2Bias: F64Array;
}

/** Weights of the adaLN final layer, PyTorch layout. */
export interface AdaLnFinalLayerWeights {
  /** adaLN Linear weight [2·Dh, Dh] producing (shift, scale). */
  readonly adaWeight: F64Array;
  /** adaLN Linear bias [2·Dh]. */
  readonly adaBias: F64Array;
  /** Output Linear weight [K, Dh]. */
  readonly weight: F64Array;
  /** Output Linear bias [K]. */
  readonly bias: F64Array;
}

function affine(w: F64Array, b: F64Array, v: ArrayLike<number>): Float64Array {
  const [out, inp] = w.shape as [number, number];
  const r = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b.data[o]!;
    for (let i = 0; i < inp; i++) s += w.data[o * inp + i]! * v[i]!;
    r[o] = s;
  }
  return r;
}

function layerNormRow(x: ArrayLike<number>, eps: number): Float64Array {
  let mu = 0;
  for (let i = 0; i < x.length; i++) mu += x[i]!;
  mu /= x.length;
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += (x[i]! - mu) ** 2;
  variance /= x.length;
  const inv = 1 / Math.sqrt(variance + eps);
  return Float64Array.from({ length: x.length }, (_, i) => (x[i]! - mu) * inv);
}

function rows(a: F64Array, c: F64Array): [number, number] {
  const [r, d] = a.shape as [number, number];
  if (a.shape.length !== 2 || c.shape.length !== 2 || c.shape[0] !== r || c.shape[1] !== d) {
    throw new ShapeError(`reference adaLN block: a [${a.shape.join(', ')}] and c [${c.shape.join(', ')}] must both be [R, Dh].`);
  }
  return [r, d];
}

/** a + gate ⊙ MLP(LN(a)⊙(1+scale)+shift) with (shift, scale, gate) = split₃(Linear(SiLU(c))); a, c are [R, Dh]. */
export function adaLnMlpBlock(a: F64Array, c: F64Array, w: AdaLnMlpBlockWeights, eps = 1e-6): F64Array {
  const [r, d] = rows(a, c);
  const out = new Float64Array(r * d);
  for (let i = 0; i < r; i++) {
    const ai = a.data.subarray(i * d, (i + 1) * d);
    const mod = affine(w.adaWeight, w.adaBias, Array.from(c.data.subarray(i * d, (i + 1) * d), SCALAR.silu));
    const h = layerNormRow(ai, eps).map((v, j) => v * (1 + mod[d + j]!) + mod[j]!);
    const m = affine(w.fc2Weight, w.fc2Bias, affine(w.fc1Weight, w.fc1Bias, h).map(SCALAR.silu));
    for (let j = 0; j < d; j++) out[i * d + j] = ai[j]! + mod[2 * d + j]! * m[j]!;
  }
  return { data: out, shape: [r, d] };
}

/** Linear(LN(a)⊙(1+scale)+shift) with (shift, scale) = split₂(Linear(SiLU(c))); returns [R, K]. */
export function adaLnFinalLayer(a: F64Array, c: F64Array, w: AdaLnFinalLayerWeights, eps = 1e-6): F64Array {
  const [r, d] = rows(a, c);
  const k = w.weight.shape[0]!;
  const out = new Float64Array(r * k);
  for (let i = 0; i < r; i++) {
    const mod = affine(w.adaWeight, w.adaBias, Array.from(c.data.subarray(i * d, (i + 1) * d), SCALAR.silu));
    const h = layerNormRow(a.data.subarray(i * d, (i + 1) * d), eps).map((v, j) => v * (1 + mod[d + j]!) + mod[j]!);
    out.set(affine(w.weight, w.bias, h), i * k);
  }
  return { data: out, shape: [r, k] };
}
