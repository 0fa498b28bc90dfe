import { rmsNorm, type Ops } from '@bigr/core';
import { attention, type AttentionDims } from './attention.js';
import { feedForward } from './feedForward.js';
import type { Rope2dConstants } from './rope2d.js';

/** Shape and regularisation facts of a transformer block. */
export interface BlockDims extends AttentionDims {
  /** RMSNorm epsilon. */
  readonly normEps: number;
  /** Dropout after the SwiGLU output projection. */
  readonly ffnDropout: number;
}

/** Replaces the block's self-attention (e.g. `cachedAttention` for KV-cached decoding): (normed input, parameter prefix) → output. */
export type AttentionFunction<T> = (x: T, prefix: string) => T;

/**
 * One BiGR transformer block (docs/algorithm.md §2.4) on x [B, S, D]. With `adaLN` (the shared [B, 1, 6D] modulation
 * `Linear(SiLU(c))`), the layer adds its offset `layers.i.ada_gss` and splits into shift/scale/gate for attention and
 * MLP (gates used as is, no "1+"):
 *   h = x + gate_msa ⊙ Attn(RMSNorm₁(x)⊙(1+scale_msa) + shift_msa)
 *   out = h + gate_mlp ⊙ FFN(RMSNorm₂(h)⊙(1+scale_mlp) + shift_mlp)
 * With `adaLN === null` it is the plain pre-norm Llama block.
 */
export function transformerBlock<T>(
  ops: Ops<T>,
  x: T,
  layer: number,
  adaLN: T | null,
  dims: BlockDims,
  rope: Rope2dConstants<T>,
  attend?: AttentionFunction<T>,
): T {
  const p = `layers.${layer}`;
  const D = dims.dim;
  const attn = attend ?? ((y: T, prefix: string) => attention(ops, y, prefix, dims, rope));
  const norm1 = rmsNorm(ops, x, ops.param(`${p}.attention_norm.weight`), dims.normEps);
  if (adaLN === null) {
    const h = ops.add(x, attn(norm1, `${p}.attention`));
    const norm2 = rmsNorm(ops, h, ops.param(`${p}.ffn_norm.weight`), dims.normEps);
    return ops.add(h, feedForward(ops, norm2, `${p}.feed_forward`, dims.ffnDropout));
  }
  const mod = ops.add(adaLN, ops.reshape(ops.param(`${p}.ada_gss`), [1, 1, 6 * D]));
  const part = (i: number) => ops.slice(mod, 2, i * D, (i + 1) * D);
  const one = ops.scalar(1);
  const modulate = (y: T, shift: T, scale: T) => ops.add(ops.mul(y, ops.add(one, scale)), shift);
  const attnIn = modulate(norm1, part(0), part(1));
  const h = ops.add(x, ops.mul(part(2), attn(attnIn, `${p}.attention`)));
  const norm2 = rmsNorm(ops, h, ops.param(`${p}.ffn_norm.weight`), dims.normEps);
  const ffnIn = modulate(norm2, part(3), part(4));
  return ops.add(h, ops.mul(part(5), feedForward(ops, ffnIn, `${p}.feed_forward`, dims.ffnDropout)));
}
