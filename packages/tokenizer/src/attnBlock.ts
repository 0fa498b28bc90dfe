import type { Ops } from '@bigr/core';
import { conv1x1, type FeatureDims, type NormSettings } from './conv.js';
import { normalize } from './normalize.js';

/**
 * `AttnBlock(c)` (docs/algorithm.md §1.2): single-head self-attention over the h·w positions. With h = GN(x) and
 * q, k, v = three 1×1 convs of h, A = softmax_j(q_i·k_j / √c) and the output is x + proj_out(Σ_j A_ij v_j).
 * Parameters under `prefix`: `norm`, `q`, `k`, `v`, `proj_out`.
 */
export function attnBlock<T>(ops: Ops<T>, x: T, prefix: string, dims: FeatureDims, norm: NormSettings): T {
  const { channels: c, height, width } = dims;
  const n = height * width;
  const h = normalize(ops, x, `${prefix}.norm`, dims, norm);
  const q = ops.reshape(conv1x1(ops, h, `${prefix}.q`), [-1, c, n]);
  const k = ops.reshape(conv1x1(ops, h, `${prefix}.k`), [-1, c, n]);
  const v = ops.reshape(conv1x1(ops, h, `${prefix}.v`), [-1, c, n]);
  // scores[b, i, j] = Σ_c q[b, c, i]·k[b, c, j] / √c
  const scores = ops.mul(ops.matMul(q, k, true, false), ops.scalar(1 / Math.sqrt(c)));
  const attn = ops.softmax(scores);
  // out[b, c, i] = Σ_j v[b, c, j]·A[b, i, j]
  const out = ops.reshape(ops.matMul(v, attn, false, true), [-1, c, height, width]);
  return ops.add(x, conv1x1(ops, out, `${prefix}.proj_out`));
}
