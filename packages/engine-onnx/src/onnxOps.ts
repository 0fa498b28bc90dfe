import { ConfigError, CpuTensor, NotFoundError, ShapeError, at, closeNames, dims2, required } from '@bigr/core';
import type { Conv2dOptions, Conv2dShapes, NamedTensors, Ops } from '@bigr/core';
import type { OnnxAttribute, OnnxGraphBuilder } from './graphBuilder.js';
import type { OnnxDType, OnnxValue } from './onnxValue.js';

function paramData(t: CpuTensor, name: string): Float32Array | Int32Array {
  const data = t.data;
  if (data instanceof Float32Array || data instanceof Int32Array) return data;
  if (data instanceof Float64Array || data instanceof Uint8Array) return Float32Array.from(data);
  throw new ShapeError(`Parameter "${name}" has unsupported dtype ${t.dtype}; use float32 (or int32 for index tables).`);
}

/** `shape` with its last two axes swapped. */
function swapLastTwo(shape: readonly number[]): number[] {
  const [rows, cols] = dims2(shape.slice(-2), 'transposed operand (last two axes)');
  return [...shape.slice(0, -2), cols, rows];
}

/** Copy of `data` (shape `shape`) with its last two axes swapped. */
function transposeLastTwo<A extends Float32Array | Int32Array>(data: A, shape: readonly number[]): A {
  const [rows, cols] = dims2(shape.slice(-2), 'transposed operand (last two axes)');
  const out = new (data.constructor as new (n: number) => A)(data.length);
  const plane = rows * cols;
  for (let base = 0; base < data.length; base += plane) {
    for (let i = 0; i < rows; i++) {
      const src = base + i * cols;
      for (let j = 0; j < cols; j++) out[base + j * rows + i] = required(data[src + j], 'transposed element');
    }
  }
  return out;
}

/**
 * The little-endian bytes of `data` (shape `shape`) with its last two axes swapped, as consecutive pieces of
 * whole output rows of about `pieceElements` elements (default 8 Mi, 32 MiB of float32), computed into one
 * reused buffer: each piece is valid only until the next is requested.
 */
export function* transposedPieces<A extends Float32Array | Int32Array>(data: A, shape: readonly number[], pieceElements = 2 ** 23): Generator<Uint8Array> {
  const [rows, cols] = dims2(shape.slice(-2), 'transposed operand (last two axes)');
  const plane = rows * cols;
  if (plane === 0) return;
  const block = Math.max(1, Math.min(cols, Math.floor(pieceElements / rows)));
  const scratch = new (data.constructor as new (n: number) => A)(block * rows);
  for (let base = 0; base < data.length; base += plane) {
    for (let j0 = 0; j0 < cols; j0 += block) {
      const j1 = Math.min(cols, j0 + block);
      for (let i = 0; i < rows; i++) {
        const src = base + i * cols;
        for (let j = j0; j < j1; j++) scratch[(j - j0) * rows + i] = required(data[src + j], 'transposed element');
      }
      yield new Uint8Array(scratch.buffer, 0, (j1 - j0) * rows * scratch.BYTES_PER_ELEMENT);
    }
  }
}

/**
 * {@link Ops} over symbolic {@link OnnxValue}s: each call emits ONNX nodes into an {@link OnnxGraphBuilder}
 * (opset 17). Parameters become float32 initializers named after their state-dict names, created once per
 * name; `matMul` with a transposed constant operand transposes the initializer when the model is written.
 * Graphs are for inference only: `training` is false and `dropout` is the identity.
 */
export class OnnxOps implements Ops<OnnxValue> {
  /** Engine identifier. */
  readonly engine = 'onnx';
  /** Always false: the ops themselves never drop out (a training tape draws dropout masks itself). */
  readonly training = false;
  /** The builder receiving the nodes. */
  readonly builder: OnnxGraphBuilder;
  /** Float constants and float parameters fed as graph inputs (feed mode), in creation order. */
  readonly feeds: { readonly name: string; readonly tensor: CpuTensor }[] = [];
  readonly #params: NamedTensors;
  readonly #feedMode: boolean;
  readonly #paramValues = new Map<string, OnnxValue>();
  readonly #transposed = new Map<string, OnnxValue>();
  readonly #scalars = new Map<string, OnnxValue>();
  readonly #floatConstants = new Map<string, OnnxValue>();

  /**
   * Emits into `builder`; `params` are the model parameters keyed by state-dict name. In `feedMode` (training
   * graphs) parameters and every `constant`/`constantInt` become graph inputs recorded in {@link feeds}, so
   * one compiled graph serves every step: only the fed values change.
   */
  constructor(builder: OnnxGraphBuilder, params: NamedTensors, options: { readonly feedMode?: boolean } = {}) {
    this.builder = builder;
    this.#params = params;
    this.#feedMode = options.feedMode ?? false;
  }

  #feed(name: string, tensor: CpuTensor): OnnxValue {
    if (tensor.dtype !== 'int32' && tensor.dtype !== 'float32') {
      throw new ShapeError(`Graph input "${name}" has dtype ${tensor.dtype}; fed tensors must be float32 or int32.`);
    }
    const dtype = tensor.dtype;
    const value = this.builder.addInput({ name, dtype, shape: [...tensor.shape] });
    this.feeds.push({ name, tensor });
    return value;
  }

  // ---- values -------------------------------------------------------------------------------------------

  /** A named parameter as an initializer (one per name). */
  param(name: string): OnnxValue {
    let value = this.#paramValues.get(name);
    if (value) return value;
    const t = this.#params.get(name);
    if (!t) {
      const near = closeNames(name, this.#params.keys());
      throw new NotFoundError(
        `Parameter "${name}" is not among the ${this.#params.size} model parameters` +
          (near.length ? `; similar names: ${near.join(', ')}` : '') +
          '. Check the checkpoint matches the model configuration.',
      );
    }
    value = this.#feedMode ? this.#feed(name, t) : this.builder.addInitializer(name, paramData(t, name), t.shape);
    this.#paramValues.set(name, value);
    return value;
  }

  /** Whether a parameter exists. */
  hasParam(name: string): boolean {
    return this.#params.has(name);
  }

  /** A float32 constant (the data is copied). */
  constant(data: Float32Array, shape: readonly number[]): OnnxValue {
    if (this.#feedMode) return this.#feed(`feed:${this.feeds.length}`, new CpuTensor(Float32Array.from(data), shape));
    return this.builder.addInitializer(this.builder.uniqueName('const'), Float32Array.from(data), shape);
  }

  /** An int32 constant (the data is copied). */
  constantInt(data: Int32Array, shape: readonly number[]): OnnxValue {
    if (this.#feedMode) return this.#feed(`feed:${this.feeds.length}`, new CpuTensor(Int32Array.from(data), shape));
    return this.builder.addInitializer(this.builder.uniqueName('const_int'), Int32Array.from(data), shape);
  }

  /** A float32 scalar; equal scalars share one initializer. */
  scalar(value: number): OnnxValue {
    const key = Object.is(value, -0) ? '-0' : String(value);
    let v = this.#scalars.get(key);
    if (!v) {
      v = this.builder.addInitializer(this.builder.uniqueName('scalar'), Float32Array.of(value), []);
      this.#scalars.set(key, v);
    }
    return v;
  }

  #floatConstant(values: readonly number[]): OnnxValue {
    const key = values.join(',');
    let v = this.#floatConstants.get(key);
    if (!v) {
      v = this.builder.addInitializer(this.builder.uniqueName('const'), Float32Array.from(values), [values.length]);
      this.#floatConstants.set(key, v);
    }
    return v;
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  #node(
    opType: string,
    inputs: readonly (OnnxValue | null)[],
    dtype: OnnxDType,
    rank: number | undefined,
    attributes?: Readonly<Record<string, OnnxAttribute>>,
  ): OnnxValue {
    return this.builder.addNode(opType, inputs, { dtype, rank }, attributes);
  }

  #requireFloat(x: OnnxValue, op: string): void {
    if (x.dtype !== 'float32') {
      throw new ShapeError(`${op} needs a float32 value but "${x.name}" is ${x.dtype}. Convert it to float32 first.`);
    }
  }

  #unary(opType: string, x: OnnxValue): OnnxValue {
    this.#requireFloat(x, opType);
    return this.#node(opType, [x], 'float32', x.rank);
  }

  #binary(opType: string, a: OnnxValue, b: OnnxValue): OnnxValue {
    if (a.dtype !== b.dtype) {
      throw new ShapeError(`${opType} needs equal dtypes but got ${a.dtype} ("${a.name}") and ${b.dtype} ("${b.name}"). Convert one operand.`);
    }
    const rank = a.rank !== undefined && b.rank !== undefined ? Math.max(a.rank, b.rank) : undefined;
    return this.#node(opType, [a, b], a.dtype, rank);
  }

  #axis(axis: number, rank: number | undefined, op: string): number {
    if (!Number.isInteger(axis)) throw new ConfigError(`${op}: axis ${axis} is not an integer.`);
    if (rank !== undefined && (axis < -rank || axis >= rank)) {
      throw new ShapeError(`${op}: axis ${axis} is out of range for a rank-${rank} value; use an axis in [${-rank}, ${rank - 1}].`);
    }
    return axis;
  }

  #reduceRank(x: OnnxValue, axes: readonly number[], keepDims: boolean, op: string): number | undefined {
    if (axes.length === 0) throw new ConfigError(`${op}: axes is empty; list the axes to reduce explicitly.`);
    for (const a of axes) this.#axis(a, x.rank, op);
    if (x.rank === undefined) return undefined;
    const r = x.rank;
    const distinct = new Set(axes.map((a) => (a < 0 ? a + r : a)));
    if (distinct.size !== axes.length) throw new ConfigError(`${op}: axes [${axes.join(', ')}] repeat an axis.`);
    return keepDims ? r : r - distinct.size;
  }

  /** Swaps the last two axes: at build time for initializers, else with a Transpose node. */
  #transposeLastTwo(x: OnnxValue, what: string): OnnxValue {
    const init = this.builder.initializer(x);
    if (init && (init.dtype === 'float32' || init.dtype === 'int32') && init.shape.length >= 2) {
      let t = this.#transposed.get(x.name);
      if (!t) {
        // Deferred: the transposed copy is computed when the model is written, and in 32 MiB pieces when the
        // weights are streamed to external data, so transposed copies of the weights are never held at once.
        const source = init.data as Float32Array | Int32Array;
        const shape = init.shape;
        t = this.builder.addDeferredInitializer(this.builder.uniqueName(`${x.name}.transposed`), init.dtype, swapLastTwo(shape), {
          produce: () => transposeLastTwo(source, shape),
          pieces: () => transposedPieces(source, shape),
        });
        this.#transposed.set(x.name, t);
      }
      return t;
    }
    if (x.rank === undefined) {
      throw new ShapeError(`matMul: cannot transpose ${what} "${x.name}" because its rank is unknown at build time. Reshape it to a known shape first.`);
    }
    if (x.rank < 2) throw new ShapeError(`matMul: ${what} "${x.name}" has rank ${x.rank}; matMul needs rank >= 2.`);
    const perm = Array.from({ length: x.rank }, (_, i) => i);
    perm[x.rank - 2] = x.rank - 1;
    perm[x.rank - 1] = x.rank - 2;
    return this.#node('Transpose', [x], x.dtype, x.rank, { perm: { ints: perm } });
  }

  // ---- element-wise -------------------------------------------------------------------------------------

  /** a + b. */
  add(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.#binary('Add', a, b);
  }
  /** a - b. */
  sub(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.#binary('Sub', a, b);
  }
  /** a * b. */
  mul(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.#binary('Mul', a, b);
  }
  /** a / b. */
  div(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.#binary('Div', a, b);
  }
  /** -x. */
  neg(x: OnnxValue): OnnxValue {
    return this.#unary('Neg', x);
  }
  /** e^x. */
  exp(x: OnnxValue): OnnxValue {
    return this.#unary('Exp', x);
  }
  /** ln x. */
  log(x: OnnxValue): OnnxValue {
    return this.#unary('Log', x);
  }
  /** √x. */
  sqrt(x: OnnxValue): OnnxValue {
    return this.#unary('Sqrt', x);
  }
  /** 1/√x as Reciprocal(Sqrt(x)). */
  rsqrt(x: OnnxValue): OnnxValue {
    return this.#unary('Reciprocal', this.#unary('Sqrt', x));
  }
  /** x·x. */
  square(x: OnnxValue): OnnxValue {
    this.#requireFloat(x, 'square');
    return this.#node('Mul', [x, x], 'float32', x.rank);
  }
  /** σ(x). */
  sigmoid(x: OnnxValue): OnnxValue {
    return this.#unary('Sigmoid', x);
  }
  /** x·σ(x). */
  silu(x: OnnxValue): OnnxValue {
    return this.#node('Mul', [x, this.#unary('Sigmoid', x)], 'float32', x.rank);
  }
  /** tanh x. */
  tanh(x: OnnxValue): OnnxValue {
    return this.#unary('Tanh', x);
  }
  /** max(x, 0). */
  relu(x: OnnxValue): OnnxValue {
    return this.#unary('Relu', x);
  }
  /** sin x. */
  sin(x: OnnxValue): OnnxValue {
    return this.#unary('Sin', x);
  }
  /** cos x. */
  cos(x: OnnxValue): OnnxValue {
    return this.#unary('Cos', x);
  }

  /** |x|. */
  abs(x: OnnxValue): OnnxValue {
    return this.#unary('Abs', x);
  }
  /** max(a, b) (ONNX Max broadcasts). */
  maximum(a: OnnxValue, b: OnnxValue): OnnxValue {
    return this.#binary('Max', a, b);
  }
  /** [x > 0] as float32 (Greater, Cast). */
  step(x: OnnxValue): OnnxValue {
    this.#requireFloat(x, 'step');
    // Greater yields a bool tensor; the builder's dtype label only matters for graph outputs, which this is not.
    const positive = this.#node('Greater', [x, this.scalar(0)], 'int32', x.rank);
    return this.#node('Cast', [positive], 'float32', x.rank, { to: { int: 1 } });
  }
  /** Identity: graphs carry no gradients, so there is nothing to stop. */
  stopGradient(x: OnnxValue): OnnxValue {
    return x;
  }
  /** Expand to `shape`. */
  broadcastTo(x: OnnxValue, shape: readonly number[]): OnnxValue {
    return this.#node('Expand', [x, this.builder.int64Constant(shape)], x.dtype, shape.length);
  }

  // ---- reductions ---------------------------------------------------------------------------------------

  /** ReduceMean (opset 17: axes attribute). */
  mean(x: OnnxValue, axes: readonly number[], keepDims: boolean): OnnxValue {
    this.#requireFloat(x, 'mean');
    const rank = this.#reduceRank(x, axes, keepDims, 'mean');
    return this.#node('ReduceMean', [x], 'float32', rank, { axes: { ints: axes }, keepdims: { int: keepDims ? 1 : 0 } });
  }

  /** ReduceSum (axes as an int64 input since opset 13). */
  sum(x: OnnxValue, axes: readonly number[], keepDims: boolean): OnnxValue {
    const rank = this.#reduceRank(x, axes, keepDims, 'sum');
    return this.#node('ReduceSum', [x, this.builder.int64Constant(axes)], x.dtype, rank, { keepdims: { int: keepDims ? 1 : 0 } });
  }

  // ---- shapes -------------------------------------------------------------------------------------------

  /** Reshape with an int64 shape initializer; a 0 in `shape` means an empty dimension (allowzero=1). */
  reshape(x: OnnxValue, shape: readonly number[]): OnnxValue {
    let inferred = 0;
    for (const d of shape) {
      if (!Number.isInteger(d) || d < -1) {
        throw new ShapeError(`reshape: invalid target shape [${shape.join(', ')}]; use non-negative integers and at most one -1.`);
      }
      if (d === -1) inferred++;
    }
    if (inferred > 1) throw new ShapeError(`reshape: target shape [${shape.join(', ')}] has ${inferred} entries of -1; at most one may be inferred.`);
    const hasZero = shape.includes(0);
    if (hasZero && inferred) throw new ShapeError(`reshape: target shape [${shape.join(', ')}] mixes 0 and -1, which is ambiguous.`);
    return this.#node('Reshape', [x, this.builder.int64Constant(shape)], x.dtype, shape.length, hasZero ? { allowzero: { int: 1 } } : {});
  }

  /** Transpose by `perm` (negative entries count from the end). */
  transpose(x: OnnxValue, perm: readonly number[]): OnnxValue {
    const r = perm.length;
    if (x.rank !== undefined && x.rank !== r) {
      throw new ShapeError(`transpose: perm [${perm.join(', ')}] has ${r} entries but "${x.name}" has rank ${x.rank}.`);
    }
    const p = perm.map((a) => (a < 0 ? a + r : a));
    const seen = new Set(p);
    if (seen.size !== r || p.some((a) => !Number.isInteger(a) || a < 0 || a >= r)) {
      throw new ShapeError(`transpose: [${perm.join(', ')}] is not a permutation of 0..${r - 1}.`);
    }
    return this.#node('Transpose', [x], x.dtype, r, { perm: { ints: p } });
  }

  /** Concat along `axis`. */
  concat(xs: readonly OnnxValue[], axis: number): OnnxValue {
    const first = xs[0];
    if (first === undefined) throw new ShapeError('concat: needs at least one value.');
    for (const x of xs) {
      if (x.dtype !== first.dtype) throw new ShapeError(`concat: mixed dtypes ${first.dtype} and ${x.dtype}; convert them to one dtype.`);
      if (x.rank !== undefined && first.rank !== undefined && x.rank !== first.rank) {
        throw new ShapeError(`concat: ranks differ (${first.rank} for "${first.name}", ${x.rank} for "${x.name}").`);
      }
    }
    const rank = xs.find((x) => x.rank !== undefined)?.rank;
    this.#axis(axis, rank, 'concat');
    if (xs.length === 1) return first;
    return this.#node('Concat', xs, first.dtype, rank, { axis: { int: axis } });
  }

  /** Elements [start, end) along `axis` (Slice with int64 starts/ends/axes). */
  slice(x: OnnxValue, axis: number, start: number, end: number): OnnxValue {
    this.#axis(axis, x.rank, 'slice');
    if (!Number.isInteger(start) || !Number.isInteger(end)) throw new ConfigError(`slice: bounds [${start}, ${end}) must be integers.`);
    const b = this.builder;
    return this.#node('Slice', [x, b.int64Constant([start]), b.int64Constant([end]), b.int64Constant([axis])], x.dtype, x.rank);
  }

  // ---- linear algebra and NN ----------------------------------------------------------------------------

  /** MatMul over the last two axes with NumPy broadcasting of leading axes. */
  matMul(a: OnnxValue, b: OnnxValue, transposeA = false, transposeB = false): OnnxValue {
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      throw new ShapeError(`matMul needs float32 operands but got ${a.dtype} ("${a.name}") and ${b.dtype} ("${b.name}").`);
    }
    for (const [v, what] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      if (v.rank !== undefined && v.rank < 2) throw new ShapeError(`matMul: operand ${what} ("${v.name}") has rank ${v.rank}; it needs rank >= 2.`);
    }
    const a2 = transposeA ? this.#transposeLastTwo(a, 'a') : a;
    const b2 = transposeB ? this.#transposeLastTwo(b, 'b') : b;
    const rank = a.rank !== undefined && b.rank !== undefined ? Math.max(a.rank, b.rank) : undefined;
    return this.#node('MatMul', [a2, b2], 'float32', rank);
  }

  /** Softmax over the last axis. */
  softmax(x: OnnxValue): OnnxValue {
    this.#requireFloat(x, 'softmax');
    return this.#node('Softmax', [x], 'float32', x.rank, { axis: { int: -1 } });
  }

  /** Gather rows of `table` (axis 0) at int32 `indices`. */
  gather(table: OnnxValue, indices: OnnxValue): OnnxValue {
    if (indices.dtype !== 'int32' && indices.dtype !== 'int64') {
      throw new ShapeError(`gather: indices "${indices.name}" are ${indices.dtype}; they must be int32.`);
    }
    const rank = table.rank !== undefined && indices.rank !== undefined ? indices.rank + table.rank - 1 : undefined;
    return this.#node('Gather', [table, indices], table.dtype, rank, { axis: { int: 0 } });
  }

  /**
   * ScatterND with reduction 'add' into a zero table [rows, D] (D read from `updates` at run time); indices are
   * cast to int64 and given a trailing unit axis.
   */
  scatterAddRows(updates: OnnxValue, indices: OnnxValue, rows: number): OnnxValue {
    this.#requireFloat(updates, 'scatterAddRows');
    if (!Number.isInteger(rows) || rows < 1) throw new ConfigError(`scatterAddRows: rows ${rows} must be a positive integer.`);
    const b = this.builder;
    const lastDim = this.#node('Shape', [updates], 'int64', 1, { start: { int: -1 } });
    const tableShape = this.#node('Concat', [b.int64Constant([rows]), lastDim], 'int64', 1, { axis: { int: 0 } });
    const table = this.#node('Expand', [this.scalar(0), tableShape], 'float32', 2);
    const idx64 = this.#node('Cast', [indices], 'int64', indices.rank, { to: { int: 7 } });
    const idx = this.#node('Unsqueeze', [idx64, b.int64Constant([-1])], 'int64', indices.rank === undefined ? undefined : indices.rank + 1);
    return this.#node('ScatterND', [table, idx, updates], 'float32', 2, { reduction: { string: 'add' } });
  }

  /**
   * dx of conv2d as ConvTranspose with the forward strides and pads; `output_padding` restores the rows and columns
   * the forward stride skipped, so the result has exactly the input's shape.
   */
  conv2dInputGrad(dy: OnnxValue, weight: OnnxValue, shapes: Conv2dShapes, options: Conv2dOptions): OnnxValue {
    const [, , h, w] = shapes.input as [number, number, number, number];
    const [, , kh, kw] = shapes.weight as [number, number, number, number];
    const { strides: s, pads } = options;
    const [top, left, bottom, right] = pads;
    const outPadH = (h + top + bottom - kh) % s;
    const outPadW = (w + left + right - kw) % s;
    return this.#node('ConvTranspose', [dy, weight], 'float32', 4, {
      strides: { ints: [s, s] },
      pads: { ints: [top, left, bottom, right] },
      output_padding: { ints: [outPadH, outPadW] },
      dilations: { ints: [1, 1] },
      group: { int: 1 },
    });
  }

  /**
   * dW of conv2d as one matrix product: the padded input in NHWC, one strided Slice per kernel tap ([N·Ho·Wo, C]
   * each, concatenated to [N·Ho·Wo, kH·kW·C]), multiplied by dy as [O, N·Ho·Wo], then reordered to OIHW.
   */
  conv2dWeightGrad(x: OnnxValue, dy: OnnxValue, shapes: Conv2dShapes, options: Conv2dOptions): OnnxValue {
    const [n, c, h, w] = shapes.input as [number, number, number, number];
    const [o, , kh, kw] = shapes.weight as [number, number, number, number];
    const { strides: s, pads } = options;
    const [top, left, bottom, right] = pads;
    const ho = Math.floor((h + top + bottom - kh) / s) + 1;
    const wo = Math.floor((w + left + right - kw) / s) + 1;
    const b = this.builder;
    let xp = this.#node('Transpose', [x], 'float32', 4, { perm: { ints: [0, 2, 3, 1] } });
    if (top || left || bottom || right) xp = this.#node('Pad', [xp, b.int64Constant([0, top, left, 0, 0, bottom, right, 0])], 'float32', 4);
    const rows = n * ho * wo;
    const taps: OnnxValue[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const win = this.#node(
          'Slice',
          [xp, b.int64Constant([i, j]), b.int64Constant([i + s * (ho - 1) + 1, j + s * (wo - 1) + 1]), b.int64Constant([1, 2]), b.int64Constant([s, s])],
          'float32',
          4,
        );
        taps.push(this.reshape(win, [rows, c]));
      }
    }
    const patches = taps.length === 1 ? at(taps, 0, 'kernel tap') : this.#node('Concat', taps, 'float32', 2, { axis: { int: 1 } });
    const g = this.reshape(this.#node('Transpose', [dy], 'float32', 4, { perm: { ints: [1, 0, 2, 3] } }), [o, rows]);
    const dw = this.#node('MatMul', [g, patches], 'float32', 2);
    return this.#node('Transpose', [this.reshape(dw, [o, kh, kw, c])], 'float32', 4, { perm: { ints: [0, 3, 1, 2] } });
  }

  /** Conv (NCHW, OIHW), pads [top, left, bottom, right] = ONNX [x1_begin, x2_begin, x1_end, x2_end]. */
  conv2d(x: OnnxValue, weight: OnnxValue, bias: OnnxValue | null, options: Conv2dOptions): OnnxValue {
    this.#requireFloat(x, 'conv2d');
    this.#requireFloat(weight, 'conv2d');
    const { strides, pads } = options;
    if (!Number.isInteger(strides) || strides < 1) throw new ConfigError(`conv2d: strides ${strides} must be a positive integer.`);
    if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new ConfigError(`conv2d: pads [${pads.join(', ')}] must be four non-negative integers [top, left, bottom, right].`);
    }
    for (const [v, what] of [
      [x, 'input'],
      [weight, 'weight'],
    ] as const) {
      if (v.rank !== undefined && v.rank !== 4)
        throw new ShapeError(`conv2d: ${what} "${v.name}" has rank ${v.rank}; it must be 4-D (${what === 'input' ? 'NCHW' : 'OIHW'}).`);
    }
    const [top, left, bottom, right] = pads;
    return this.#node('Conv', bias === null ? [x, weight] : [x, weight, bias], 'float32', 4, {
      strides: { ints: [strides, strides] },
      pads: { ints: [top, left, bottom, right] },
      dilations: { ints: [1, 1] },
      group: { int: 1 },
    });
  }

  /** Resize ×2 (nearest, asymmetric, floor: PyTorch `nearest`). */
  upsampleNearest2x(x: OnnxValue): OnnxValue {
    this.#requireFloat(x, 'upsampleNearest2x');
    if (x.rank !== undefined && x.rank !== 4) throw new ShapeError(`upsampleNearest2x: "${x.name}" has rank ${x.rank}; it must be NCHW (rank 4).`);
    return this.#node('Resize', [x, null, this.#floatConstant([1, 1, 2, 2])], 'float32', 4, {
      mode: { string: 'nearest' },
      coordinate_transformation_mode: { string: 'asymmetric' },
      nearest_mode: { string: 'floor' },
    });
  }

  /** Identity (inference graphs). */
  dropout(x: OnnxValue, rate: number): OnnxValue {
    if (!(rate >= 0 && rate < 1)) throw new ConfigError(`dropout: rate ${rate} must be in [0, 1).`);
    return x;
  }
}
