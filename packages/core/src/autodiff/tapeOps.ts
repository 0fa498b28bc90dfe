/**
 * Reverse-mode automatic differentiation over {@link Ops}: `TapeOps` wraps any engine's ops, forwards every call
 * to them, tracks each value's static shape and records, for every op that depends on a parameter, how to map its
 * output cotangent to its inputs' cotangents (the rules in `vjp.ts`). {@link TapeOps.backward} then walks the tape
 * in reverse and calls those rules on the same inner ops, so the backward pass is built by the same engine as the
 * forward pass: on the ONNX engine both end up in one train-step graph. See docs/engines.md.
 */
import { ConfigError, NotFoundError, ShapeError } from '../errors.js';
import { at, dims2, dims4, lastDim, required } from '../invariants.js';
import type { Conv2dOptions, Conv2dShapes, Ops } from '../ops.js';
import type { Rng } from '../rng.js';
import {
  broadcastShapes,
  broadcastsTo,
  conv2dShape,
  fmtShape,
  matMulShape,
  normaliseAxis,
  reducedShape,
  reductionAxes,
  reshapeTarget,
  sliceBounds,
} from './shapeInference.js';
import { noVjp, vjp, type Shaped } from './vjp.js';

/** Element type of a traced value. */
export type TracedDType = 'float32' | 'int32';

/** A value seen by a loss function running on {@link TapeOps}: the inner engine's handle, its shape and dtype. */
export interface Traced<T> extends Shaped<T> {
  /** Sequence number (creation order). */
  readonly id: number;
  /** Element type. */
  readonly dtype: TracedDType;
  /** Whether the value depends on a trainable parameter (only such values are differentiated). */
  readonly requiresGrad: boolean;
}

/** Shape and dtype of a parameter. */
export interface ParameterSignature {
  /** Static shape. */
  readonly shape: readonly number[];
  /** Element type ('int32' parameters are constants for the gradient). */
  readonly dtype: TracedDType;
}

/** Options of {@link TapeOps}. */
export interface TapeOpsOptions {
  /** Shapes and dtypes of the parameters the inner ops can return from `param`. */
  readonly parameters: ReadonlyMap<string, ParameterSignature>;
  /** Training mode: dropout active (the inner ops are used in inference mode either way). Default true. */
  readonly training?: boolean;
  /**
   * Source of dropout masks. Dropout draws `size` uniforms u (`uniformsF32`, row-major) and keeps an element when
   * u ≥ rate, scaling it by 1/(1 − rate): the same stream and masks as the tfjs engine's own dropout.
   */
  readonly rng?: Rng;
  /** Parameters that receive no gradient (frozen); default none. */
  readonly frozen?: ReadonlySet<string>;
}

interface TapeEntry<T> {
  readonly inputs: readonly (Traced<T> | null)[];
  readonly output: Traced<T>;
  readonly backward: (g: T) => readonly (T | null)[];
}

/**
 * `Ops<Traced<T>>` over an inner `Ops<T>`; see the module comment. Parameters are read through the inner ops'
 * `param` (so on ONNX they can be graph inputs); `gradients` are returned as inner handles.
 */
export class TapeOps<T> implements Ops<Traced<T>> {
  /** The inner engine's identifier. */
  readonly engine: string;
  /** True while training (dropout active). */
  readonly training: boolean;
  /** The ops every forward and backward op is emitted on. */
  readonly inner: Ops<T>;
  readonly #parameters: ReadonlyMap<string, ParameterSignature>;
  readonly #frozen: ReadonlySet<string>;
  readonly #rng: Rng | undefined;
  readonly #tape: TapeEntry<T>[] = [];
  readonly #params = new Map<string, Traced<T>>();
  #nextId = 0;

  /** Wraps `inner`; see {@link TapeOpsOptions}. */
  constructor(inner: Ops<T>, options: TapeOpsOptions) {
    this.inner = inner;
    this.engine = inner.engine;
    this.training = options.training ?? true;
    this.#parameters = options.parameters;
    this.#frozen = options.frozen ?? new Set();
    this.#rng = options.rng;
  }

  /** Parameters read so far, by name. */
  get usedParameters(): ReadonlyMap<string, Traced<T>> {
    return this.#params;
  }

  /** Number of recorded (differentiable) ops. */
  get tapeLength(): number {
    return this.#tape.length;
  }

  #value(value: T, shape: readonly number[], dtype: TracedDType, requiresGrad: boolean): Traced<T> {
    return { value, shape: Object.freeze([...shape]), dtype, requiresGrad, id: this.#nextId++ };
  }

  /** Creates the output of an op; records it on the tape when an input needs a gradient. */
  #op(
    value: T,
    shape: readonly number[],
    dtype: TracedDType,
    inputs: readonly (Traced<T> | null)[],
    backward: ((g: T, y: Traced<T>, need: readonly boolean[]) => readonly (T | null)[]) | null,
  ): Traced<T> {
    const requiresGrad = backward !== null && dtype === 'float32' && inputs.some((x) => x?.requiresGrad === true);
    const out = this.#value(value, shape, dtype, requiresGrad);
    if (requiresGrad) {
      const need = inputs.map((x) => x?.requiresGrad === true);
      this.#tape.push({ inputs, output: out, backward: (g) => backward(g, out, need) });
    }
    return out;
  }

  #float(x: Traced<T>, op: string): void {
    if (x.dtype !== 'float32') throw new ShapeError(`${op} needs a float32 value but got ${x.dtype} ${fmtShape(x.shape)}.`);
  }

  // ---- values -------------------------------------------------------------------------------------------

  /** A parameter (differentiable unless int32 or frozen). */
  param(name: string): Traced<T> {
    const known = this.#params.get(name);
    if (known) return known;
    const sig = this.#parameters.get(name);
    if (!sig)
      throw new NotFoundError(`Parameter "${name}" does not exist (${this.#parameters.size} parameters); check the checkpoint matches the model config.`);
    const v = this.#value(this.inner.param(name), sig.shape, sig.dtype, sig.dtype === 'float32' && !this.#frozen.has(name));
    this.#params.set(name, v);
    return v;
  }
  /** Whether a parameter exists. */
  hasParam(name: string): boolean {
    return this.#parameters.has(name);
  }
  /** A float32 constant. */
  constant(data: Float32Array, shape: readonly number[]): Traced<T> {
    return this.#value(this.inner.constant(data, shape), shape, 'float32', false);
  }
  /** An int32 constant. */
  constantInt(data: Int32Array, shape: readonly number[]): Traced<T> {
    return this.#value(this.inner.constantInt(data, shape), shape, 'int32', false);
  }
  /** A float32 scalar. */
  scalar(value: number): Traced<T> {
    return this.#value(this.inner.scalar(value), [], 'float32', false);
  }

  // ---- element-wise -------------------------------------------------------------------------------------

  #binary(op: 'add' | 'sub' | 'mul' | 'div' | 'maximum', a: Traced<T>, b: Traced<T>): Traced<T> {
    if (a.dtype !== b.dtype) throw new ShapeError(`${op} needs equal dtypes but got ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}.`);
    const shape = broadcastShapes(a.shape, b.shape, op);
    const ops = this.inner;
    return this.#op(ops[op](a.value, b.value), shape, a.dtype, [a, b], (g, y, need) => vjp[op](ops, g, a, b, y, need));
  }
  /** a + b. */
  add(a: Traced<T>, b: Traced<T>): Traced<T> {
    return this.#binary('add', a, b);
  }
  /** a − b. */
  sub(a: Traced<T>, b: Traced<T>): Traced<T> {
    return this.#binary('sub', a, b);
  }
  /** a · b. */
  mul(a: Traced<T>, b: Traced<T>): Traced<T> {
    return this.#binary('mul', a, b);
  }
  /** a / b. */
  div(a: Traced<T>, b: Traced<T>): Traced<T> {
    return this.#binary('div', a, b);
  }
  /** max(a, b). */
  maximum(a: Traced<T>, b: Traced<T>): Traced<T> {
    return this.#binary('maximum', a, b);
  }

  #unary(op: 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'sigmoid' | 'silu' | 'tanh' | 'relu' | 'sin' | 'cos' | 'abs', x: Traced<T>): Traced<T> {
    this.#float(x, op);
    const ops = this.inner;
    return this.#op(ops[op](x.value), x.shape, 'float32', [x], (g, y) => vjp[op](ops, g, x, y));
  }
  /** −x. */
  neg(x: Traced<T>): Traced<T> {
    return this.#unary('neg', x);
  }
  /** eˣ. */
  exp(x: Traced<T>): Traced<T> {
    return this.#unary('exp', x);
  }
  /** ln x. */
  log(x: Traced<T>): Traced<T> {
    return this.#unary('log', x);
  }
  /** √x. */
  sqrt(x: Traced<T>): Traced<T> {
    return this.#unary('sqrt', x);
  }
  /** 1/√x. */
  rsqrt(x: Traced<T>): Traced<T> {
    return this.#unary('rsqrt', x);
  }
  /** x². */
  square(x: Traced<T>): Traced<T> {
    return this.#unary('square', x);
  }
  /** σ(x). */
  sigmoid(x: Traced<T>): Traced<T> {
    return this.#unary('sigmoid', x);
  }
  /** x·σ(x). */
  silu(x: Traced<T>): Traced<T> {
    return this.#unary('silu', x);
  }
  /** tanh x. */
  tanh(x: Traced<T>): Traced<T> {
    return this.#unary('tanh', x);
  }
  /** max(x, 0). */
  relu(x: Traced<T>): Traced<T> {
    return this.#unary('relu', x);
  }
  /** sin x. */
  sin(x: Traced<T>): Traced<T> {
    return this.#unary('sin', x);
  }
  /** cos x. */
  cos(x: Traced<T>): Traced<T> {
    return this.#unary('cos', x);
  }
  /** |x|. */
  abs(x: Traced<T>): Traced<T> {
    return this.#unary('abs', x);
  }
  /** [x > 0] (no gradient). */
  step(x: Traced<T>): Traced<T> {
    this.#float(x, 'step');
    return this.#op(this.inner.step(x.value), x.shape, 'float32', [x], null);
  }
  /** x, without gradient. */
  stopGradient(x: Traced<T>): Traced<T> {
    return this.#op(this.inner.stopGradient(x.value), x.shape, x.dtype, [x], null);
  }
  /** Broadcast to `shape`. */
  broadcastTo(x: Traced<T>, shape: readonly number[]): Traced<T> {
    if (!broadcastsTo(x.shape, shape)) throw new ShapeError(`broadcastTo: ${fmtShape(x.shape)} does not broadcast to ${fmtShape(shape)}.`);
    const ops = this.inner;
    return this.#op(ops.broadcastTo(x.value, shape), shape, x.dtype, [x], (g, y) => vjp.broadcastTo(ops, g, x, y));
  }

  // ---- reductions and shapes ----------------------------------------------------------------------------

  #reduce(op: 'mean' | 'sum', x: Traced<T>, axes: readonly number[], keepDims: boolean): Traced<T> {
    const ax = reductionAxes(x.shape, axes, op);
    if (ax.length === 0) return x;
    const ops = this.inner;
    return this.#op(ops[op](x.value, axes, keepDims), reducedShape(x.shape, ax, keepDims), x.dtype, [x], (g) => vjp[op](ops, g, x, ax));
  }
  /** Mean over `axes`. */
  mean(x: Traced<T>, axes: readonly number[], keepDims: boolean): Traced<T> {
    this.#float(x, 'mean');
    return this.#reduce('mean', x, axes, keepDims);
  }
  /** Sum over `axes`. */
  sum(x: Traced<T>, axes: readonly number[], keepDims: boolean): Traced<T> {
    return this.#reduce('sum', x, axes, keepDims);
  }
  /** Reshape (one −1 inferred). */
  reshape(x: Traced<T>, shape: readonly number[]): Traced<T> {
    const target = reshapeTarget(x.shape, shape);
    const ops = this.inner;
    return this.#op(ops.reshape(x.value, target), target, x.dtype, [x], (g) => vjp.reshape(ops, g, x));
  }
  /** Permute axes. */
  transpose(x: Traced<T>, perm: readonly number[]): Traced<T> {
    if (perm.length !== x.shape.length)
      throw new ShapeError(`transpose: perm [${perm.join(', ')}] has ${perm.length} entries but the input ${fmtShape(x.shape)} has rank ${x.shape.length}.`);
    const p = perm.map((a) => normaliseAxis(a, x.shape.length, 'transpose'));
    if (new Set(p).size !== p.length) throw new ShapeError(`transpose: [${perm.join(', ')}] is not a permutation.`);
    const ops = this.inner;
    return this.#op(
      ops.transpose(x.value, p),
      p.map((a) => at(x.shape, a, 'transposed axis')),
      x.dtype,
      [x],
      (g) => vjp.transpose(ops, g, p),
    );
  }
  /** Concatenate along `axis`. */
  concat(xs: readonly Traced<T>[], axis: number): Traced<T> {
    const first = xs[0];
    if (first === undefined) throw new ShapeError('concat: received no values; pass at least one.');
    const a = normaliseAxis(axis, first.shape.length, 'concat');
    if (xs.length === 1) return first;
    let total = 0;
    for (const x of xs) {
      if (x.dtype !== first.dtype) throw new ShapeError(`concat: mixed dtypes ${first.dtype} and ${x.dtype}.`);
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        throw new ShapeError(`concat on axis ${axis}: shapes ${xs.map((v) => fmtShape(v.shape)).join(', ')} differ off that axis.`);
      }
      total += at(x.shape, a, 'concat axis');
    }
    const shape = first.shape.map((d, i) => (i === a ? total : d));
    const ops = this.inner;
    return this.#op(
      ops.concat(
        xs.map((x) => x.value),
        a,
      ),
      shape,
      first.dtype,
      xs,
      (g, _y, need) => vjp.concat(ops, g, xs, a, need),
    );
  }
  /** Elements [start, end) along `axis` (negative bounds count from the end; clamped). */
  slice(x: Traced<T>, axis: number, start: number, end: number): Traced<T> {
    const a = normaliseAxis(axis, x.shape.length, 'slice');
    const [s, e] = sliceBounds(at(x.shape, a, 'slice axis'), start, end);
    const shape = x.shape.map((d, i) => (i === a ? e - s : d));
    const ops = this.inner;
    return this.#op(ops.slice(x.value, a, s, e), shape, x.dtype, [x], (g) => vjp.slice(ops, g, x, a, s, e));
  }

  // ---- linear algebra and NN ----------------------------------------------------------------------------

  /** Matrix product over the last two axes. */
  matMul(a: Traced<T>, b: Traced<T>, transposeA = false, transposeB = false): Traced<T> {
    this.#float(a, 'matMul');
    this.#float(b, 'matMul');
    const shape = matMulShape(a.shape, b.shape, transposeA, transposeB);
    const ops = this.inner;
    return this.#op(ops.matMul(a.value, b.value, transposeA, transposeB), shape, 'float32', [a, b], (g, y, need) =>
      vjp.matMul(ops, g, a, b, y, transposeA, transposeB, need),
    );
  }
  /** Softmax over the last axis. */
  softmax(x: Traced<T>): Traced<T> {
    this.#float(x, 'softmax');
    const ops = this.inner;
    return this.#op(ops.softmax(x.value), x.shape, 'float32', [x], (g, y) => vjp.softmax(ops, g, x, y));
  }
  /** Rows of `table` at int32 `indices`. */
  gather(table: Traced<T>, indices: Traced<T>): Traced<T> {
    if (indices.dtype !== 'int32')
      throw new ShapeError(`gather: indices must be int32 but are ${indices.dtype} ${fmtShape(indices.shape)}; create them with constantInt.`);
    if (table.shape.length !== 2) throw new ShapeError(`gather: table must be rank 2 [V, D] but has shape ${fmtShape(table.shape)}.`);
    const ops = this.inner;
    const [, width] = dims2(table.shape, 'gather table');
    const shape = [...indices.shape, width];
    return this.#op(ops.gather(table.value, indices.value), shape, table.dtype, [table, indices], (g) => vjp.gather(ops, g, table, indices));
  }
  /** Adjoint of gather. */
  scatterAddRows(updates: Traced<T>, indices: Traced<T>, rows: number): Traced<T> {
    if (indices.dtype !== 'int32') throw new ShapeError(`scatterAddRows: indices must be int32 but are ${indices.dtype}.`);
    if (updates.shape.length !== indices.shape.length + 1 || indices.shape.some((n, i) => n !== updates.shape[i])) {
      throw new ShapeError(`scatterAddRows: updates ${fmtShape(updates.shape)} must have shape indices ${fmtShape(indices.shape)} + [D].`);
    }
    const d = lastDim(updates.shape, 'scatterAddRows updates');
    const ops = this.inner;
    return this.#op(ops.scatterAddRows(updates.value, indices.value, rows), [rows, d], updates.dtype, [updates, indices], (g) =>
      vjp.scatterAddRows(ops, g, indices),
    );
  }
  /** 2-D convolution (NCHW, OIHW). */
  conv2d(x: Traced<T>, weight: Traced<T>, bias: Traced<T> | null, options: Conv2dOptions): Traced<T> {
    this.#float(x, 'conv2d');
    const shape = conv2dShape(x.shape, weight.shape, options);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== weight.shape[0])) {
      throw new ShapeError(`conv2d: bias ${fmtShape(bias.shape)} must have shape [${weight.shape[0]}] (one per output channel).`);
    }
    const ops = this.inner;
    return this.#op(ops.conv2d(x.value, weight.value, bias ? bias.value : null, options), shape, 'float32', [x, weight, bias], (g, _y, need) =>
      vjp.conv2d(ops, g, x, weight, bias !== null, options, need),
    );
  }
  /** dx of a convolution (not differentiable again). */
  conv2dInputGrad(dy: Traced<T>, weight: Traced<T>, shapes: Conv2dShapes, options: Conv2dOptions): Traced<T> {
    return this.#op(this.inner.conv2dInputGrad(dy.value, weight.value, shapes, options), shapes.input, 'float32', [dy, weight], () => noVjp('conv2dInputGrad'));
  }
  /** dW of a convolution (not differentiable again). */
  conv2dWeightGrad(x: Traced<T>, dy: Traced<T>, shapes: Conv2dShapes, options: Conv2dOptions): Traced<T> {
    return this.#op(this.inner.conv2dWeightGrad(x.value, dy.value, shapes, options), shapes.weight, 'float32', [x, dy], () => noVjp('conv2dWeightGrad'));
  }
  /** Nearest ×2 upsampling (NCHW). */
  upsampleNearest2x(x: Traced<T>): Traced<T> {
    if (x.shape.length !== 4) throw new ShapeError(`upsampleNearest2x: input must be NCHW (rank 4), got ${fmtShape(x.shape)}.`);
    const [n, c, h, w] = dims4(x.shape, 'upsampleNearest2x input');
    const ops = this.inner;
    return this.#op(ops.upsampleNearest2x(x.value), [n, c, 2 * h, 2 * w], 'float32', [x], (g) => vjp.upsampleNearest2x(ops, g, x));
  }
  /**
   * Inverted dropout while training: the mask is drawn here on the CPU from the Rng (so every engine drops the same
   * elements) and applied as a multiplication by a constant, whose VJP is the same multiplication.
   */
  dropout(x: Traced<T>, rate: number): Traced<T> {
    if (!(rate >= 0 && rate < 1)) throw new ConfigError(`dropout: rate ${rate} is invalid; use a probability in [0, 1).`);
    if (!this.training || rate === 0) return x;
    if (!this.#rng) throw new ConfigError('dropout: training with dropout needs an Rng; pass `rng` to TapeOps (TrainableParameters.gradients does).');
    const size = x.shape.reduce((a, b) => a * b, 1);
    const u = this.#rng.uniformsF32(size);
    const scale = 1 / (1 - rate);
    const mask = new Float32Array(size);
    for (let i = 0; i < size; i++) mask[i] = required(u[i], 'dropout uniform') >= rate ? scale : 0;
    return this.mul(x, this.constant(mask, x.shape));
  }

  // ---- backward -----------------------------------------------------------------------------------------

  /**
   * d `loss` / d `wrt[i]` for each requested value (a scalar loss, seeded with 1), built with the inner ops by
   * walking the tape in reverse. Values the loss does not depend on get `null`.
   */
  backward(loss: Traced<T>, wrt: readonly Traced<T>[]): (T | null)[] {
    if (loss.shape.reduce((a, b) => a * b, 1) !== 1)
      throw new ShapeError(`backward: the loss must be a scalar but has shape ${fmtShape(loss.shape)}; reduce it with mean or sum.`);
    const grads = new Map<number, T>();
    if (!loss.requiresGrad) return wrt.map(() => null);
    grads.set(loss.id, this.inner.broadcastTo(this.inner.scalar(1), loss.shape));
    const ops = this.inner;
    for (let i = this.#tape.length - 1; i >= 0; i--) {
      const entry = at(this.#tape, i, 'tape entry');
      const g = grads.get(entry.output.id);
      if (g === undefined) continue;
      grads.delete(entry.output.id);
      const inputGrads = entry.backward(g);
      entry.inputs.forEach((x, k) => {
        const gx = inputGrads[k];
        if (!x?.requiresGrad || gx == null) return;
        const prev = grads.get(x.id);
        grads.set(x.id, prev === undefined ? gx : ops.add(prev, gx));
      });
    }
    return wrt.map((w) => grads.get(w.id) ?? null);
  }
}
