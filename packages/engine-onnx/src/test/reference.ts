// Naive float64 reference implementations and helpers for the engine tests. Written independently of the
// engine: plain loops over row-major index arithmetic.
import { CpuTensor, at, dims2, dims4, lastDim, required } from '@bigr/core';

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
  for (let i = shape.length - 2; i >= 0; i--) s[i] = at(s, i + 1) * at(shape, i + 1);
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = at(shape, d);
    idx[d] = i % n;
    i = Math.floor(i / n);
  }
  return idx;
}

/** Offset of a (right-aligned, broadcast) index into a tensor of `shape`. */
function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const st = strides(shape);
  const off = idx.length - shape.length;
  let o = 0;
  for (const [d, n] of shape.entries()) o += (n === 1 ? 0 : at(idx, d + off)) * at(st, d);
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
    data[i] = f(at(a.data, broadcastOffset(idx, a.shape)), at(b.data, broadcastOffset(idx, b.shape)));
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
  for (const a of ax) count *= at(x.shape, a);
  const st = strides(keptShape);
  for (const [i, v] of x.data.entries()) {
    const idx = unravel(i, x.shape).map((c, d) => (ax.has(d) ? 0 : c));
    const o = idx.reduce((acc, id, d) => acc + id * at(st, d), 0);
    out[o] = at(out, o) + v;
  }
  if (kind === 'mean') for (const [i, v] of out.entries()) out[i] = v / count;
  return { data: out, shape: keepDims ? keptShape : x.shape.filter((_, i) => !ax.has(i)) };
}

export function transpose(x: Ref, perm: number[]): Ref {
  const shape = perm.map((p) => at(x.shape, p));
  const data = new Float64Array(x.data.length);
  const st = strides(x.shape);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    const o = perm.reduce((acc, p, d) => acc + at(idx, d) * at(st, p), 0);
    data[i] = at(x.data, o);
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
  const [m, k] = dims2(a.shape.slice(-2), 'matMul a (last two axes)');
  const [k2, n] = dims2(b.shape.slice(-2), 'matMul b (last two axes)');
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
        for (let p = 0; p < k; p++) s += at(a.data, oa + i * k + p) * at(b.data, ob + p * n + j);
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { data: out, shape: [...batch, m, n] };
}

export function softmax(x: Ref): Ref {
  const n = lastDim(x.shape);
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / n; r++) {
    const row = x.data.subarray(r * n, (r + 1) * n);
    let mx = -Infinity;
    for (const v of row) mx = Math.max(mx, v);
    let s = 0;
    for (const v of row) s += Math.exp(v - mx);
    for (const [j, v] of row.entries()) out[r * n + j] = Math.exp(v - mx) / s;
  }
  return { data: out, shape: [...x.shape] };
}

export function gather(table: Ref, indices: Int32Array, indexShape: number[]): Ref {
  const d = size(table.shape.slice(1));
  const out = new Float64Array(indices.length * d);
  indices.forEach((ix, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = at(table.data, ix * d + j);
  });
  return { data: out, shape: [...indexShape, ...table.shape.slice(1)] };
}

/** NCHW / OIHW convolution with zero padding [top, left, bottom, right]. */
export function conv2d(x: Ref, w: Ref, bias: Ref | null, stride: number, pads: [number, number, number, number]): Ref {
  const [N, C, H, W] = dims4(x.shape, 'conv2d input');
  const [O, C2, KH, KW] = dims4(w.shape, 'conv2d weight');
  if (C !== C2) throw new Error('channels');
  const [pt, pl, pb, pr] = pads;
  const OH = Math.floor((H + pt + pb - KH) / stride) + 1;
  const OW = Math.floor((W + pl + pr - KW) / stride) + 1;
  const out = new Float64Array(N * O * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = bias ? at(bias.data, o) : 0;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * stride + ky - pt;
                const ix = ox * stride + kx - pl;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                s += at(x.data, ((n * C + c) * H + iy) * W + ix) * at(w.data, ((o * C + c) * KH + ky) * KW + kx);
              }
          out[((n * O + o) * OH + oy) * OW + ox] = s;
        }
  return { data: out, shape: [N, O, OH, OW] };
}

/** PyTorch nearest ×2 upsampling: out[y][x] = in[floor(y/2)][floor(x/2)]. */
export function upsample2x(x: Ref): Ref {
  const [N, C, H, W] = dims4(x.shape, 'upsample input');
  const out = new Float64Array(N * C * 4 * H * W);
  for (let nc = 0; nc < N * C; nc++)
    for (let y = 0; y < 2 * H; y++)
      for (let xx = 0; xx < 2 * W; xx++) out[(nc * 2 * H + y) * 2 * W + xx] = at(x.data, (nc * H + Math.floor(y / 2)) * W + Math.floor(xx / 2));
  return { data: out, shape: [N, C, 2 * H, 2 * W] };
}

export function slice(x: Ref, axis: number, start: number, end: number): Ref {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  const data = new Float64Array(size(shape));
  const st = strides(x.shape);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    idx[ax] = at(idx, ax) + start;
    data[i] = at(
      x.data,
      idx.reduce((o, v, d) => o + v * at(st, d), 0),
    );
  }
  return { data, shape };
}

export function concat(xs: Ref[], axis: number): Ref {
  const first = required(xs[0], 'concat operand');
  const r = first.shape.length;
  const ax = axis < 0 ? axis + r : axis;
  const shape = [...first.shape];
  shape[ax] = xs.reduce((s, x) => s + at(x.shape, ax), 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    // Walk along the operands until position `pos` of the concat axis falls inside one.
    let k = 0;
    let part = first;
    let pos = at(idx, ax);
    while (pos >= at(part.shape, ax)) {
      pos -= at(part.shape, ax);
      part = at(xs, ++k);
    }
    idx[ax] = pos;
    const st = strides(part.shape);
    data[i] = at(
      part.data,
      idx.reduce((o, v, d) => o + v * at(st, d), 0),
    );
  }
  return { data, shape };
}

/** Asserts |a - b| <= tol·(1 + |b|) element-wise and equal shapes. */
export function expectClose(actual: { data: ArrayLike<number>; shape: readonly number[] }, expected: Ref, tol = 1e-5): void {
  expect([...actual.shape]).toEqual(expected.shape);
  expect(actual.data.length).toBe(expected.data.length);
  let worst = -1;
  let worstExcess = 0;
  for (const [i, b] of expected.data.entries()) {
    const a = at(actual.data, i);
    const excess = Math.abs(a - b) - tol * (1 + Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `element ${worst}: got ${actual.data[worst]} expected ${expected.data[worst]} ` +
        `(|diff| ${Math.abs(at(actual.data, worst) - at(expected.data, worst))} > ${tol}·(1+|b|))`,
    );
  }
}
