/**
 * Static shape rules of the {@link Ops} primitives, with NumPy semantics. The tape needs every value's shape to
 * write the vector-Jacobian products (a broadcast operand's gradient is summed back to its own shape), to draw
 * dropout masks on the CPU and to reject bad graphs before an engine sees them. See docs/engines.md.
 */
import { ShapeError } from '../errors.js';
import { dims2, dims4 } from '../invariants.js';
import type { Conv2dOptions } from '../ops.js';

/** `[a, b, c]` for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Normalises a possibly negative axis against `rank`. */
export function normaliseAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a rank-${rank} value; use an integer in [${-rank}, ${rank - 1}].`);
  }
  return a;
}

/** The NumPy broadcast of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (axis ${i - rank}: ${da} vs ${db}).`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Distinct normalised axes of a reduction. */
export function reductionAxes(shape: readonly number[], axes: readonly number[], op: string): number[] {
  const out = axes.map((a) => normaliseAxis(a, shape.length, op));
  if (new Set(out).size !== out.length) throw new ShapeError(`${op}: axes [${axes.join(', ')}] repeat an axis of a rank-${shape.length} value.`);
  return out;
}

/** Shape after reducing `axes` (normalised), with or without kept unit axes. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const set = new Set(axes);
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** Resolves a reshape target (one -1 inferred) against the element count of `shape`. */
export function reshapeTarget(shape: readonly number[], target: readonly number[]): number[] {
  const size = shape.reduce((a, b) => a * b, 1);
  let known = 1;
  let inferred = -1;
  target.forEach((d, i) => {
    if (d === -1) {
      if (inferred >= 0) throw new ShapeError(`reshape: target ${fmtShape(target)} has more than one -1.`);
      inferred = i;
    } else if (!Number.isInteger(d) || d < 0) throw new ShapeError(`reshape: target ${fmtShape(target)} has invalid dimension ${d}.`);
    else known *= d;
  });
  const out = [...target];
  if (inferred >= 0) {
    if (known === 0 || size % known !== 0)
      throw new ShapeError(`reshape: cannot infer the -1 of ${fmtShape(target)} for ${size} elements (shape ${fmtShape(shape)}).`);
    out[inferred] = size / known;
  } else if (known !== size) {
    throw new ShapeError(`reshape: ${fmtShape(shape)} has ${size} elements but target ${fmtShape(target)} has ${known}.`);
  }
  return out;
}

/** Clamped [start, end) of a slice along an axis of length `dim` (negative bounds count from the end). */
export function sliceBounds(dim: number, start: number, end: number): [number, number] {
  if (!Number.isInteger(start) || !Number.isInteger(end)) throw new ShapeError(`slice: bounds [${start}, ${end}) must be integers.`);
  const clamp = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
  const s = clamp(start);
  return [s, Math.max(s, clamp(end))];
}

/** Output shape of `matMul(a, b, transposeA, transposeB)`: batch axes broadcast, then [M, N]. */
export function matMulShape(a: readonly number[], b: readonly number[], transposeA: boolean, transposeB: boolean): number[] {
  if (a.length < 2 || b.length < 2) throw new ShapeError(`matMul needs operands of rank >= 2, got ${fmtShape(a)} and ${fmtShape(b)}.`);
  const [aRows, aCols] = dims2(a.slice(-2), 'matMul operand a (last two axes)');
  const [bRows, bCols] = dims2(b.slice(-2), 'matMul operand b (last two axes)');
  const [m, ka] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kb, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (ka !== kb) {
    throw new ShapeError(
      `matMul: inner dimensions differ (${ka} vs ${kb}) for ${fmtShape(a)}${transposeA ? 'ᵀ' : ''} · ${fmtShape(b)}${transposeB ? 'ᵀ' : ''}.`,
    );
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), 'matMul batch axes');
  return [...batch, m, n];
}

/** Output shape of {@link Ops.conv2d}. */
export function conv2dShape(x: readonly number[], w: readonly number[], options: Conv2dOptions): number[] {
  if (x.length !== 4 || w.length !== 4) throw new ShapeError(`conv2d: input must be NCHW and weight OIHW (rank 4), got ${fmtShape(x)} and ${fmtShape(w)}.`);
  if (x[1] !== w[1]) throw new ShapeError(`conv2d: input ${fmtShape(x)} has ${x[1]} channels but the weight ${fmtShape(w)} expects ${w[1]}.`);
  const { strides: s, pads } = options;
  if (!Number.isInteger(s) || s < 1) throw new ShapeError(`conv2d: strides ${s} must be a positive integer.`);
  if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new ShapeError(`conv2d: pads [${pads.join(', ')}] must be four non-negative integers [top, left, bottom, right].`);
  }
  const [top, left, bottom, right] = pads;
  const [batch, , inH, inW] = dims4(x, 'conv2d input');
  const [outChannels, , kH, kW] = dims4(w, 'conv2d weight');
  const h = Math.floor((inH + top + bottom - kH) / s) + 1;
  const wd = Math.floor((inW + left + right - kW) / s) + 1;
  if (h < 1 || wd < 1) throw new ShapeError(`conv2d: kernel ${fmtShape(w)} does not fit input ${fmtShape(x)} with pads [${pads.join(', ')}].`);
  return [batch, outChannels, h, wd];
}

/** Whether `from` broadcasts to `to` (NumPy rules). */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[off + i]);
}
