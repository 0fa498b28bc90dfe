import { ConfigError, type Ops } from '@bigr/core';
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
  /** Causal mask: position i attends to positions ≤ i only (autoregressive variants, docs/algorithm.md §13.2). Default false. */
  readonly causal?: boolean;
}

/** Additive logit of a masked-out attention entry: exp(−1e9 − max) is exactly 0 in float32. */
export const CAUSAL_MASK_LOGIT = -1e9;

/** The additive causal mask [S, S]: 0 where key j ≤ query i, {@link CAUSAL_MASK_LOGIT} above the diagonal. */
export function causalMaskTable(seqLen: number): Float32Array {
  const m = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) m[i * seqLen + j] = CAUSAL_MASK_LOGIT;
  return m;
}

/**
 * Multi-head self-attention of the BiGR block (docs/algorithm.md §2.4; with `dims.causal`, the causal variant of §13.2): qkv = x·W_qkvᵀ (no bias, [q | k | v]),
 * heads of d = D/heads (head h = dims h·d … h·d+d−1), 2-D RoPE on q and k, softmax(q kᵀ/√d) v with **no mask** (or the causal mask),
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
  let scores = ops.matMul(q, k, false, true);
  if (dims.causal) scores = ops.add(scores, ops.constant(causalMaskTable(S), [S, S]));
  let probs = ops.softmax(scores);
  if (dims.attnDropout > 0) probs = ops.dropout(probs, dims.attnDropout);
  const heads = ops.reshape(ops.transpose(ops.matMul(probs, v), [0, 2, 1, 3]), [-1, S, D]);
  const out = ops.matMul(heads, ops.param(`${prefix}.wo.weight`), false, true);
  return dims.residDropout > 0 ? ops.dropout(out, dims.residDropout) : out;
}

/** Keys and values of one layer, [B, heads, P, d] (RoPE already applied to the keys). */
export interface KeyValue<T> {
  /** Keys [B, heads, P, d]. */
  readonly k: T;
  /** Values [B, heads, P, d]. */
  readonly v: T;
}

/**
 * Causal attention with a key/value cache (docs/algorithm.md §13.3), inference only: the S_new = `dims.seqLen` new
 * positions of x [B, S_new, D] attend to the `past` keys/values (all earlier positions) and, causally, to each
 * other. `rope` holds the cos/sin rows of the new positions only ([S_new, 1, d]). Returns the attention output and
 * the present keys/values = concat(past, new) along the position axis, to be fed back as the next call's past.
 */
export function cachedAttention<T>(
  ops: Ops<T>,
  x: T,
  prefix: string,
  dims: AttentionDims,
  rope: Rope2dConstants<T>,
  past: KeyValue<T> | null,
): { out: T; present: KeyValue<T> } {
  const { seqLen: S, dim: D, heads: H } = dims;
  const d = D / H;
  const qkv = ops.matMul(x, ops.param(`${prefix}.wqkv.weight`), false, true);
  const split = (i: number) => ops.reshape(ops.slice(qkv, 2, i * D, (i + 1) * D), [-1, S, H, d]);
  const q = ops.transpose(ops.mul(applyRope2d(ops, split(0), rope, S, H), ops.scalar(1 / Math.sqrt(d))), [0, 2, 1, 3]);
  const kNew = ops.transpose(applyRope2d(ops, split(1), rope, S, H), [0, 2, 1, 3]);
  const vNew = ops.transpose(split(2), [0, 2, 1, 3]);
  const k = past ? ops.concat([past.k, kNew], 2) : kNew;
  const v = past ? ops.concat([past.v, vNew], 2) : vNew;
  let scores = ops.matMul(q, k, false, true);
  if (S > 1) {
    if (past) throw new ConfigError('cachedAttention: several new positions with a past cache are not supported; feed one position per step.');
    scores = ops.add(scores, ops.constant(causalMaskTable(S), [S, S]));
  }
  const heads = ops.reshape(ops.transpose(ops.matMul(ops.softmax(scores), v), [0, 2, 1, 3]), [-1, S, D]);
  return { out: ops.matMul(heads, ops.param(`${prefix}.wo.weight`), false, true), present: { k, v } };
}
