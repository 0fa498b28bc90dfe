import { required, type Ops } from '@bigr/core';

/** Constant tables of the 2-D RoPE (docs/algorithm.md §2.5), laid out for {@link applyRope2d}. */
export interface Rope2dTables {
  /** Sequence length S = clsTokens + N. */
  readonly positions: number;
  /** Head dimension d. */
  readonly headDim: number;
  /** cos φ per position and head dim, [S, d]; both dims of a pair share the angle; condition rows are 0. */
  readonly cos: Float32Array;
  /** sin φ per position and head dim, [S, d]; condition rows are 0. */
  readonly sin: Float32Array;
  /** Pair-rotation matrix R [d, d] with (x·R)[2p] = −x[2p+1] and (x·R)[2p+1] = x[2p]. */
  readonly rotation: Float32Array;
}

/** The RoPE frequencies θ_j = base^(−2j/(d/2)) for j = 0 … d/4−1, in float32 as the official code computes them. */
export function ropeFrequencies(headDim: number, base = 10000): Float32Array {
  const quarter = headDim / 4;
  const out = new Float32Array(quarter);
  // Official: 1 / base ** (arange(0, half, 2)[: half/2].float() / half), half = d/2, in float32.
  const half = headDim / 2;
  for (let j = 0; j < quarter; j++) out[j] = Math.fround(1 / Math.fround(base ** Math.fround((2 * j) / half)));
  return out;
}

/**
 * Rotation angle φ_p of pair p for the image token at (row, col) (docs/algorithm.md §2.5): row·θ_p for p < d/4, col·θ_{p−d/4}
 * otherwise. Float32 product, as in the official table.
 */
export function ropeAngle(row: number, col: number, pair: number, freqs: Float32Array): number {
  const q = freqs.length;
  return pair < q ? Math.fround(row * required(freqs[pair], 'row frequency')) : Math.fround(col * required(freqs[pair - q], 'column frequency'));
}

/**
 * Builds the cos/sin tables for `clsTokens` leading condition rows (cos = sin = 0, so their q and k become exactly 0:
 * the LlamaGen quirk reproduced on purpose, docs/algorithm.md §2.5) followed by the √N×√N grid in row-major order, plus the pair-rotation matrix.
 */
export function buildRope2dTables(options: { headDim: number; gridSide: number; clsTokens: number; base: number }): Rope2dTables {
  const { headDim: d, gridSide: G, clsTokens, base } = options;
  const freqs = ropeFrequencies(d, base);
  const S = clsTokens + G * G;
  const cos = new Float32Array(S * d);
  const sin = new Float32Array(S * d);
  for (let n = 0; n < G * G; n++) {
    const row = Math.floor(n / G);
    const col = n % G;
    const base0 = (clsTokens + n) * d;
    for (let p = 0; p < d / 2; p++) {
      const phi = ropeAngle(row, col, p, freqs);
      const c = Math.fround(Math.cos(phi));
      const s = Math.fround(Math.sin(phi));
      cos[base0 + 2 * p] = c;
      cos[base0 + 2 * p + 1] = c;
      sin[base0 + 2 * p] = s;
      sin[base0 + 2 * p + 1] = s;
    }
  }
  const rotation = new Float32Array(d * d);
  for (let p = 0; p < d / 2; p++) {
    rotation[(2 * p + 1) * d + 2 * p] = -1;
    rotation[2 * p * d + 2 * p + 1] = 1;
  }
  return { positions: S, headDim: d, cos, sin, rotation };
}

/** Graph constants of a {@link Rope2dTables}, created once per graph and shared by every layer. */
export interface Rope2dConstants<T> {
  /** cos table, shaped [S, 1, d] to broadcast over [B, S, heads, d]. */
  readonly cos: T;
  /** sin table, shaped [S, 1, d]. */
  readonly sin: T;
  /** Rotation matrix [d, d]. */
  readonly rotation: T;
  /** Head dimension. */
  readonly headDim: number;
}

/** Turns the tables into graph constants. */
export function rope2dConstants<T>(ops: Ops<T>, tables: Rope2dTables): Rope2dConstants<T> {
  const { positions: S, headDim: d } = tables;
  return {
    cos: ops.constant(tables.cos, [S, 1, d]),
    sin: ops.constant(tables.sin, [S, 1, d]),
    rotation: ops.constant(tables.rotation, [d, d]),
    headDim: d,
  };
}

/**
 * Applies the 2-D RoPE to x [B, S, heads, d] on interleaved pairs: out = x⊙cos + (x·R)⊙sin, i.e.
 * (a, b) → (a cosφ − b sinφ, b cosφ + a sinφ) for every pair (2p, 2p+1).
 */
export function applyRope2d<T>(ops: Ops<T>, x: T, rope: Rope2dConstants<T>, seqLen: number, heads: number): T {
  const d = rope.headDim;
  const rotated = ops.reshape(ops.matMul(ops.reshape(x, [-1, d]), rope.rotation), [-1, seqLen, heads, d]);
  return ops.add(ops.mul(x, rope.cos), ops.mul(rotated, rope.sin));
}
