/**
 * Naive float64 reference of the BiGR backbone, written directly from docs/algorithm.md §2.3–2.5 with plain loops, independent
 * of the graph code (no Ops, no RoPE matrix trick). Test-only.
 */
import type { NamedTensors } from '@bigr/core';

/** Shape facts for the reference. */
export interface RefConfig {
  dim: number;
  layers: number;
  heads: number;
  bitsPerToken: number;
  tokens: number;
  numClasses: number;
  normEps: number;
  ropeBase: number;
  /** Condition tokens in front (default 1). */
  clsTokenNum?: number;
}

type Mat = Float64Array[]; // rows

function p(params: NamedTensors, name: string): Float64Array {
  const t = params.get(name);
  if (!t) throw new Error(`reference: missing ${name}`);
  return Float64Array.from(t.data as Float32Array);
}

/** y = x·Wᵀ (+ b), W (out, in) row-major. */
function lin(x: Float64Array, w: Float64Array, out: number, b?: Float64Array): Float64Array {
  const inn = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inn; i++) s += w[o * inn + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  ms /= x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * w[i]!);
}

const silu = (v: number) => v / (1 + Math.exp(-v));

/** RoPE angle of pair `pair` at sequence position `pos` (position 0 = class token → null). */
export function refRopeAngle(pos: number, pair: number, cfg: RefConfig): number | null {
  const T = cfg.clsTokenNum ?? 1;
  if (pos < T) return null;
  const d = cfg.dim / cfg.heads;
  const G = Math.round(Math.sqrt(cfg.tokens));
  const n = pos - T;
  const row = Math.floor(n / G);
  const col = n % G;
  const q = d / 4;
  const j = pair < q ? pair : pair - q;
  const theta = cfg.ropeBase ** ((-2 * j) / (d / 2));
  return (pair < q ? row : col) * theta;
}

/** Rotates one head vector in place per docs/algorithm.md §2.5 (class position → zeros). */
export function refRope(v: Float64Array, pos: number, cfg: RefConfig): Float64Array {
  const out = new Float64Array(v.length);
  if (pos < (cfg.clsTokenNum ?? 1)) return out;
  for (let pr = 0; pr < v.length / 2; pr++) {
    const phi = refRopeAngle(pos, pr, cfg)!;
    const a = v[2 * pr]!;
    const b = v[2 * pr + 1]!;
    out[2 * pr] = a * Math.cos(phi) - b * Math.sin(phi);
    out[2 * pr + 1] = b * Math.cos(phi) + a * Math.sin(phi);
  }
  return out;
}

/** One block on a single sample's sequence h (S rows of D), with modulation vector mod (6D) or null. */
export function refBlock(params: NamedTensors, cfg: RefConfig, layer: number, h: Mat, adaLN: Float64Array | null): Mat {
  const D = cfg.dim;
  const H = cfg.heads;
  const d = D / H;
  const S = h.length;
  const pre = `layers.${layer}`;
  let mod: Float64Array | null = null;
  if (adaLN) {
    const g = p(params, `${pre}.ada_gss`);
    mod = adaLN.map((v, i) => v + g[i]!);
  }
  const part = (i: number) => (mod ? mod.subarray(i * D, (i + 1) * D) : null);
  const modulate = (x: Float64Array, shift: Float64Array | null, scale: Float64Array | null) =>
    shift && scale ? x.map((v, i) => v * (1 + scale[i]!) + shift[i]!) : x;
  const wqkv = p(params, `${pre}.attention.wqkv.weight`);
  const wo = p(params, `${pre}.attention.wo.weight`);
  const n1 = p(params, `${pre}.attention_norm.weight`);
  const n2 = p(params, `${pre}.ffn_norm.weight`);
  const x1 = h.map((row) => modulate(rms(row, n1, cfg.normEps), part(0), part(1)));
  const qkv = x1.map((row) => lin(row, wqkv, 3 * D));
  const attnOut: Mat = h.map(() => new Float64Array(D));
  for (let hd = 0; hd < H; hd++) {
    const q = qkv.map((r, s) => refRope(r.slice(hd * d, hd * d + d), s, cfg));
    const k = qkv.map((r, s) => refRope(r.slice(D + hd * d, D + hd * d + d), s, cfg));
    const v = qkv.map((r) => r.slice(2 * D + hd * d, 2 * D + hd * d + d));
    for (let i = 0; i < S; i++) {
      const logits = new Float64Array(S);
      let mx = -Infinity;
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let e = 0; e < d; e++) s += q[i]![e]! * k[j]![e]!;
        logits[j] = s / Math.sqrt(d);
        mx = Math.max(mx, logits[j]!);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += logits[j] = Math.exp(logits[j]! - mx);
      for (let j = 0; j < S; j++) for (let e = 0; e < d; e++) attnOut[i]![hd * d + e]! += (logits[j]! / z) * v[j]![e]!;
    }
  }
  const gate = (i: number, x: Float64Array) => (mod ? x.map((v, e) => v * part(i)![e]!) : x);
  const h2 = h.map((row, s) => {
    const a = gate(2, lin(attnOut[s]!, wo, D));
    return row.map((v, e) => v + a[e]!);
  });
  const w1 = p(params, `${pre}.feed_forward.w1.weight`);
  const w2 = p(params, `${pre}.feed_forward.w2.weight`);
  const w3 = p(params, `${pre}.feed_forward.w3.weight`);
  const hidden = params.get(`${pre}.feed_forward.w1.weight`)!.shape[0]!;
  return h2.map((row) => {
    const f = modulate(rms(row, n2, cfg.normEps), part(3), part(4));
    const g = lin(f, w1, hidden).map(silu);
    const u = lin(f, w3, hidden);
    const o = gate(
      5,
      lin(
        g.map((v, i) => v * u[i]!),
        w2,
        D,
      ),
    );
    return row.map((v, e) => v + o[e]!);
  });
}

/** Outputs of {@link refForward}, each [B][S or N] rows of D (flattened per sample). */
export interface RefOutputs {
  hIn: Mat[];
  adaLN: Float64Array[];
  layers: Mat[][];
  finalNorm: Mat[];
  features: Mat[];
}

/**
 * Full forward (docs/algorithm.md §2.3) for B samples: bits [B·N·K], mask [B·N] (1 = masked) or null, and either labels or
 * condition vectors (c, [B·D]).
 */
export function refForward(
  params: NamedTensors,
  cfg: RefConfig,
  bits: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  cond: { labels: ArrayLike<number> } | { vectors: ArrayLike<number> } | { tokens: ArrayLike<number> },
  B: number,
  lastLayer = cfg.layers - 1,
): RefOutputs {
  const { dim: D, tokens: N, bitsPerToken: K } = cfg;
  const table = p(params, 'cls_embedding.embedding_table.weight');
  const wt = p(params, 'tok_embeddings.weight');
  const bt = p(params, 'tok_embeddings.bias');
  const mtok = p(params, 'mask_tok');
  const T = cfg.clsTokenNum ?? 1;
  const useAdaLN = params.has('adaLN.1.weight');
  const normW = p(params, 'norm.weight');
  const pos = p(params, 'diffusion_pos_embed_learned');
  const out: RefOutputs = { hIn: [], adaLN: [], layers: [], finalNorm: [], features: [] };
  for (let b = 0; b < B; b++) {
    let h: Mat;
    let c: Float64Array | null = null;
    if ('tokens' in cond) h = Array.from({ length: T }, (_, t) => Float64Array.from({ length: D }, (_, i) => cond.tokens[(b * T + t) * D + i]!));
    else {
      c = 'labels' in cond ? table.slice(cond.labels[b]! * D, (cond.labels[b]! + 1) * D) : Float64Array.from({ length: D }, (_, i) => cond.vectors[b * D + i]!);
      h = Array.from({ length: T }, () => c!.slice());
    }
    for (let n = 0; n < N; n++) {
      if (mask && mask[b * N + n]! > 0.5) h.push(mtok.slice());
      else
        h.push(
          lin(
            Float64Array.from({ length: K }, (_, k) => bits[(b * N + n) * K + k]!),
            wt,
            D,
            bt,
          ),
        );
    }
    out.hIn.push(h);
    const ada = useAdaLN && c ? lin(c.map(silu), p(params, 'adaLN.1.weight'), 6 * D, p(params, 'adaLN.1.bias')) : null;
    if (ada) out.adaLN.push(ada);
    let x = h;
    const layers: Mat[] = [];
    for (let l = 0; l <= lastLayer; l++) {
      x = refBlock(params, cfg, l, x, ada);
      layers.push(x);
    }
    out.layers.push(layers);
    const fn = x.map((row) => rms(row, normW, cfg.normEps));
    out.finalNorm.push(fn);
    out.features.push(fn.slice(T).map((row, n) => row.map((v, e) => v + pos[n * D + e]!)));
  }
  return out;
}

/** Flattens [B][rows] of D into one Float64Array. */
export function flat(m: Mat[]): Float64Array {
  const rows = m.flat();
  const D = rows[0]!.length;
  const out = new Float64Array(rows.length * D);
  rows.forEach((r, i) => {
    out.set(r, i * D);
  });
  return out;
}

/** max|a − b| / max|ref| (norm-wise relative error). */
export function relErr(actual: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (actual.length !== ref.length) throw new Error(`relErr: length ${actual.length} vs ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(actual[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / den;
}
