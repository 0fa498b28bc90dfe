import type { Ops } from '@bigr/core';
import { applyRope2d, type Rope2dConstants } from './rope2d.js';

/** Shape facts the attention layer needs (graphs are built without shape inference). */
export interface AttentionDims {
  /** Sequence length S (condition tokens + N). */
  readonly seqLen: number;
  /** Width D. */
  readonly dim: number;
  /** Heads. */
  readonly heads: number;
  /** Dropout on the attention probabilities (training only). */
  readonly attnDropout: number;
  /** Dropout after `wo` (training only). */
  readonly residDropout: number;
}

/**
 * Bidirectional multi-head self-attention of the BiGR block (docs/algorithm.md §2.4): qkv = x·W_qkvᵀ (no bias, [q | k | v]),
 * heads of d = D/heads (head h = dims h·d … h·d+d−1), 2-D RoPE on q and k, softmax(q kᵀ/√d) v with **no mask**,
 * then `wo` (no bias) and residual dropout. `x` is [B, S, D]; parameters under `${prefix}` (`layers.i.attention`).
 */
export function attention<T>(ops: Ops<T>, x: T, prefix: string, dims: AttentionDims, rope: Rope2dConstants<T>): T {
  const { seqLen: S, dim: D, heads: H } = dims;
  const d = D / H;
  const qkv = ops.matMul(x, ops.param(`${prefix}.wqkv.weight`), false, true);
  const split = (i: number) => ops.reshape(ops.slice(qkv, 2, i * D, (i + 1) * D), [-1, S, H, d]);
  // The 1/√d softmax scale is folded into q (cheaper than scaling the S×S scores).
  const q = ops.transpose(ops.mul(applyRope2d(ops, split(0), rope, S, H), ops.scalar(1 / Math.sqrt(d))), [0, 2, 1, 3]);
  const k = ops.transpose(applyRope2d(ops, split(1), rope, S, H), [0, 2, 1, 3]);
  const v = ops.transpose(split(2), [0, 2, 1, 3]);
  let probs = ops.softmax(ops.matMul(q, k, false, true));
  if (dims.attnDropout > 0) probs = ops.dropout(probs, dims.attnDropout);
  const heads = ops.reshape(ops.transpose(ops.matMul(probs, v), [0, 2, 1, 3]), [-1, S, D]);
  const out = ops.matMul(heads, ops.param(`${prefix}.wo.weight`), false, true);
  return dims.residDropout > 0 ? ops.dropout(out, dims.residDropout) : out;
}
