/**
 * The BiGR backbone block (docs/algorithm.md §2.4) written against core `Ops` and core layers only, for the conformance
 * suite: pre-norm Llama block with RMSNorm, bidirectional multi-head attention with interleaved-pair RoPE from
 * given cos/sin tables, SwiGLU, and optional adaLN modulation. Parameter names follow the official state dict.
 * This is test code, independent of @bigr/backbone.
 */
import { linear, rmsNorm, type Ops } from '@bigr/core';

/** Static sizes of the block (graphs are built without shape inference). */
export interface LlamaBlockDims {
  /** Tokens per sequence L (class token included). */
  readonly tokens: number;
  /** Width D. */
  readonly dim: number;
  /** Heads; head size D/heads must be even. */
  readonly heads: number;
  /** RMSNorm epsilon. */
  readonly eps: number;
  /** Residual / FFN dropout rate (identity in eval mode). */
  readonly dropout: number;
}

/** The six modulation vectors of a block, each [B, 1, D]. */
export interface BlockModulation<T> {
  readonly shiftMsa: T;
  readonly scaleMsa: T;
  readonly gateMsa: T;
  readonly shiftMlp: T;
  readonly scaleMlp: T;
  readonly gateMlp: T;
}

/** Shared adaLN A = Linear_{D→6D}(SiLU(c)) reshaped to [B, 1, 6, D] (`adaLN.1`). */
export function sharedAdaLn<T>(ops: Ops<T>, c: T, dim: number, prefix = 'adaLN.1'): T {
  return ops.reshape(linear(ops, ops.silu(c), prefix), [-1, 1, 6, dim]);
}

/** The six vectors of layer `prefix`: (A + `${prefix}.ada_gss`) unbound along axis 2, each [B, 1, D]. */
export function layerModulation<T>(ops: Ops<T>, shared: T, prefix: string, dim: number): BlockModulation<T> {
  const a = ops.add(shared, ops.param(`${prefix}.ada_gss`));
  const part = (i: number): T => ops.reshape(ops.slice(a, 2, i, i + 1), [-1, 1, dim]);
  return { shiftMsa: part(0), scaleMsa: part(1), gateMsa: part(2), shiftMlp: part(3), scaleMlp: part(4), gateMlp: part(5) };
}

/** Rotates interleaved pairs (2p, 2p+1) of x [B, H, L, Dh] by tables cos/sin [L, Dh/2]. */
export function applyRope<T>(ops: Ops<T>, x: T, cos: T, sin: T, dims: { heads: number; tokens: number; headDim: number }): T {
  const { heads, tokens, headDim } = dims;
  const pairs = ops.reshape(x, [-1, heads, tokens, headDim / 2, 2]);
  const a = ops.slice(pairs, -1, 0, 1);
  const b = ops.slice(pairs, -1, 1, 2);
  const c = ops.reshape(cos, [tokens, headDim / 2, 1]);
  const s = ops.reshape(sin, [tokens, headDim / 2, 1]);
  const ra = ops.sub(ops.mul(a, c), ops.mul(b, s));
  const rb = ops.add(ops.mul(b, c), ops.mul(a, s));
  return ops.reshape(ops.concat([ra, rb], -1), [-1, heads, tokens, headDim]);
}

/** Bidirectional multi-head attention (`${prefix}.wqkv`, `${prefix}.wo`, no biases) on x [B, L, D]. */
export function attention<T>(ops: Ops<T>, x: T, cos: T, sin: T, prefix: string, d: LlamaBlockDims): T {
  const headDim = d.dim / d.heads;
  const qkv = linear(ops, x, `${prefix}.wqkv`, false);
  const heads = (i: number): T => ops.transpose(ops.reshape(ops.slice(qkv, -1, i * d.dim, (i + 1) * d.dim), [-1, d.tokens, d.heads, headDim]), [0, 2, 1, 3]);
  const rd = { heads: d.heads, tokens: d.tokens, headDim };
  const q = applyRope(ops, heads(0), cos, sin, rd);
  const k = applyRope(ops, heads(1), cos, sin, rd);
  const v = heads(2);
  const logits = ops.mul(ops.matMul(q, k, false, true), ops.scalar(1 / Math.sqrt(headDim)));
  const o = ops.matMul(ops.softmax(logits), v);
  const merged = ops.reshape(ops.transpose(o, [0, 2, 1, 3]), [-1, d.tokens, d.dim]);
  return linear(ops, merged, `${prefix}.wo`, false);
}

/** SwiGLU W2(silu(W1 x) ⊙ W3 x), all without bias. */
export function swiGlu<T>(ops: Ops<T>, x: T, prefix: string): T {
  return linear(ops, ops.mul(ops.silu(linear(ops, x, `${prefix}.w1`, false)), linear(ops, x, `${prefix}.w3`, false)), `${prefix}.w2`, false);
}

/**
 * One block `${prefix}` on x [B, L, D]:
 * h = x + gate_msa ⊙ Attn(RMSNorm₁(x)⊙(1+scale_msa) + shift_msa); out = h + gate_mlp ⊙ FFN(RMSNorm₂(h)⊙(1+scale_mlp) + shift_mlp),
 * or the plain pre-norm block when `mod` is null.
 */
export function llamaBlock<T>(ops: Ops<T>, x: T, cos: T, sin: T, mod: BlockModulation<T> | null, prefix: string, d: LlamaBlockDims): T {
  const one = ops.scalar(1);
  const modulate = (h: T, shift: T, scale: T): T => ops.add(ops.mul(h, ops.add(one, scale)), shift);
  let a = rmsNorm(ops, x, ops.param(`${prefix}.attention_norm.weight`), d.eps);
  if (mod) a = modulate(a, mod.shiftMsa, mod.scaleMsa);
  let attn = ops.dropout(attention(ops, a, cos, sin, `${prefix}.attention`, d), d.dropout);
  if (mod) attn = ops.mul(mod.gateMsa, attn);
  const h = ops.add(x, attn);
  let f = rmsNorm(ops, h, ops.param(`${prefix}.ffn_norm.weight`), d.eps);
  if (mod) f = modulate(f, mod.shiftMlp, mod.scaleMlp);
  let ffn = ops.dropout(swiGlu(ops, f, `${prefix}.feed_forward`), d.dropout);
  if (mod) ffn = ops.mul(mod.gateMlp, ffn);
  return ops.add(h, ffn);
}
