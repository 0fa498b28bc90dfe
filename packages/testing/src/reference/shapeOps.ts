/** Float64 reference shape ops: reshape, transpose, concat, slice (NumPy semantics). */
import { ShapeError, at } from '@bigr/core';
import { normAxis, sizeOf, stridesOf, unravel, type F64Array } from './ndarray.js';

/** Reshape; at most one −1 is inferred. */
export function reshape(x: F64Array, shape: readonly number[]): F64Array {
  const n = x.data.length;
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new ShapeError(`reference reshape: [${shape.join(', ')}] has more than one -1.`);
  const out = shape.map((d) => (d === -1 ? n / known : d));
  if (sizeOf(out) !== n || out.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reference reshape: cannot view [${x.shape.join(', ')}] (${n} elements) as [${shape.join(', ')}].`);
  }
  return { data: x.data.slice(), shape: out };
}

/** Permutes axes: output axis i is input axis perm[i] (negative entries count from the end). */
export function transpose(x: F64Array, perm: readonly number[]): F64Array {
  const rank = x.shape.length;
  if (perm.length !== rank) throw new ShapeError(`reference transpose: perm [${perm.join(', ')}] does not match rank ${rank}.`);
  const p = perm.map((a) => normAxis(a, rank, 'transpose'));
  const outShape = p.map((a) => at(x.shape, a));
  const inStrides = stridesOf(x.shape);
  const data = new Float64Array(x.data.length);
  for (let o = 0; o < data.length; o++) {
    const idx = unravel(o, outShape);
    const src = p.reduce((acc, axisIn, i) => acc + at(idx, i) * at(inStrides, axisIn), 0);
    data[o] = at(x.data, src);
  }
  return { data, shape: outShape };
}

/** Concatenates along `axis`; all other dimensions must agree. */
export function concat(xs: readonly F64Array[], axis: number): F64Array {
  const first = xs[0];
  if (!first) throw new ShapeError('reference concat: no inputs.');
  const rank = first.shape.length;
  const a = normAxis(axis, rank, 'concat');
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`reference concat: [${x.shape.join(', ')}] does not match [${first.shape.join(', ')}] off axis ${a}.`);
    }
  }
  const outShape = [...first.shape];
  outShape[a] = xs.reduce((s, x) => s + at(x.shape, a), 0);
  const data = new Float64Array(sizeOf(outShape));
  for (let o = 0; o < data.length; o++) {
    const idx = unravel(o, outShape);
    // Walk along the inputs until position k of the concat axis falls inside one.
    let k = at(idx, a);
    let part = 0;
    let src = first;
    while (k >= at(src.shape, a)) {
      k -= at(src.shape, a);
      src = at(xs, ++part);
    }
    const s = stridesOf(src.shape);
    const off = idx.reduce((acc, v, i) => acc + (i === a ? k : v) * at(s, i), 0);
    data[o] = at(src.data, off);
  }
  return { data, shape: outShape };
}

/** Elements [start, end) along `axis`, with NumPy semantics: negative bounds count from the end, bounds clamp. */
export function slice(x: F64Array, axis: number, start: number, end: number): F64Array {
  const a = normAxis(axis, x.shape.length, 'slice');
  const dim = at(x.shape, a);
  const clamp = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
  const s = clamp(start);
  const e = Math.max(s, clamp(end));
  const outShape = [...x.shape];
  outShape[a] = e - s;
  const inStrides = stridesOf(x.shape);
  const data = new Float64Array(sizeOf(outShape));
  for (let o = 0; o < data.length; o++) {
    const idx = unravel(o, outShape);
    const off = idx.reduce((acc, v, i) => acc + (i === a ? v + s : v) * at(inStrides, i), 0);
    data[o] = at(x.data, off);
  }
  return { data, shape: outShape };
}
