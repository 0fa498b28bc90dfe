/**
 * Float64 reference of the binary transcoder's DiT-style blocks (docs/algorithm.md §3 steps 4–5): LayerNorm without affine
 * (eps 1e-6), modulation from Linear(SiLU(c)), and for the residual block an MLP Lin → SiLU → Lin with biases.
 * Rows are independent; written as explicit per-row loops.
 */
import { ShapeError, at, dims2 } from '@bigr/core';
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
  const [out, inp] = dims2(w.shape, 'reference affine weight');
  const r = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = at(b.data, o);
    for (const [i, wi] of w.data.subarray(o * inp, (o + 1) * inp).entries()) s += wi * at(v, i);
    r[o] = s;
  }
  return r;
}

function layerNormRow(x: Float64Array, eps: number): Float64Array {
  let mu = 0;
  for (const v of x) mu += v;
  mu /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mu) ** 2;
  variance /= x.length;
  const inv = 1 / Math.sqrt(variance + eps);
  return x.map((v) => (v - mu) * inv);
}

function rows(a: F64Array, c: F64Array): [number, number] {
  if (a.shape.length !== 2 || c.shape.length !== 2 || c.shape[0] !== a.shape[0] || c.shape[1] !== a.shape[1]) {
    throw new ShapeError(`reference adaLN block: a [${a.shape.join(', ')}] and c [${c.shape.join(', ')}] must both be [R, Dh].`);
  }
  return dims2(a.shape, 'reference adaLN block input');
}

/** a + gate ⊙ MLP(LN(a)⊙(1+scale)+shift) with (shift, scale, gate) = split₃(Linear(SiLU(c))); a, c are [R, Dh]. */
export function adaLnMlpBlock(a: F64Array, c: F64Array, w: AdaLnMlpBlockWeights, eps = 1e-6): F64Array {
  const [r, d] = rows(a, c);
  const out = new Float64Array(r * d);
  for (let i = 0; i < r; i++) {
    const ai = a.data.subarray(i * d, (i + 1) * d);
    const mod = affine(w.adaWeight, w.adaBias, Array.from(c.data.subarray(i * d, (i + 1) * d), SCALAR.silu));
    const h = layerNormRow(ai, eps).map((v, j) => v * (1 + at(mod, d + j)) + at(mod, j));
    const m = affine(w.fc2Weight, w.fc2Bias, affine(w.fc1Weight, w.fc1Bias, h).map(SCALAR.silu));
    for (const [j, aij] of ai.entries()) out[i * d + j] = aij + at(mod, 2 * d + j) * at(m, j);
  }
  return { data: out, shape: [r, d] };
}

/** Linear(LN(a)⊙(1+scale)+shift) with (shift, scale) = split₂(Linear(SiLU(c))); returns [R, K]. */
export function adaLnFinalLayer(a: F64Array, c: F64Array, w: AdaLnFinalLayerWeights, eps = 1e-6): F64Array {
  const [r, d] = rows(a, c);
  const [k] = dims2(w.weight.shape, 'reference adaLN final layer weight');
  const out = new Float64Array(r * k);
  for (let i = 0; i < r; i++) {
    const mod = affine(w.adaWeight, w.adaBias, Array.from(c.data.subarray(i * d, (i + 1) * d), SCALAR.silu));
    const h = layerNormRow(a.data.subarray(i * d, (i + 1) * d), eps).map((v, j) => v * (1 + at(mod, d + j)) + at(mod, j));
    out.set(affine(w.weight, w.bias, h), i * k);
  }
  return { data: out, shape: [r, k] };
}
