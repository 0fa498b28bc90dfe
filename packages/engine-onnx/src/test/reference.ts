// Naive float64 reference implementations and helpers for the engine tests. Written independently of the
// engine: plain loops over row-major index arithmetic.
import { CpuTensor } from '@bigr/core';

/** A float64 reference tensor. */
export interface Ref {
  data: Float64Array;
  shape: number[];
}

/** mulberry32: a small seeded PRNG for test data. */
export function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Random float32 tensor in [lo, hi) plus its float64 reference copy (same values). */
export function randomTensor(rand: () => number, shape: number[], lo = -1, hi = 1): { t: CpuTensor<'float32'>; ref: Ref } {
  const f = new Float32Array(size(shape));
  for (let i = 0; i < f.length; i++) f[i] = lo + (hi - lo) * rand();
  return { t: new CpuTensor(f, shape), ref: { data: Float64Array.from(f), shape: [...shape] } };
}

export function toRef(t: { data: ArrayLike<number>; shape: readonly number[] }): Ref {
  return { data: Float64Array.from(t.data), shape: [...t.shape] };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Offset of a (right-aligned, broadcast) index into a tensor of `shape`. */
function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const st = strides(shape);
  const off = idx.length - shape.length;
  let o = 0;
  for (let d = 0; d < shape.length; d++) o += (shape[d] === 1 ? 0 : idx[d + off]!) * st[d]!;
  return o;
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

export function binary(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = broadcastShape(a.shape, b.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(a.data[broadcastOffset(idx, a.shape)]!, b.data[broadcastOffset(idx, b.shape)]!);
  }
  return { data, shape };
}

export function unary(a: Ref, f: (x: number) => number): Ref {
  return { data: a.data.map(f), shape: [...a.shape] };
}

export function reduce(x: Ref, axes: number[], keepDims: boolean, kind: 'sum' | 'mean'): Ref {
  const r = x.shape.length;
  const ax = new Set(axes.map((a) => (a < 0 ? a + r : a)));
  const keptShape = x.shape.map((d, i) => (ax.has(i) ? 1 : d));
  const out = new Float64Array(size(keptShape));
  let count = 1;
  for (const a of ax) count *= x.shape[a]!;
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (ax.has(d) ? 0 : v));
    let o = 0;
    const st = strides(keptShape);
    for (let d = 0; d < r; d++) o += idx[d]! * st[d]!;
    out[o] += x.data[i]!;
  }
  if (kind === 'mean') for (let i = 0; i < out.length; i++) out[i] /= count;
  return { data: out, shape: keepDims ? keptShape : x.shape.filter((_, i) => !ax.has(i)) };
}

export function transpose(x: Ref, perm: number[]): Ref {
  const shape = perm.map((p) => x.shape[p]!);
  const data = new Float64Array(x.data.length);
  const st = strides(x.shape);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let o = 0;
    for (let d = 0; d < perm.length; d++) o += idx[d]! * st[perm[d]!]!;
    data[i] = x.data[o]!;
  }
  return { data, shape };
}

function swapLast(x: Ref): Ref {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(x, perm);
}

/** Batched matmul over the last two axes with broadcasting of the leading axes. */
export function matMul(a0: Ref, b0: Ref, ta = false, tb = false): Ref {
  const a = ta ? swapLast(a0) : a0;
  const b = tb ? swapLast(b0) : b0;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`inner dims ${k} vs ${k2}`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShape(batchA, batchB);
  const out = new Float64Array(size(batch) * m * n);
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const oa = broadcastOffset(idx, batchA) * m * k;
    const ob = broadcastOffset(idx, batchB) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[oa + i * k + p]! * b.data[ob + p * n + j]!;
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { data: out, shape: [...batch, m, n] };
}

export function softmax(x: Ref): Ref {
  const n = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / n; r++) {
    let mx = -Infinity;
    for (let j = 0; j < n; j++) mx = Math.max(mx, x.data[r * n + j]!);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x.data[r * n + j]! - mx);
    for (let j = 0; j < n; j++) out[r * n + j] = Math.exp(x.data[r * n + j]! - mx) / s;
  }
  return { data: out, shape: [...x.shape] };
}

export function gather(table: Ref, indices: Int32Array, indexShape: number[]): Ref {
  const d = size(table.shape.slice(1));
  const out = new Float64Array(indices.length * d);
  indices.forEach((ix, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = table.data[ix * d + j]!;
  });
  return { data: out, shape: [...indexShape, ...table.shape.slice(1)] };
}

/** NCHW / OIHW convolution with zero padding [top, left, bottom, right]. */
export function conv2d(x: Ref, w: Ref, bias: Ref | null, stride: number, pads: [number, number, number, number]): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, C2, KH, KW] = w.shape as [number, number, number, number];
  if (C !== C2) throw new Error('channels');
  const [pt, pl, pb, pr] = pads;
  const OH = Math.floor((H + pt + pb - KH) / stride) + 1;
  const OW = Math.floor((W + pl + pr - KW) / stride) + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = bias ? bias.data[o]! : 0;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * stride + ky - pt;
                const ix = ox * stride + kx - pl;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += x.data[((n * C + c) * H + iy) * W + ix]! * w.data[((o * C + c) * KH + ky) * KW + kx]!;
              }
          out[((n * O + o) * OH + oy) * OW + ox] = s;
        }
  return { data: out, shape: [N, O, OH, OW] };
}

/** PyTorch nearest ×2 upsampling: out[y][x] = in[floor(y/2)][floor(x/2)]. */
export function upsample2x(x: Ref): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const out = new Float64Array(N * C * 4 * H * W);
  for (let nc = 0; nc < N * C; nc++)
    for (let y = 0; y < 2 * H; y++)
      for (let xx = 0; xx < 2 * W; xx++) out[(nc * 2 * H + y) * 2 * W + xx] = x.data[(nc * H + Math.floor(y / 2)) * W + Math.floor(xx / 2)]!;
  return { data: out, shape: [N, C, 2 * H, 2 * W] };
}

export function slice(x: Ref, axis: number, start: number, end: number): Ref {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  const data = new Float64Array(size(shape));
  const st = strides(x.shape);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    idx[ax] += start;
    data[i] = x.data[idx.reduce((o, v, d) => o + v * st[d]!, 0)]!;
  }
  return { data, shape };
}

export function concat(xs: Ref[], axis: number): Ref {
  const r = xs[0]!.shape.length;
  const ax = axis < 0 ? axis + r : axis;
  const shape = [...xs[0]!.shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    let pos = idx[ax]!;
    while (pos >= xs[k]!.shape[ax]!) pos -= xs[k++]!.shape[ax]!;
    idx[ax] = pos;
    const st = strides(xs[k]!.shape);
    data[i] = xs[k]!.data[idx.reduce((o, v, d) => o + v * st[d]!, 0)]!;
  }
  return { data, shape };
}

/** Asserts |a - b| <= tol·(1 + |b|) element-wise and equal shapes. */
export function expectClose(actual: { data: ArrayLike<number>; shape: readonly number[] }, expected: Ref, tol = 1e-5): void {
  expect([...actual.shape]).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const b = expected.data[i]!;
    const excess = Math.abs(a - b) - tol * (1 + Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `element ${worst}: got ${actual.data[worst]} expected ${expected.data[worst]} (|diff| ${Math.abs(actual.data[worst]! - expected.data[worst]!)} > ${tol}·(1+|b|))`,
    );
  }
}
