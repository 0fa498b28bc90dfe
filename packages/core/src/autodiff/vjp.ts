/**
 * Vector-Jacobian products of the {@link Ops} primitives, written against `Ops` itself: given the cotangent `g`
 * of a primitive's output, each rule returns the cotangents of its inputs as new `Ops` calls. Run on the ONNX
 * engine's ops they emit the backward graph; run on tfjs they execute eagerly. A layer's gradient is therefore
 * again an engine-neutral definition (docs/engines.md, "Training on onnxruntime").
 *
 * Conventions: `x`, `a`, `b` are the primitive's inputs and `y` its output, each with its static shape; a rule
 * returns one entry per input, `null` where no gradient flows (integer inputs, piecewise-constant ops). Rules of ops
 * with several differentiable inputs take `need` (which inputs depend on a parameter) and build only those
 * cotangents: a constant operand's gradient (a mask, the input image of a first convolution) is never computed.
 */
import { ShapeError } from '../errors.js';
import { at, dims2, lastDim } from '../invariants.js';
import type { Conv2dOptions, Ops } from '../ops.js';
import { reducedShape } from './shapeInference.js';

/** A value handle together with its static shape (what a VJP rule needs to know about an operand). */
export interface Shaped<T> {
  /** The engine's handle. */
  readonly value: T;
  /** Static shape. */
  readonly shape: readonly number[];
}

/**
 * Sums a cotangent of shape `gShape` down to `target` (the shape of an operand that was broadcast): leading
 * axes and axes where the operand had size 1 are summed, then the result is reshaped to `target`.
 */
export function unbroadcast<T>(ops: Ops<T>, g: T, gShape: readonly number[], target: readonly number[]): T {
  const lead = gShape.length - target.length;
  const axes: number[] = [];
  gShape.forEach((d, i) => {
    // Axis i of g is axis i − lead of the operand (lead ≥ 0: broadcasting only prepends axes).
    if (i < lead || (at(target, i - lead, 'operand axis') === 1 && d !== 1)) axes.push(i);
  });
  if (axes.length === 0 && lead === 0) return g;
  const summed = axes.length ? ops.sum(g, axes, true) : g;
  return ops.reshape(summed, target);
}

/** Broadcast a reduced cotangent (shape `reducedShape(x, axes, keepDims)`) back over the reduced axes of `x`. */
function expandReduced<T>(ops: Ops<T>, g: T, x: readonly number[], axes: readonly number[]): T {
  const kept = ops.reshape(g, reducedShape(x, axes, true));
  return ops.broadcastTo(kept, x);
}

function zeros<T>(ops: Ops<T>, shape: readonly number[]): T {
  return ops.broadcastTo(ops.scalar(0), shape);
}

/** Which inputs need a cotangent (all by default). */
export type Needs = readonly boolean[];
const ALL: Needs = [true, true, true];

/** The VJP rules, one per differentiable primitive (see the module comment for conventions). */
export const vjp = {
  add<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, need: Needs = ALL): [T | null, T | null] {
    return [need[0] ? unbroadcast(ops, g, y.shape, a.shape) : null, need[1] ? unbroadcast(ops, g, y.shape, b.shape) : null];
  },
  sub<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, need: Needs = ALL): [T | null, T | null] {
    return [need[0] ? unbroadcast(ops, g, y.shape, a.shape) : null, need[1] ? unbroadcast(ops, ops.neg(g), y.shape, b.shape) : null];
  },
  mul<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, need: Needs = ALL): [T | null, T | null] {
    return [need[0] ? unbroadcast(ops, ops.mul(g, b.value), y.shape, a.shape) : null, need[1] ? unbroadcast(ops, ops.mul(g, a.value), y.shape, b.shape) : null];
  },
  /** d(a/b) = g/b, −g·(a/b)/b. */
  div<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, need: Needs = ALL): [T | null, T | null] {
    const ga = ops.div(g, b.value);
    return [need[0] ? unbroadcast(ops, ga, y.shape, a.shape) : null, need[1] ? unbroadcast(ops, ops.neg(ops.mul(ga, y.value)), y.shape, b.shape) : null];
  },
  /** max(a, b): the gradient goes to a where a > b, else to b. */
  maximum<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, need: Needs = ALL): [T | null, T | null] {
    const ga = ops.mul(g, ops.step(ops.sub(a.value, b.value)));
    return [need[0] ? unbroadcast(ops, ga, y.shape, a.shape) : null, need[1] ? unbroadcast(ops, ops.sub(g, ga), y.shape, b.shape) : null];
  },
  neg<T>(ops: Ops<T>, g: T): [T] {
    return [ops.neg(g)];
  },
  exp<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    return [ops.mul(g, y.value)];
  },
  log<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.div(g, x.value)];
  },
  /** d√x = g / (2√x). */
  sqrt<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    return [ops.div(ops.mul(g, ops.scalar(0.5)), y.value)];
  },
  /** d x^(−½) = −½ x^(−3/2) = −½ y³. */
  rsqrt<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    return [ops.mul(ops.mul(g, ops.scalar(-0.5)), ops.mul(y.value, ops.square(y.value)))];
  },
  square<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.mul(g, ops.mul(x.value, ops.scalar(2)))];
  },
  /** dσ = σ(1 − σ). */
  sigmoid<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    return [ops.mul(g, ops.mul(y.value, ops.sub(ops.scalar(1), y.value)))];
  },
  /** d(x·σ(x)) = σ(x)·(1 + x·(1 − σ(x))). */
  silu<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    const s = ops.sigmoid(x.value);
    return [ops.mul(g, ops.mul(s, ops.add(ops.scalar(1), ops.mul(x.value, ops.sub(ops.scalar(1), s)))))];
  },
  /** d tanh = 1 − tanh². */
  tanh<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    return [ops.mul(g, ops.sub(ops.scalar(1), ops.square(y.value)))];
  },
  /** d relu = [x > 0] (0 at 0, as PyTorch). */
  relu<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.mul(g, ops.step(x.value))];
  },
  /** d|x| = sign(x) = [x > 0] − [x < 0]. */
  abs<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.mul(g, ops.sub(ops.step(x.value), ops.step(ops.neg(x.value))))];
  },
  sin<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.mul(g, ops.cos(x.value))];
  },
  cos<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.neg(ops.mul(g, ops.sin(x.value)))];
  },
  broadcastTo<T>(ops: Ops<T>, g: T, x: Shaped<T>, y: Shaped<T>): [T] {
    return [unbroadcast(ops, g, y.shape, x.shape)];
  },
  /** Every reduced element receives g / count. */
  mean<T>(ops: Ops<T>, g: T, x: Shaped<T>, axes: readonly number[]): [T] {
    const count = axes.reduce((n, a) => n * at(x.shape, a, 'reduced axis'), 1);
    return [ops.mul(expandReduced(ops, g, x.shape, axes), ops.scalar(1 / count))];
  },
  sum<T>(ops: Ops<T>, g: T, x: Shaped<T>, axes: readonly number[]): [T] {
    return [expandReduced(ops, g, x.shape, axes)];
  },
  reshape<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    return [ops.reshape(g, x.shape)];
  },
  /** The inverse permutation. */
  transpose<T>(ops: Ops<T>, g: T, perm: readonly number[]): [T] {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [ops.transpose(g, inverse)];
  },
  /** Each input receives its slice of g. */
  concat<T>(ops: Ops<T>, g: T, xs: readonly Shaped<T>[], axis: number, need: Needs = ALL): (T | null)[] {
    let start = 0;
    return xs.map((x, i) => {
      const len = at(x.shape, axis, 'concat axis');
      const part = (need[i] ?? true) ? ops.slice(g, axis, start, start + len) : null;
      start += len;
      return part;
    });
  },
  /** g placed back into a zero tensor of the input's shape. */
  slice<T>(ops: Ops<T>, g: T, x: Shaped<T>, axis: number, start: number, end: number): [T] {
    const dim = at(x.shape, axis, 'slice axis');
    const parts: T[] = [];
    const withAxis = (n: number): number[] => x.shape.map((d, i) => (i === axis ? n : d));
    if (start > 0) parts.push(zeros(ops, withAxis(start)));
    parts.push(g);
    if (end < dim) parts.push(zeros(ops, withAxis(dim - end)));
    return [parts.length === 1 ? g : ops.concat(parts, axis)];
  },
  /**
   * C = A′B′ with A′ = tA ? Aᵀ : A (likewise B′): dA′ = G·B′ᵀ and dB′ = A′ᵀ·G, transposed back where the operand
   * was, and summed over broadcast batch axes. A linear layer (batched A, 2-D B) folds the batch into rows, so its
   * weight gradient is one 2-D product instead of a batch of products summed afterwards.
   */
  matMul<T>(ops: Ops<T>, g: T, a: Shaped<T>, b: Shaped<T>, y: Shaped<T>, tA: boolean, tB: boolean, need: Needs = ALL): [T | null, T | null] {
    const batch = y.shape.slice(0, -2);
    let gradA: T | null = null;
    if (need[0]) {
      const da = tA ? ops.matMul(b.value, g, tB, true) : ops.matMul(g, b.value, false, !tB);
      gradA = unbroadcast(ops, da, [...batch, ...a.shape.slice(-2)], a.shape);
    }
    let gradB: T | null = null;
    if (!need[1]) gradB = null;
    else if (b.shape.length === 2 && a.shape.length > 2 && !tA) {
      const k = lastDim(a.shape, 'matMul operand a');
      const n = lastDim(y.shape, 'matMul output');
      const a2 = ops.reshape(a.value, [-1, k]);
      const g2 = ops.reshape(g, [-1, n]);
      gradB = tB ? ops.matMul(g2, a2, true, false) : ops.matMul(a2, g2, true, false);
    } else {
      const db = tB ? ops.matMul(g, a.value, true, tA) : ops.matMul(a.value, g, !tA, false);
      gradB = unbroadcast(ops, db, [...batch, ...b.shape.slice(-2)], b.shape);
    }
    return [gradA, gradB];
  },
  /** d softmax: y ⊙ (g − Σ g⊙y) over the last axis. */
  softmax<T>(ops: Ops<T>, g: T, _x: Shaped<T>, y: Shaped<T>): [T] {
    const dot = ops.sum(ops.mul(g, y.value), [-1], true);
    return [ops.mul(y.value, ops.sub(g, dot))];
  },
  /** The table receives g's rows added at the gathered indices; indices get none. */
  gather<T>(ops: Ops<T>, g: T, table: Shaped<T>, indices: Shaped<T>): [T, null] {
    const [rows] = dims2(table.shape, 'gather table');
    return [ops.scatterAddRows(g, indices.value, rows), null];
  },
  /** The adjoint of a scatter-add is a gather. */
  scatterAddRows<T>(ops: Ops<T>, g: T, indices: Shaped<T>): [T, null] {
    return [ops.gather(g, indices.value), null];
  },
  /** Input: a transposed convolution; weight: correlation of input and g; bias: g summed over N, H, W. */
  conv2d<T>(ops: Ops<T>, g: T, x: Shaped<T>, w: Shaped<T>, hasBias: boolean, options: Conv2dOptions, need: Needs = ALL): [T | null, T | null, T | null] {
    const shapes = { input: x.shape, weight: w.shape };
    return [
      need[0] ? ops.conv2dInputGrad(g, w.value, shapes, options) : null,
      need[1] ? ops.conv2dWeightGrad(x.value, g, shapes, options) : null,
      hasBias && need[2] ? ops.sum(g, [0, 2, 3], false) : null,
    ];
  },
  /** Each input pixel received four output pixels: sum them. */
  upsampleNearest2x<T>(ops: Ops<T>, g: T, x: Shaped<T>): [T] {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    return [ops.sum(ops.reshape(g, [n, c, h, 2, w, 2]), [3, 5], false)];
  },
} as const;

/** Error for primitives whose gradient is not defined here (second derivatives of convolution gradients). */
export function noVjp(op: string): never {
  throw new ShapeError(
    `${op} has no vector-Jacobian product (it is itself a gradient; second derivatives of convolutions are not supported). ` +
      'Wrap the value in ops.stopGradient if no gradient should flow through it.',
  );
}
