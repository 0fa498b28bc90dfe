/** Naive float64 reference implementations of the ops, written independently of tfjs, for the tests. */
import { at, dims2, dims4, lastDim, required } from '@bigr/core';

/** A float64 array with a shape (row-major). */
export interface Nd {
  data: Float64Array;
  shape: number[];
}

export function nd(data: ArrayLike<number>, shape: readonly number[]): Nd {
  return { data: Float64Array.from(data), shape: [...shape] };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = at(s, i + 1) * at(shape, i + 1);
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = at(shape, d);
    idx[d] = i % n;
    i = Math.floor(i / n);
  }
  return idx;
}

/** NumPy broadcasting of a binary function. */
export function binary(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array<number>(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array<number>(rank - b.shape.length).fill(1), ...b.shape];
  const out = pa.map((d, i) => {
    const e = at(pb, i);
    if (d !== e && d !== 1 && e !== 1) throw new Error('not broadcastable');
    return Math.max(d, e);
  });
  const sa = strides(pa);
  const sb = strides(pb);
  const data = new Float64Array(size(out));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, out);
    let ia = 0;
    let ib = 0;
    idx.forEach((v, d) => {
      if (pa[d] !== 1) ia += v * at(sa, d);
      if (pb[d] !== 1) ib += v * at(sb, d);
    });
    data[i] = f(at(a.data, ia), at(b.data, ib));
  }
  return { data, shape: out };
}

export function unary(x: Nd, f: (v: number) => number): Nd {
  return { data: x.data.map(f), shape: [...x.shape] };
}

/** Sum or mean over axes (already non-negative). */
export function reduce(x: Nd, axes: readonly number[], keepDims: boolean, mean: boolean): Nd {
  const keepShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const so = strides(keepShape);
  const out = new Float64Array(size(keepShape));
  for (const [i, xi] of x.data.entries()) {
    const idx = unravel(i, x.shape);
    let o = 0;
    idx.forEach((v, d) => {
      if (!axes.includes(d)) o += v * at(so, d);
    });
    out[o] = at(out, o) + xi;
  }
  const n = axes.reduce((a, ax) => a * at(x.shape, ax), 1);
  if (mean) for (const [i, v] of out.entries()) out[i] = v / n;
  return { data: out, shape: keepDims ? keepShape : x.shape.filter((_, i) => !axes.includes(i)) };
}

export function transpose(x: Nd, perm: readonly number[]): Nd {
  const shape = perm.map((p) => at(x.shape, p));
  const sx = strides(x.shape);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let src = 0;
    idx.forEach((v, d) => {
      src += v * at(sx, at(perm, d));
    });
    data[i] = at(x.data, src);
  }
  return { data, shape };
}

export function concat(xs: readonly Nd[], axis: number): Nd {
  const first = required(xs[0], 'concat operand');
  const shape = [...first.shape];
  shape[axis] = xs.reduce((a, x) => a + at(x.shape, axis), 0);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    // Walk along the operands until position k of the concat axis falls inside one.
    let k = at(idx, axis);
    let j = 0;
    let part = first;
    while (k >= at(part.shape, axis)) {
      k -= at(part.shape, axis);
      part = at(xs, ++j);
    }
    const src = [...idx];
    src[axis] = k;
    const s = strides(part.shape);
    data[i] = at(
      part.data,
      src.reduce((a, v, d) => a + v * at(s, d), 0),
    );
  }
  return { data, shape };
}

export function slice(x: Nd, axis: number, start: number, end: number): Nd {
  const shape = [...x.shape];
  shape[axis] = end - start;
  const sx = strides(x.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    idx[axis] = at(idx, axis) + start;
    data[i] = at(
      x.data,
      idx.reduce((a, v, d) => a + v * at(sx, d), 0),
    );
  }
  return { data, shape };
}

/** Batched matmul over the last two axes with broadcasting of the leading axes. */
export function matMul(a: Nd, b: Nd, ta = false, tb = false): Nd {
  const A = ta
    ? transpose(
        a,
        [...a.shape.keys()].map((i, _, arr) => (i < arr.length - 2 ? i : i === arr.length - 2 ? arr.length - 1 : arr.length - 2)),
      )
    : a;
  const B = tb
    ? transpose(
        b,
        [...b.shape.keys()].map((i, _, arr) => (i < arr.length - 2 ? i : i === arr.length - 2 ? arr.length - 1 : arr.length - 2)),
      )
    : b;
  const [m, k] = dims2(A.shape.slice(-2), 'matMul a (last two axes)');
  const [k2, n] = dims2(B.shape.slice(-2), 'matMul b (last two axes)');
  if (k2 !== k) throw new Error('inner dims');
  const la = A.shape.slice(0, -2);
  const lb = B.shape.slice(0, -2);
  const rank = Math.max(la.length, lb.length);
  const pa = [...new Array<number>(rank - la.length).fill(1), ...la];
  const pb = [...new Array<number>(rank - lb.length).fill(1), ...lb];
  const lead = pa.map((d, i) => Math.max(d, at(pb, i)));
  const batches = size(lead);
  const data = new Float64Array(batches * m * n);
  const sa = strides(pa);
  const sb = strides(pb);
  for (let bi = 0; bi < batches; bi++) {
    const idx = unravel(bi, lead);
    let oa = 0;
    let ob = 0;
    idx.forEach((v, d) => {
      if (pa[d] !== 1) oa += v * at(sa, d);
      if (pb[d] !== 1) ob += v * at(sb, d);
    });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += at(A.data, oa * m * k + i * k + q) * at(B.data, ob * k * n + q * n + j);
        data[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { data, shape: [...lead, m, n] };
}

export function softmax(x: Nd): Nd {
  const d = lastDim(x.shape);
  const data = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / d; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    let mx = -Infinity;
    for (const v of row) mx = Math.max(mx, v);
    let s = 0;
    for (const v of row) s += Math.exp(v - mx);
    for (const [j, v] of row.entries()) data[r * d + j] = Math.exp(v - mx) / s;
  }
  return { data, shape: [...x.shape] };
}

export function gather(table: Nd, indices: Int32Array, indexShape: readonly number[]): Nd {
  const [, d] = dims2(table.shape, 'gather table');
  const data = new Float64Array(indices.length * d);
  indices.forEach((ix, i) => {
    for (let j = 0; j < d; j++) data[i * d + j] = at(table.data, ix * d + j);
  });
  return { data, shape: [...indexShape, d] };
}

/** NCHW / OIHW convolution with zero pads [top, left, bottom, right]. */
export function conv2d(x: Nd, w: Nd, bias: Nd | null, stride: number, pads: readonly [number, number, number, number]): Nd {
  const [n, c, h, wd] = dims4(x.shape, 'conv2d input');
  const [o, ci, kh, kw] = dims4(w.shape, 'conv2d weight');
  if (ci !== c) throw new Error('channels');
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((h + pt + pb - kh) / stride) + 1;
  const ow = Math.floor((wd + pl + pr - kw) / stride) + 1;
  const data = new Float64Array(n * o * oh * ow);
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias ? at(bias.data, oc) : 0;
          for (let ic = 0; ic < c; ic++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * stride + ky - pt;
                const ix = xx * stride + kx - pl;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += at(x.data, ((b * c + ic) * h + iy) * wd + ix) * at(w.data, ((oc * c + ic) * kh + ky) * kw + kx);
              }
          data[((b * o + oc) * oh + y) * ow + xx] = s;
        }
  return { data, shape: [n, o, oh, ow] };
}

export function upsample2x(x: Nd): Nd {
  const [n, c, h, w] = dims4(x.shape, 'upsample input');
  const data = new Float64Array(n * c * 4 * h * w);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < 2 * h; y++) for (let xx = 0; xx < 2 * w; xx++) data[(p * 2 * h + y) * 2 * w + xx] = at(x.data, (p * h + (y >> 1)) * w + (xx >> 1));
  return { data, shape: [n, c, 2 * h, 2 * w] };
}

/** Largest violation of |a − b| ≤ tol·(1 + |b|), as the ratio |a − b| / (tol·(1 + |b|)); ≤ 1 passes. */
export function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = at(expected, i);
    const r = Math.abs(at(actual, i) - e) / (tol * (1 + Math.abs(e)));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}
