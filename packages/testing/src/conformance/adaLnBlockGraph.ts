/**
 * The binary transcoder's DiT-style blocks (docs/algorithm.md §3 steps 4–5) written against core `Ops` and core layers only,
 * for the conformance suite. Parameter names follow the official state dict. Independent of @bigr/transcoder.
 */
import { layerNorm, linear, type Ops } from '@bigr/core';

/** LayerNorm epsilon of the transcoder (no affine). */
export const ADALN_LN_EPS = 1e-6;

/** Splits the last axis of x into `parts` equal chunks of `width`. */
function split<T>(ops: Ops<T>, x: T, parts: number, width: number): T[] {
  return Array.from({ length: parts }, (_, i) => ops.slice(x, -1, i * width, (i + 1) * width));
}

/** `DenoiseBlock` `${prefix}`: a + gate ⊙ MLP(LN(a)⊙(1+scale)+shift), (shift, scale, gate) = split₃(Linear(SiLU(c))). */
export function adaLnMlpBlock<T>(ops: Ops<T>, a: T, c: T, prefix: string, width: number): T {
  const [shift, scale, gate] = split(ops, linear(ops, ops.silu(c), `${prefix}.adaLN_modulation.1`), 3, width) as [T, T, T];
  const h = ops.add(ops.mul(layerNorm(ops, a, null, null, ADALN_LN_EPS), ops.add(ops.scalar(1), scale)), shift);
  const m = linear(ops, ops.silu(linear(ops, h, `${prefix}.mlp.0`)), `${prefix}.mlp.2`);
  return ops.add(a, ops.mul(gate, m));
}

/** Final layer `${prefix}`: Linear(LN(a)⊙(1+scale)+shift) with (shift, scale) = split₂(Linear(SiLU(c))). */
export function adaLnFinalLayer<T>(ops: Ops<T>, a: T, c: T, prefix: string, width: number): T {
  const [shift, scale] = split(ops, linear(ops, ops.silu(c), `${prefix}.adaLN_modulation.1`), 2, width) as [T, T];
  const h = ops.add(ops.mul(layerNorm(ops, a, null, null, ADALN_LN_EPS), ops.add(ops.scalar(1), scale)), shift);
  return linear(ops, h, `${prefix}.linear`);
}
