/**
 * Naive float64 reference of the BiGR backbone, written directly from docs/algorithm.md §2.3–2.5 with plain loops, independent
 * of the graph code (no Ops, no RoPE matrix trick). Test-only.
 */
import { at, dims2, getOrThrow, required, type NamedTensors } from '@bigr/core';

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
    let s = b ? at(b, o, 'bias') : 0;
    for (const [i, xi] of x.entries()) s += at(w, o * inn + i, 'weight') * xi;
    y[o] = s;
  }
  return y;
}

function rms(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  ms /= x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * at(w, i, 'norm weight'));
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
    const phi = required(refRopeAngle(pos, pr, cfg), 'RoPE angle of an image position');
    const a = at(v, 2 * pr, 'even component');
    const b = at(v, 2 * pr + 1, 'odd component');
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
    mod = adaLN.map((v, i) => v + at(g, i, 'ada_gss'));
  }
  const part = (i: number) => (mod ? mod.subarray(i * D, (i + 1) * D) : null);
  const modulate = (x: Float64Array, shift: Float64Array | null, scale: Float64Array | null) =>
    shift && scale ? x.map((v, i) => v * (1 + at(scale, i, 'scale')) + at(shift, i, 'shift')) : x;
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
    for (const [i, qi] of q.entries()) {
      const logits = new Float64Array(S);
      let mx = -Infinity;
      for (const [j, kj] of k.entries()) {
        let s = 0;
        for (let e = 0; e < d; e++) s += at(qi, e, 'query') * at(kj, e, 'key');
        const l = s / Math.sqrt(d);
        logits[j] = l;
        mx = Math.max(mx, l);
      }
      let z = 0;
      for (const [j, l] of logits.entries()) {
        const ex = Math.exp(l - mx);
        logits[j] = ex;
        z += ex;
      }
      const row = at(attnOut, i, 'attention output row');
      for (const [j, ex] of logits.entries()) {
        const vj = at(v, j, 'value row');
        for (let e = 0; e < d; e++) row[hd * d + e] = at(row, hd * d + e, 'attention output') + (ex / z) * at(vj, e, 'value');
      }
    }
  }
  const gate = (i: number, x: Float64Array) => {
    const g = part(i);
    return g ? x.map((v, e) => v * at(g, e, 'gate')) : x;
  };
  const h2 = h.map((row, s) => {
    const a = gate(2, lin(at(attnOut, s, 'attention output row'), wo, D));
    return row.map((v, e) => v + at(a, e, 'attention branch'));
  });
  const w1 = p(params, `${pre}.feed_forward.w1.weight`);
  const w2 = p(params, `${pre}.feed_forward.w2.weight`);
  const w3 = p(params, `${pre}.feed_forward.w3.weight`);
  const [hidden] = dims2(getOrThrow(params, `${pre}.feed_forward.w1.weight`, 'parameter').shape, 'w1');
  return h2.map((row) => {
    const f = modulate(rms(row, n2, cfg.normEps), part(3), part(4));
    const g = lin(f, w1, hidden).map(silu);
    const u = lin(f, w3, hidden);
    const o = gate(
      5,
      lin(
        g.map((v, i) => v * at(u, i, 'up projection')),
        w2,
        D,
      ),
    );
    return row.map((v, e) => v + at(o, e, 'feed-forward branch'));
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
    if ('tokens' in cond)
      h = Array.from({ length: T }, (_, t) => Float64Array.from({ length: D }, (_, i) => at(cond.tokens, (b * T + t) * D + i, 'condition token')));
    else {
      let vector: Float64Array;
      if ('labels' in cond) {
        const y = at(cond.labels, b, 'label');
        vector = table.slice(y * D, (y + 1) * D);
      } else vector = Float64Array.from({ length: D }, (_, i) => at(cond.vectors, b * D + i, 'condition vector'));
      c = vector;
      h = Array.from({ length: T }, () => vector.slice());
    }
    for (let n = 0; n < N; n++) {
      if (mask && at(mask, b * N + n, 'mask') > 0.5) h.push(mtok.slice());
      else
        h.push(
          lin(
            Float64Array.from({ length: K }, (_, k) => at(bits, (b * N + n) * K + k, 'bit')),
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
    out.features.push(fn.slice(T).map((row, n) => row.map((v, e) => v + at(pos, n * D + e, 'position embedding'))));
  }
  return out;
}

/** Flattens [B][rows] of D into one Float64Array. */
export function flat(m: Mat[]): Float64Array {
  const rows = m.flat();
  // no rows: an empty result
  const D = rows[0]?.length ?? 0;
  const out = new Float64Array(rows.length * D);
  rows.forEach((r, i) => {
    out.set(r, i * D);
  });
  return out;
}
