import * as tf from '@tensorflow/tfjs';
import {
  BigrError,
  ConfigError,
  NotFoundError,
  ShapeError,
  at,
  closeNames,
  dims2,
  lastDim,
  required,
  shapeSize,
  type Conv2dOptions,
  type Conv2dShapes,
  type Ops,
  type Rng,
} from '@bigr/core';
import { im2colConv2d } from './im2colConv.js';

/** Options for {@link TfjsOps}. */
export interface TfjsOpsOptions {
  /** Engine identifier reported by {@link TfjsOps.engine}, e.g. 'tfjs-wasm'. */
  readonly engine: string;
  /** Parameters by official state-dict name (constants or tf.Variables). */
  readonly params: ReadonlyMap<string, tf.Tensor>;
  /** Training mode (dropout active). Default false. */
  readonly training?: boolean;
  /** Random stream for dropout masks; required when training with a dropout rate > 0. */
  readonly rng?: Rng;
  /** Emit transposes as separate ops instead of matMul flags (faster on wasm). Default true. */
  readonly explicitTranspose?: boolean;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Normalises a possibly negative axis against `rank`; throws ShapeError when out of range. */
function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a rank-${rank} tensor; use an integer in [${-rank}, ${rank - 1}].`);
  }
  return a;
}

/**
 * Eager, differentiable implementation of the core {@link Ops} interface on TensorFlow.js. Every op runs
 * immediately on tfjs' current global backend; inside `tf.variableGrads`/`tf.engine().gradients` the ops are
 * recorded on the tape, so layers written against {@link Ops} train unchanged.
 *
 * Semantics beyond the interface docs:
 * - `slice` accepts negative `start`/`end` (counted from the end) and clamps them to the axis, like NumPy.
 * - `matMul` with a rank ≥ 3 `a` and a rank-2 `b` folds the batch axes of `a` into rows (one 2-D product);
 *   otherwise the lower-rank operand gets leading unit axes and batch axes broadcast.
 * - `dropout` draws `x.size` uniforms u from the constructor's {@link Rng} (`uniformsF32`, row-major) and keeps
 *   an element when `u >= rate`, scaling kept elements by 1/(1 − rate) (inverted dropout); the same seed gives
 *   the same mask on every backend.
 * - tfjs errors (bad shapes, dtypes) are rethrown as core `ShapeError`s naming the op and operand shapes.
 */
export class TfjsOps implements Ops<tf.Tensor> {
  /** Engine identifier, e.g. 'tfjs-wasm'. */
  readonly engine: string;
  /** True while training (dropout active). */
  readonly training: boolean;
  readonly #params: ReadonlyMap<string, tf.Tensor>;
  readonly #rng: Rng | undefined;
  readonly #explicitTranspose: boolean;

  /** Creates ops over the given parameters; see {@link TfjsOpsOptions}. */
  constructor(options: TfjsOpsOptions) {
    this.engine = options.engine;
    this.training = options.training ?? false;
    this.#params = options.params;
    this.#rng = options.rng;
    this.#explicitTranspose = options.explicitTranspose ?? true;
  }

  /** Runs `fn`, turning tfjs' plain Errors into ShapeErrors that name the op and its operand shapes. */
  #run<R>(op: string, operands: readonly tf.Tensor[], fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      if (err instanceof BigrError) throw err;
      const shapes = operands.map((t) => `${fmt(t.shape)} ${t.dtype}`).join(', ');
      throw new ShapeError(`${op} failed on operands ${shapes}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** A named parameter; throws NotFoundError listing similar names if absent. */
  param(name: string): tf.Tensor {
    const p = this.#params.get(name);
    if (p === undefined) {
      const near = closeNames(name, this.#params.keys());
      throw new NotFoundError(
        `Parameter "${name}" does not exist (${this.#params.size} parameters loaded).` +
          (near.length ? ` Similar names: ${near.map((n) => `"${n}"`).join(', ')}.` : '') +
          ' Check the checkpoint matches the model config.',
      );
    }
    return p;
  }

  /** Whether a parameter with this name exists. */
  hasParam(name: string): boolean {
    return this.#params.has(name);
  }

  /** A constant float32 tensor. */
  constant(data: Float32Array, shape: readonly number[]): tf.Tensor {
    const n = shapeSize(shape);
    if (data.length !== n) throw new ShapeError(`constant: data has ${data.length} elements but shape ${fmt(shape)} needs ${n}.`);
    return tf.tensor(data, [...shape], 'float32');
  }

  /** A constant int32 tensor. */
  constantInt(data: Int32Array, shape: readonly number[]): tf.Tensor {
    const n = shapeSize(shape);
    if (data.length !== n) throw new ShapeError(`constantInt: data has ${data.length} elements but shape ${fmt(shape)} needs ${n}.`);
    return tf.tensor(data, [...shape], 'int32');
  }

  /** A float32 scalar. */
  scalar(value: number): tf.Tensor {
    return tf.scalar(value, 'float32');
  }

  /** a + b. */
  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.#run('add', [a, b], () => tf.add(a, b));
  }

  /** a − b. */
  sub(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.#run('sub', [a, b], () => tf.sub(a, b));
  }

  /** a · b. */
  mul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.#run('mul', [a, b], () => tf.mul(a, b));
  }

  /** a / b. */
  div(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.#run('div', [a, b], () => tf.div(a, b));
  }

  /** −x. */
  neg(x: tf.Tensor): tf.Tensor {
    return tf.neg(x);
  }

  /** eˣ. */
  exp(x: tf.Tensor): tf.Tensor {
    return tf.exp(x);
  }

  /** ln x. */
  log(x: tf.Tensor): tf.Tensor {
    return tf.log(x);
  }

  /** √x. */
  sqrt(x: tf.Tensor): tf.Tensor {
    return tf.sqrt(x);
  }

  /** 1/√x. */
  rsqrt(x: tf.Tensor): tf.Tensor {
    return tf.rsqrt(x);
  }

  /** x². */
  square(x: tf.Tensor): tf.Tensor {
    return tf.square(x);
  }

  /** σ(x). */
  sigmoid(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }

  /** x·σ(x). */
  silu(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, tf.sigmoid(x));
  }

  /** tanh x. */
  tanh(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }

  /** max(x, 0). */
  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  /** sin x. */
  sin(x: tf.Tensor): tf.Tensor {
    return tf.sin(x);
  }

  /** cos x. */
  cos(x: tf.Tensor): tf.Tensor {
    return tf.cos(x);
  }

  /** |x|. */
  abs(x: tf.Tensor): tf.Tensor {
    return tf.abs(x);
  }

  /** max(a, b) with broadcasting. */
  maximum(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return this.#run('maximum', [a, b], () => {
      // tfjs 4.22's Maximum gradient does not sum over broadcast axes (it returns the output's shape for a [3, 1]
      // operand), so broadcast explicitly: BroadcastTo's gradient does the summing.
      if (a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) return tf.maximum(a, b);
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      return tf.maximum(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
    });
  }

  /** 1 where x > 0, else 0 (tfjs gives it a zero gradient). */
  step(x: tf.Tensor): tf.Tensor {
    return tf.step(x, 0);
  }

  /** x with a zero gradient. */
  stopGradient(x: tf.Tensor): tf.Tensor {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
    }));
    return f(x);
  }

  /** Broadcast to `shape`. */
  broadcastTo(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
    return this.#run(`broadcastTo ${fmt(shape)}`, [x], () =>
      x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : tf.broadcastTo(x, [...shape]),
    );
  }

  #axes(x: tf.Tensor, axes: readonly number[], op: string): number[] {
    const out = axes.map((a) => normAxis(a, x.rank, op));
    if (new Set(out).size !== out.length) throw new ShapeError(`${op}: axes [${axes.join(', ')}] repeat an axis of a rank-${x.rank} tensor.`);
    return out;
  }

  /** Mean over `axes`. */
  mean(x: tf.Tensor, axes: readonly number[], keepDims: boolean): tf.Tensor {
    const ax = this.#axes(x, axes, 'mean');
    if (ax.length === 0) return x;
    return this.#run('mean', [x], () => tf.mean(x, ax, keepDims));
  }

  /** Sum over `axes`. */
  sum(x: tf.Tensor, axes: readonly number[], keepDims: boolean): tf.Tensor {
    const ax = this.#axes(x, axes, 'sum');
    if (ax.length === 0) return x;
    return this.#run('sum', [x], () => tf.sum(x, ax, keepDims));
  }

  /** Reshape (one −1 allowed). */
  reshape(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
    return this.#run(`reshape to ${fmt(shape)}`, [x], () => tf.reshape(x, [...shape]));
  }

  /** Permute dimensions (negative entries allowed). */
  transpose(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
    if (perm.length !== x.rank) {
      throw new ShapeError(`transpose: perm [${perm.join(', ')}] has ${perm.length} entries but the input ${fmt(x.shape)} has rank ${x.rank}.`);
    }
    const p = perm.map((a) => normAxis(a, x.rank, 'transpose'));
    return this.#run(`transpose by [${perm.join(', ')}]`, [x], () => tf.transpose(x, p));
  }

  /** Concatenate along `axis`. */
  concat(xs: readonly tf.Tensor[], axis: number): tf.Tensor {
    const first = xs[0];
    if (first === undefined) throw new ShapeError('concat: received no tensors; pass at least one.');
    const a = normAxis(axis, first.rank, 'concat');
    if (xs.length === 1) return first;
    return this.#run(`concat on axis ${axis}`, xs, () => tf.concat([...xs], a));
  }

  /** Elements [start, end) along `axis`; negative bounds count from the end; bounds are clamped. */
  slice(x: tf.Tensor, axis: number, start: number, end: number): tf.Tensor {
    const a = normAxis(axis, x.rank, 'slice');
    const dim = at(x.shape, a, 'slice axis');
    const clamp = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    const s = clamp(start);
    const e = Math.max(s, clamp(end));
    const begin = x.shape.map((_, i) => (i === a ? s : 0));
    const size = x.shape.map((d, i) => (i === a ? e - s : d));
    return this.#run(`slice [${start}, ${end}) on axis ${axis}`, [x], () => tf.slice(x, begin, size));
  }

  /** Matrix product over the last two axes, with batch broadcasting. */
  matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
    return this.#run(`matMul(transposeA=${transposeA}, transposeB=${transposeB})`, [a, b], () => {
      if (a.rank < 2 || b.rank < 2) throw new ShapeError(`matMul needs operands of rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}.`);
      // tfjs-wasm's transposed BatchMatMul is ~10× slower than the plain one (1.6 vs 20 GFLOP/s measured), so
      // transpose explicitly: the extra Transpose is cheap and differentiable.
      if (this.#explicitTranspose && (transposeA || transposeB)) {
        const t = (x: tf.Tensor): tf.Tensor =>
          tf.transpose(
            x,
            [...x.shape.keys()].map((i) => (i < x.rank - 2 ? i : i === x.rank - 2 ? x.rank - 1 : x.rank - 2)),
          );
        return this.matMul(transposeA ? t(a) : a, transposeB ? t(b) : b, false, false);
      }
      if (a.rank === 2 && b.rank === 2) return tf.matMul(a, b, transposeA, transposeB);
      if (b.rank === 2 && !transposeA) {
        const lead = a.shape.slice(0, -2);
        const [m, k] = dims2(a.shape.slice(-2), 'matMul a (last two axes)');
        const y = tf.matMul(tf.reshape(a, [-1, k]), b, false, transposeB);
        const [, n] = dims2(y.shape, 'matMul product');
        return tf.reshape(y, [...lead, m, n]);
      }
      const rank = Math.max(a.rank, b.rank);
      const lift = (t: tf.Tensor): tf.Tensor => (t.rank === rank ? t : tf.reshape(t, [...new Array<number>(rank - t.rank).fill(1), ...t.shape]));
      const la = lift(a);
      const lb = lift(b);
      // tfjs 4.22 mis-sizes the result when both operands broadcast ([B,1,M,K]·[4,K,N]); broadcast the batch
      // axes explicitly so tf.matMul always sees equal batch shapes.
      const batch = la.shape.slice(0, -2).map((d, i) => Math.max(d, at(lb.shape, i, 'batch axis of b')));
      const expand = (t: tf.Tensor): tf.Tensor =>
        t.shape.slice(0, -2).every((d, i) => d === batch[i]) ? t : tf.broadcastTo(t, [...batch, ...t.shape.slice(-2)]);
      return tf.matMul(expand(la), expand(lb), transposeA, transposeB);
    });
  }

  /** Softmax over the last axis. */
  softmax(x: tf.Tensor): tf.Tensor {
    return this.#run('softmax', [x], () => tf.softmax(x, -1));
  }

  /** Rows of `table` [V, D] at int32 `indices` (any shape) → indices.shape + [D]. */
  gather(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
    if (indices.dtype !== 'int32') {
      throw new ShapeError(`gather: indices must be int32 but are ${indices.dtype} (shape ${fmt(indices.shape)}); create them with constantInt.`);
    }
    if (table.rank !== 2) throw new ShapeError(`gather: table must be rank 2 [V, D] but has shape ${fmt(table.shape)}.`);
    return this.#run('gather', [table, indices], () => tf.gather(table, indices, 0));
  }

  /** Adjoint of {@link gather}: rows of `updates` summed into a zero [rows, D] table at `indices`. */
  scatterAddRows(updates: tf.Tensor, indices: tf.Tensor, rows: number): tf.Tensor {
    // As one-hot(indices)ᵀ · updates: tfjs has no gradient for ScatterNd, and a product is differentiable everywhere.
    return this.#run('scatterAddRows', [updates, indices], () => {
      const d = lastDim(updates.shape, 'scatterAddRows updates');
      const oneHot = tf.oneHot(tf.reshape(indices, [-1]), rows).toFloat();
      return tf.matMul(oneHot, tf.reshape(updates, [-1, d]), true, false);
    });
  }

  /** dx of conv2d: tfjs' own vector-Jacobian product of the (linear) patch convolution. */
  conv2dInputGrad(dy: tf.Tensor, weight: tf.Tensor, shapes: Conv2dShapes, options: Conv2dOptions): tf.Tensor {
    return this.#run('conv2dInputGrad', [dy, weight], () => tf.grad((x: tf.Tensor) => this.#patchConv(x, weight, options))(tf.zeros([...shapes.input]), dy));
  }

  /** dW of conv2d: tfjs' own vector-Jacobian product of the (linear) patch convolution. */
  conv2dWeightGrad(x: tf.Tensor, dy: tf.Tensor, shapes: Conv2dShapes, options: Conv2dOptions): tf.Tensor {
    return this.#run('conv2dWeightGrad', [x, dy], () => tf.grad((w: tf.Tensor) => this.#patchConv(x, w, options))(tf.zeros([...shapes.weight]), dy));
  }

  /** NCHW/OIHW convolution as patches·matMul (differentiable on every backend, see `im2colConv`). */
  #patchConv(x: tf.Tensor, weight: tf.Tensor, options: Conv2dOptions): tf.Tensor {
    const xh = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
    const wh = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
    const [top, left, bottom, right] = options.pads;
    return tf.transpose(im2colConv2d(xh, wh, options.strides, [top, left, bottom, right]), [0, 3, 1, 2]);
  }

  /** 2-D convolution, NCHW input, OIHW weight, zero `pads` = [top, left, bottom, right]. */
  conv2d(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, options: Conv2dOptions): tf.Tensor {
    if (x.rank !== 4 || weight.rank !== 4) {
      throw new ShapeError(`conv2d: input must be NCHW and weight OIHW (rank 4), got ${fmt(x.shape)} and ${fmt(weight.shape)}.`);
    }
    if (x.shape[1] !== weight.shape[1]) {
      throw new ShapeError(
        `conv2d: input has ${x.shape[1]} channels but the weight ${fmt(weight.shape)} expects ${weight.shape[1]} (groups are not supported).`,
      );
    }
    const [top, left, bottom, right] = options.pads;
    const operands = bias ? [x, weight, bias] : [x, weight];
    return this.#run(`conv2d(strides=${options.strides}, pads=[${options.pads.join(', ')}])`, operands, () => {
      const xh = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      const wh = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
      // Training needs the filter gradient, which tfjs-wasm lacks (its cpu fallback is ~170× slower than
      // expressing the convolution as patches·matMul); inference keeps the native kernel.
      let y: tf.Tensor = this.training
        ? im2colConv2d(xh, wh, options.strides, [top, left, bottom, right])
        : tf.conv2d(xh, wh, options.strides, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ]);
      if (bias) y = tf.add(y, bias);
      return tf.transpose(y, [0, 3, 1, 2]);
    });
  }

  /** Nearest-neighbour ×2 upsampling of NCHW input. */
  upsampleNearest2x(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4) throw new ShapeError(`upsampleNearest2x: input must be NCHW (rank 4), got ${fmt(x.shape)}.`);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const rows = n * c * h;
    const y = tf.broadcastTo(tf.reshape(x, [rows, 1, w, 1]), [rows, 2, w, 2]);
    return tf.reshape(y, [n, c, 2 * h, 2 * w]);
  }

  /** Inverted dropout (training only); the mask comes from the constructor's {@link Rng}. */
  dropout(x: tf.Tensor, rate: number): tf.Tensor {
    if (!(rate >= 0 && rate < 1)) throw new ConfigError(`dropout: rate ${rate} is invalid; use a probability in [0, 1).`);
    if (!this.training || rate === 0) return x;
    if (!this.#rng) {
      throw new ConfigError('dropout: training with dropout needs an Rng; pass `rng` to the TfjsOps constructor (TrainableParameters.gradients does).');
    }
    const u = this.#rng.uniformsF32(x.size);
    const scale = 1 / (1 - rate);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = required(u[i], 'dropout uniform') >= rate ? scale : 0;
    return this.#run('dropout', [x], () => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }
}
