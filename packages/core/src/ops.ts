/**
 * The op interface that every model layer is written against. A layer is a plain function of
 * `(ops, parameters, inputs)`: run with the tfjs engine's ops it executes eagerly and is differentiable;
 * run with the ONNX engine's ops it emits graph nodes. Model code is therefore written once.
 *
 * `T` is the engine's value handle (a tfjs tensor, or a symbolic ONNX value). Shapes follow NumPy
 * conventions: row-major, binary ops broadcast, negative axes count from the end.
 */
export interface Ops<T> {
  /** Engine identifier, e.g. 'tfjs-wasm' or 'onnx'. */
  readonly engine: string;
  /** True while training (dropout active). Inference graphs are always built with `training = false`. */
  readonly training: boolean;

  /** A named parameter (official PyTorch state-dict name). Throws NotFoundError listing similar names if absent. */
  param(name: string): T;
  /** Whether a parameter with this name exists. */
  hasParam(name: string): boolean;
  /** A constant float32 tensor (not trainable). */
  constant(data: Float32Array, shape: readonly number[]): T;
  /** A constant int32 tensor (indices). */
  constantInt(data: Int32Array, shape: readonly number[]): T;
  /** A float32 scalar constant. */
  scalar(value: number): T;

  /** Element-wise a + b (broadcasting). */
  add(a: T, b: T): T;
  /** Element-wise a - b (broadcasting). */
  sub(a: T, b: T): T;
  /** Element-wise a * b (broadcasting). */
  mul(a: T, b: T): T;
  /** Element-wise a / b (broadcasting). */
  div(a: T, b: T): T;
  /** -x. */
  neg(x: T): T;
  /** e^x. */
  exp(x: T): T;
  /** Natural logarithm. */
  log(x: T): T;
  /** Square root. */
  sqrt(x: T): T;
  /** 1/sqrt(x). */
  rsqrt(x: T): T;
  /** x². */
  square(x: T): T;
  /** Logistic sigmoid 1/(1+e^-x). */
  sigmoid(x: T): T;
  /** SiLU x·σ(x). */
  silu(x: T): T;
  /** tanh. */
  tanh(x: T): T;
  /** max(x, 0). */
  relu(x: T): T;
  /** sin (radians). */
  sin(x: T): T;
  /** cos (radians). */
  cos(x: T): T;
  /** |x|. Its derivative is sign(x) (0 at 0). */
  abs(x: T): T;
  /** Element-wise max(a, b) (broadcasting). The gradient goes to `a` where a > b and to `b` elsewhere (ties: `b`). */
  maximum(a: T, b: T): T;
  /** Heaviside step: 1 where x > 0, else 0. Piecewise constant, so it passes no gradient. */
  step(x: T): T;
  /** x itself in the forward pass; passes no gradient (the straight-through estimator's `sg(·)`). */
  stopGradient(x: T): T;
  /** Broadcasts x to `shape` by NumPy rules (leading unit axes added, unit axes repeated). */
  broadcastTo(x: T, shape: readonly number[]): T;

  /** Mean over `axes`. */
  mean(x: T, axes: readonly number[], keepDims: boolean): T;
  /** Sum over `axes`. */
  sum(x: T, axes: readonly number[], keepDims: boolean): T;

  /** Reshape; at most one -1 (inferred). */
  reshape(x: T, shape: readonly number[]): T;
  /** Permute dimensions. */
  transpose(x: T, perm: readonly number[]): T;
  /** Concatenate along `axis`. */
  concat(xs: readonly T[], axis: number): T;
  /** Elements [start, end) along one axis. */
  slice(x: T, axis: number, start: number, end: number): T;

  /**
   * Matrix product over the last two axes; leading axes broadcast. Linear weights are stored (out, in), so a
   * linear layer is `matMul(x, W, false, true)`.
   */
  matMul(a: T, b: T, transposeA?: boolean, transposeB?: boolean): T;
  /** Softmax over the last axis. */
  softmax(x: T): T;
  /** Rows of `table` (shape [V, D]) at int32 `indices` (any shape) → indices.shape + [D]. */
  gather(table: T, indices: T): T;
  /**
   * The adjoint of {@link gather}: a zero table [rows, D] to which row i of `updates` (shape indices.shape + [D]) is
   * added at row `indices[i]`; repeated indices add up.
   */
  scatterAddRows(updates: T, indices: T, rows: number): T;
  /**
   * 2-D convolution, NCHW input, OIHW weight, optional bias [O]. `pads` = [top, left, bottom, right]
   * (zero padding; asymmetric allowed).
   */
  conv2d(x: T, weight: T, bias: T | null, options: Conv2dOptions): T;
  /**
   * The gradient of {@link conv2d} with respect to its input: given dy (shape of the convolution's output) and the
   * weight, returns dx of shape `shapes.input` (a transposed convolution).
   */
  conv2dInputGrad(dy: T, weight: T, shapes: Conv2dShapes, options: Conv2dOptions): T;
  /**
   * The gradient of {@link conv2d} with respect to its weight: given the input x and dy, returns dW of shape
   * `shapes.weight` (OIHW).
   */
  conv2dWeightGrad(x: T, dy: T, shapes: Conv2dShapes, options: Conv2dOptions): T;
  /** Nearest-neighbour ×2 upsampling of NCHW input. */
  upsampleNearest2x(x: T): T;
  /** Inverted dropout with probability `rate` when training; identity otherwise. */
  dropout(x: T, rate: number): T;
}

/** Stride and zero padding of {@link Ops.conv2d}: `pads` = [top, left, bottom, right]. */
export interface Conv2dOptions {
  /** Stride along both spatial axes. */
  readonly strides: number;
  /** Zero padding [top, left, bottom, right] (asymmetric allowed). */
  readonly pads: readonly [number, number, number, number];
}

/** Static shapes of a convolution's input (NCHW) and weight (OIHW), as its gradient primitives need them. */
export interface Conv2dShapes {
  /** Input shape [N, C, H, W]. */
  readonly input: readonly number[];
  /** Weight shape [O, C, kH, kW]. */
  readonly weight: readonly number[];
}

/** A graph input declaration: dims are numbers, or strings for dynamic dims (e.g. 'batch'). */
export interface InputSpec {
  /** Input name. */
  readonly name: string;
  /** Element type. */
  readonly dtype: 'float32' | 'int32';
  /** Dimensions; a string names a dynamic dimension. */
  readonly shape: readonly (number | string)[];
}

/**
 * A model function, declared once and compiled by any engine: `build` maps input handles to output handles
 * using only {@link Ops}.
 */
export interface GraphDefinition {
  /** Used in error messages and as the ONNX graph name. */
  readonly name: string;
  /** Input declarations, in feed order. */
  readonly inputs: readonly InputSpec[];
  /** Output names, in the order `build` returns them. */
  readonly outputs: readonly string[];
  /** Builds outputs from inputs. */
  build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>>;
}
