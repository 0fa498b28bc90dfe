import { at, dims4 } from '@bigr/core';
import { reference as T } from '@bigr/testing';

/**
 * Naive float64 reference of the B-AE (docs/algorithm.md §1.2–1.5), written independently of the Ops-based layers for tests:
 * one image at a time (C, H, W), on `@bigr/testing`'s float64 convolution, group norm and SiLU.
 */
export interface Img {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

export type Params = ReadonlyMap<string, { data: ArrayLike<number>; shape: readonly number[] }>;

function p(params: Params, name: string): ArrayLike<number> {
  const t = params.get(name);
  if (!t) throw new Error(`reference: missing parameter ${name}`);
  return t.data;
}

/** One image as a batch of one [1, C, H, W], the layout of `@bigr/testing`'s float64 kernels. */
function nchw(x: Img): T.F64Array {
  return { data: x.data, shape: [1, x.c, x.h, x.w] };
}

function image(y: T.F64Array): Img {
  const [, c, h, w] = dims4(y.shape, 'reference image');
  return { c, h, w, data: y.data };
}

function param(params: Params, name: string): T.F64Array {
  const t = params.get(name);
  if (!t) throw new Error(`reference: missing parameter ${name}`);
  return T.f64(t.data, t.shape);
}

/** `o` output channels, `k`×`k` kernel (checked against the weight's shape), zero padding [top, left, bottom, right]. */
export function conv(x: Img, params: Params, prefix: string, o: number, k: number, stride: number, pads: [number, number, number, number]): Img {
  const w = param(params, `${prefix}.weight`);
  if (w.shape[0] !== o || w.shape[2] !== k || w.shape[3] !== k)
    throw new Error(`reference: ${prefix}.weight has shape [${w.shape.join(', ')}], not [${o}, ${x.c}, ${k}, ${k}]`);
  const b = params.has(`${prefix}.bias`) ? param(params, `${prefix}.bias`) : null;
  return image(T.conv2d(nchw(x), w, b, { strides: stride, pads }));
}

export function groupNorm(x: Img, params: Params, prefix: string, groups: number, eps: number): Img {
  return image(T.groupNorm(nchw(x), param(params, `${prefix}.weight`), param(params, `${prefix}.bias`), groups, eps));
}

export function silu(x: Img): Img {
  return { ...x, data: T.silu(nchw(x)).data };
}

export function add(a: Img, b: Img): Img {
  return { ...a, data: a.data.map((v, i) => v + at(b.data, i, 'addend')) };
}

export interface RefNorm {
  groups: number;
  eps: number;
}

export function resBlock(x: Img, params: Params, prefix: string, o: number, n: RefNorm): Img {
  let h = silu(groupNorm(x, params, `${prefix}.norm1`, n.groups, n.eps));
  h = conv(h, params, `${prefix}.conv1`, o, 3, 1, [1, 1, 1, 1]);
  h = silu(groupNorm(h, params, `${prefix}.norm2`, n.groups, n.eps));
  h = conv(h, params, `${prefix}.conv2`, o, 3, 1, [1, 1, 1, 1]);
  const skip = x.c === o ? x : conv(x, params, `${prefix}.conv_out`, o, 1, 1, [0, 0, 0, 0]);
  return add(skip, h);
}

export function attnBlock(x: Img, params: Params, prefix: string, n: RefNorm): Img {
  const h = groupNorm(x, params, `${prefix}.norm`, n.groups, n.eps);
  const c = x.c;
  const q = conv(h, params, `${prefix}.q`, c, 1, 1, [0, 0, 0, 0]).data;
  const k = conv(h, params, `${prefix}.k`, c, 1, 1, [0, 0, 0, 0]).data;
  const v = conv(h, params, `${prefix}.v`, c, 1, 1, [0, 0, 0, 0]).data;
  const N = x.h * x.w;
  const out = new Float64Array(c * N);
  const scores = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let mx = -Infinity;
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += at(q, ch * N + i, 'query') * at(k, ch * N + j, 'key');
      const score = s / Math.sqrt(c);
      scores[j] = score;
      mx = Math.max(mx, score);
    }
    let z = 0;
    for (const [j, score] of scores.entries()) {
      const e = Math.exp(score - mx);
      scores[j] = e;
      z += e;
    }
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (const [j, e] of scores.entries()) s += (e / z) * at(v, ch * N + j, 'value');
      out[ch * N + i] = s;
    }
  }
  const proj = conv({ c, h: x.h, w: x.w, data: out }, params, `${prefix}.proj_out`, c, 1, 1, [0, 0, 0, 0]);
  return add(x, proj);
}

export function downsample(x: Img, params: Params, prefix: string): Img {
  return conv(x, params, `${prefix}.conv`, x.c, 3, 2, [0, 0, 1, 1]);
}

export function upsample(x: Img, params: Params, prefix: string): Img {
  const up = new Float64Array(x.c * x.h * 2 * x.w * 2);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < 2 * x.h; y++)
      for (let xx = 0; xx < 2 * x.w; xx++) up[(c * 2 * x.h + y) * 2 * x.w + xx] = at(x.data, (c * x.h + (y >> 1)) * x.w + (xx >> 1), 'input');
  return conv({ c: x.c, h: 2 * x.h, w: 2 * x.w, data: up }, params, `${prefix}.conv`, x.c, 3, 1, [1, 1, 1, 1]);
}

export interface RefConfig {
  nf: number;
  chMult: readonly number[];
  resBlocks: number;
  attnResolutions: readonly number[];
  embDim: number;
  codeDim: number;
  inChannels: number;
  resolution: number;
  normFirst: boolean;
  normGroups: number;
  normEps: number;
}

/** Encoder from the prose of docs/algorithm.md §1.3 / docs/fixtures.md; returns every block output and the final one. */
export function encoderRef(x: Img, params: Params, cfg: RefConfig): { outputs: Img[]; out: Img } {
  const n = { groups: cfg.normGroups, eps: cfg.normEps };
  const outputs: Img[] = [];
  let i = 0;
  const pre = (): string => `encoder.blocks.${i++}`;
  let h = conv(x, params, pre(), cfg.nf, 3, 1, [1, 1, 1, 1]);
  outputs.push(h);
  let res = cfg.resolution;
  for (const [level, mult] of cfg.chMult.entries()) {
    for (let r = 0; r < cfg.resBlocks; r++) {
      h = resBlock(h, params, pre(), cfg.nf * mult, n);
      outputs.push(h);
      if (cfg.attnResolutions.includes(res)) {
        h = attnBlock(h, params, pre(), n);
        outputs.push(h);
      }
    }
    if (level < cfg.chMult.length - 1) {
      h = downsample(h, params, pre());
      outputs.push(h);
      res /= 2;
    }
  }
  h = resBlock(h, params, pre(), h.c, n);
  outputs.push(h);
  h = attnBlock(h, params, pre(), n);
  outputs.push(h);
  h = resBlock(h, params, pre(), h.c, n);
  outputs.push(h);
  h = groupNorm(h, params, pre(), n.groups, n.eps);
  outputs.push(h);
  h = conv(h, params, pre(), cfg.embDim, 3, 1, [1, 1, 1, 1]);
  outputs.push(h);
  return { outputs, out: h };
}

/** σ(conv1×1(features)) with quantize.proj.0. */
export function probabilitiesRef(feats: Img, params: Params, cfg: RefConfig): Img {
  const z = conv(feats, params, 'quantize.proj.0', cfg.codeDim, 1, 1, [0, 0, 0, 0]);
  return { ...z, data: z.data.map((v) => 1 / (1 + Math.exp(-v))) };
}

/** einsum('nhw,nd->dhw', codes, E). */
export function embedRef(codes: Img, params: Params, cfg: RefConfig): Img {
  const e = p(params, 'quantize.embed.weight');
  const hw = codes.h * codes.w;
  const out = new Float64Array(cfg.embDim * hw);
  for (let d = 0; d < cfg.embDim; d++)
    for (let i = 0; i < hw; i++) {
      let s = 0;
      for (let k = 0; k < cfg.codeDim; k++) s += at(codes.data, k * hw + i, 'code') * at(e, k * cfg.embDim + d, 'embedding');
      out[d * hw + i] = s;
    }
  return { c: cfg.embDim, h: codes.h, w: codes.w, data: out };
}

/** Generator from docs/algorithm.md §1.5. */
export function decoderRef(quant: Img, params: Params, cfg: RefConfig): { outputs: Img[]; out: Img } {
  const n = { groups: cfg.normGroups, eps: cfg.normEps };
  const outputs: Img[] = [];
  let i = 0;
  const pre = (): string => `generator.blocks.${i++}`;
  let h = quant;
  if (cfg.normFirst) {
    h = groupNorm(h, params, pre(), n.groups, n.eps);
    outputs.push(h);
  }
  h = conv(h, params, pre(), cfg.nf * at(cfg.chMult, cfg.chMult.length - 1, 'chMult of the deepest level'), 3, 1, [1, 1, 1, 1]);
  outputs.push(h);
  h = resBlock(h, params, pre(), h.c, n);
  outputs.push(h);
  h = attnBlock(h, params, pre(), n);
  outputs.push(h);
  h = resBlock(h, params, pre(), h.c, n);
  outputs.push(h);
  let res = cfg.resolution / 2 ** (cfg.chMult.length - 1);
  for (const [level, mult] of [...cfg.chMult.entries()].reverse()) {
    for (let r = 0; r < cfg.resBlocks; r++) {
      h = resBlock(h, params, pre(), cfg.nf * mult, n);
      outputs.push(h);
      if (cfg.attnResolutions.includes(res)) {
        h = attnBlock(h, params, pre(), n);
        outputs.push(h);
      }
    }
    if (level > 0) {
      h = upsample(h, params, pre());
      outputs.push(h);
      res *= 2;
    }
  }
  h = groupNorm(h, params, pre(), n.groups, n.eps);
  outputs.push(h);
  h = conv(h, params, pre(), cfg.inChannels, 3, 1, [1, 1, 1, 1]);
  outputs.push(h);
  return { outputs, out: h };
}

export { maxAbsDiff } from '@bigr/testing';
