/**
 * Float64 reference versions of the core layers (linear, RMSNorm, LayerNorm, GroupNorm, softplus, BCE with
 * logits), written as explicit loops from their textbook definitions rather than composed from the reference ops.
 */
import { ShapeError, at, dims2, dims4 } from '@bigr/core';
import type { F64Array } from './ndarray.js';

function lastDim(x: F64Array): number {
  const d = x.shape[x.shape.length - 1];
  if (d === undefined) throw new ShapeError('reference layer: a scalar has no last axis.');
  return d;
}

/** y[..., o] = Σᵢ x[..., i]·W[o, i] + b[o] for a PyTorch-layout weight W (out, in). */
export function linear(x: F64Array, weight: F64Array, bias: F64Array | null): F64Array {
  const [out, inp] = dims2(weight.shape, 'reference linear weight');
  if (lastDim(x) !== inp) throw new ShapeError(`reference linear: input [${x.shape.join(', ')}] does not end in ${inp}.`);
  const rows = x.data.length / inp;
  const data = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < out; o++) {
      let s = bias ? at(bias.data, o) : 0;
      for (let i = 0; i < inp; i++) s += at(x.data, r * inp + i) * at(weight.data, o * inp + i);
      data[r * out + o] = s;
    }
  return { data, shape: [...x.shape.slice(0, -1), out] };
}

/** Applies `f(row, outRow)` to each row of the last axis. */
function perRow(x: F64Array, f: (row: Float64Array, out: Float64Array) => void): F64Array {
  const n = lastDim(x);
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length; r += n) f(x.data.subarray(r, r + n), data.subarray(r, r + n));
  return { data, shape: [...x.shape] };
}

/** RMSNorm over the last axis: x / √(mean(x²) + eps), times `weight` when given. */
export function rmsNorm(x: F64Array, weight: F64Array | null, eps: number): F64Array {
  return perRow(x, (row, out) => {
    let ms = 0;
    for (const v of row) ms += v * v;
    const inv = 1 / Math.sqrt(ms / row.length + eps);
    for (const [j, v] of row.entries()) out[j] = v * inv * (weight ? at(weight.data, j) : 1);
  });
}

/** LayerNorm over the last axis with biased variance: (x − μ)/√(σ² + eps), then optional affine. */
export function layerNorm(x: F64Array, weight: F64Array | null, bias: F64Array | null, eps: number): F64Array {
  return perRow(x, (row, out) => {
    let mu = 0;
    for (const v of row) mu += v;
    mu /= row.length;
    let variance = 0;
    for (const v of row) variance += (v - mu) * (v - mu);
    variance /= row.length;
    const inv = 1 / Math.sqrt(variance + eps);
    for (const [j, v] of row.entries()) out[j] = (v - mu) * inv * (weight ? at(weight.data, j) : 1) + (bias ? at(bias.data, j) : 0);
  });
}

/** GroupNorm on NCHW input (PyTorch semantics: statistics over each group's channels and pixels, per-channel affine). */
export function groupNorm(x: F64Array, weight: F64Array, bias: F64Array, groups: number, eps: number): F64Array {
  const notNchw = (): ShapeError => new ShapeError(`reference groupNorm: [${x.shape.join(', ')}] is not NCHW with channels divisible by ${groups}.`);
  if (x.shape.length !== 4) throw notNchw();
  const [n, c, h, w] = dims4(x.shape, 'reference groupNorm input');
  if (c % groups !== 0) throw notNchw();
  const per = c / groups;
  const plane = h * w;
  const data = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * per) * plane;
      const count = per * plane;
      const group = x.data.subarray(start, start + count);
      let mu = 0;
      for (const v of group) mu += v;
      mu /= count;
      let variance = 0;
      for (const v of group) variance += (v - mu) ** 2;
      variance /= count;
      const inv = 1 / Math.sqrt(variance + eps);
      for (const [i, v] of group.entries()) {
        const ch = g * per + Math.floor(i / plane);
        data[start + i] = (v - mu) * inv * at(weight.data, ch) + at(bias.data, ch);
      }
    }
  return { data, shape: [...x.shape] };
}

/** softplus(v) = ln(1 + eᵛ), evaluated with log1p so it is accurate for both signs. */
export function softplusScalar(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

/** Element-wise softplus. */
export function softplus(x: F64Array): F64Array {
  return { data: x.data.map(softplusScalar), shape: [...x.shape] };
}

/**
 * Element-wise binary cross-entropy with logits, −[y·ln σ(ℓ) + (1−y)·ln(1−σ(ℓ))], evaluated as
 * y·softplus(−ℓ) + (1−y)·softplus(ℓ) (no cancellation for large |ℓ|). Shapes must be equal.
 */
export function bceWithLogits(logits: F64Array, targets: F64Array): F64Array {
  if (logits.data.length !== targets.data.length) throw new ShapeError('reference bceWithLogits: logits and targets differ in size.');
  const data = logits.data.map((l, i) => {
    const y = at(targets.data, i);
    return y * softplusScalar(-l) + (1 - y) * softplusScalar(l);
  });
  return { data, shape: [...logits.shape] };
}
