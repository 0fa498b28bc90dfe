/**
 * Float64 reference of the BiGR backbone transformer block (docs/algorithm.md §2.4): pre-norm Llama block with RMSNorm,
 * bidirectional multi-head attention with interleaved-pair RoPE from given cos/sin tables, SwiGLU feed-forward,
 * and optional adaLN modulation (shift/scale/gate for attention and MLP; gates used as is). Eval mode (dropout is
 * the identity). Written as explicit per-token loops.
 */
import { ShapeError, at, dims2, dims3 } from '@bigr/core';
import { SCALAR } from './elementwise.js';
import type { F64Array } from './ndarray.js';

/** Weights of one block, in PyTorch layout (out, in). */
export interface LlamaBlockWeights {
  /** RMSNorm weight before attention, [D]. */
  readonly attentionNorm: F64Array;
  /** Fused q|k|v projection, [3D, D], no bias. */
  readonly wqkv: F64Array;
  /** Attention output projection, [D, D], no bias. */
  readonly wo: F64Array;
  /** RMSNorm weight before the feed-forward, [D]. */
  readonly ffnNorm: F64Array;
  /** SwiGLU gate projection W1, [F, D]. */
  readonly w1: F64Array;
  /** SwiGLU up projection W3, [F, D]. */
  readonly w3: F64Array;
  /** SwiGLU down projection W2, [D, F]. */
  readonly w2: F64Array;
  /** Per-layer adaLN offset g_ℓ (`ada_gss`), 6·D values (shape (1,1,6,D)); added to the shared modulation. */
  readonly adaGss?: F64Array;
}

/** Options of {@link llamaBlock}. */
export interface LlamaBlockOptions {
  /** Attention heads; head size is D / heads. */
  readonly heads: number;
  /** RMSNorm epsilon (1e-5 in BiGR). */
  readonly eps: number;
  /** cos table [L, headDim/2] (see `rope2dTables`). */
  readonly cos: F64Array;
  /** sin table [L, headDim/2]. */
  readonly sin: F64Array;
  /**
   * Shared adaLN modulation A, [B, 6, D] (see {@link adaLnShared}), or null for the plain Llama block. The six
   * vectors (A + g_ℓ) are shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp.
   */
  readonly modulation: F64Array | null;
}

/** out[o] = Σᵢ W[o, i]·v[i] for W [out, in]. */
function matVec(w: F64Array, v: ArrayLike<number>): Float64Array {
  const [out, inp] = dims2(w.shape, 'reference matVec weight');
  const r = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (const [i, wi] of w.data.subarray(o * inp, (o + 1) * inp).entries()) s += wi * at(v, i);
    r[o] = s;
  }
  return r;
}

/** x·rsqrt(mean(x²) + eps)·weight. */
function rmsRow(x: Float64Array, weight: F64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * at(weight.data, i));
}

/** Shared adaLN modulation A = Linear_{D→6D}(SiLU(c)) reshaped to [B, 6, D] (docs/algorithm.md §2.3 step 5). */
export function adaLnShared(c: F64Array, weight: F64Array, bias: F64Array): F64Array {
  const [b, d] = dims2(c.shape, 'reference adaLnShared condition');
  const data = new Float64Array(b * 6 * d);
  for (let i = 0; i < b; i++) {
    const s = Array.from(c.data.subarray(i * d, (i + 1) * d), SCALAR.silu);
    const a = matVec(weight, s);
    for (let j = 0; j < 6 * d; j++) data[i * 6 * d + j] = at(a, j) + at(bias.data, j);
  }
  return { data, shape: [b, 6, d] };
}

/** One transformer block on x [B, L, D]; returns [B, L, D]. */
export function llamaBlock(x: F64Array, w: LlamaBlockWeights, o: LlamaBlockOptions): F64Array {
  const heads = o.heads;
  const badInput = (): ShapeError => new ShapeError(`reference llamaBlock: bad input [${x.shape.join(', ')}] for ${heads} heads.`);
  if (x.shape.length !== 3) throw badInput();
  const [batch, len, dim] = dims3(x.shape, 'reference llamaBlock input');
  const hd = dim / heads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw badInput();
  if (o.cos.shape[0] !== len || o.cos.shape[1] !== hd / 2)
    throw new ShapeError(`reference llamaBlock: RoPE table [${o.cos.shape.join(', ')}] is not [${len}, ${hd / 2}].`);
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < batch; b++) {
    // The six modulation vectors (zeros / ones without adaLN).
    const mod = (i: number, j: number): number => {
      if (!o.modulation) return i === 2 || i === 5 ? 1 : 0;
      return at(o.modulation.data, (b * 6 + i) * dim + j) + (w.adaGss ? at(w.adaGss.data, i * dim + j) : 0);
    };
    const tokens = Array.from({ length: len }, (_, t) => x.data.subarray((b * len + t) * dim, (b * len + t + 1) * dim));
    // Attention branch input, projections and RoPE.
    const q: Float64Array[] = [];
    const k: Float64Array[] = [];
    const v: Float64Array[] = [];
    for (const [t, token] of tokens.entries()) {
      const n = rmsRow(token, w.attentionNorm, o.eps).map((val, j) => val * (1 + mod(1, j)) + mod(0, j));
      const qkv = matVec(w.wqkv, n);
      const rotate = (vec: Float64Array): Float64Array => {
        const r = new Float64Array(dim);
        for (let h = 0; h < heads; h++)
          for (let p = 0; p < hd / 2; p++) {
            const a = at(vec, h * hd + 2 * p);
            const bb = at(vec, h * hd + 2 * p + 1);
            const cs = at(o.cos.data, t * (hd / 2) + p);
            const sn = at(o.sin.data, t * (hd / 2) + p);
            r[h * hd + 2 * p] = a * cs - bb * sn;
            r[h * hd + 2 * p + 1] = bb * cs + a * sn;
          }
        return r;
      };
      q.push(rotate(qkv.subarray(0, dim)));
      k.push(rotate(qkv.subarray(dim, 2 * dim)));
      v.push(qkv.slice(2 * dim, 3 * dim));
    }
    // Bidirectional softmax attention per head, no mask.
    for (const [t, qt] of q.entries()) {
      const attnOut = new Float64Array(dim);
      for (let h = 0; h < heads; h++) {
        const logits = new Float64Array(len);
        for (const [s, ks] of k.entries()) {
          let dot = 0;
          for (let e = 0; e < hd; e++) dot += at(qt, h * hd + e) * at(ks, h * hd + e);
          logits[s] = dot / Math.sqrt(hd);
        }
        const max = Math.max(...logits);
        const p = logits.map((l) => Math.exp(l - max));
        const z = p.reduce((acc, val) => acc + val, 0);
        for (const [s, vs] of v.entries()) for (let e = 0; e < hd; e++) attnOut[h * hd + e] = at(attnOut, h * hd + e) + (at(p, s) / z) * at(vs, h * hd + e);
      }
      const proj = matVec(w.wo, attnOut);
      const hres = at(tokens, t).map((val, j) => val + mod(2, j) * at(proj, j));
      // SwiGLU feed-forward branch.
      const n2 = rmsRow(hres, w.ffnNorm, o.eps).map((val, j) => val * (1 + mod(4, j)) + mod(3, j));
      const g = matVec(w.w1, n2);
      const u = matVec(w.w3, n2);
      const f = matVec(
        w.w2,
        g.map((gv, i) => SCALAR.silu(gv) * at(u, i)),
      );
      for (let j = 0; j < dim; j++) out[(b * len + t) * dim + j] = at(hres, j) + mod(5, j) * at(f, j);
    }
  }
  return { data: out, shape: [batch, len, dim] };
}
