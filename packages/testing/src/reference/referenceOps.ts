/**
 * A float64 implementation of the core `Ops` interface over {@link F64Array}, built from the naive reference ops.
 * It evaluates any `GraphDefinition` in float64 (eval mode), which separates "the graph is built wrong" from
 * "an engine computes an op wrong": the conformance suite checks graphs on it as well as on the real engines.
 */
import {
  ConfigError,
  NotFoundError,
  ShapeError,
  type Conv2dOptions,
  type Conv2dShapes,
  type CpuTensor,
  type GraphDefinition,
  type NamedTensors,
  type Ops,
} from '@bigr/core';
import * as E from './elementwise.js';
import { matMul } from './matMul.js';
import { f64, fromTensor, type F64Array } from './ndarray.js';
import { conv2d, conv2dInputGrad, conv2dWeightGrad, dropoutEval, gather, scatterAddRows, softmax, upsampleNearest2x } from './nn.js';
import { mean, sum } from './reductions.js';
import { concat, reshape, slice, transpose } from './shapeOps.js';

/** Engine name reported by {@link Float64Ops}. */
export const FLOAT64_REFERENCE_ENGINE = 'float64-reference';

/** `Ops<F64Array>`: every op in float64 with NumPy semantics; `training` is false and dropout is the identity. */
export class Float64Ops implements Ops<F64Array> {
  /** Always {@link FLOAT64_REFERENCE_ENGINE}. */
  readonly engine = FLOAT64_REFERENCE_ENGINE;
  /** Always false (inference). */
  readonly training = false;
  readonly #params: ReadonlyMap<string, F64Array>;
  /** Names of ops called so far (for coverage checks). */
  readonly called = new Set<string>();

  /** Ops over float64 copies of `params`. */
  constructor(params: NamedTensors | ReadonlyMap<string, F64Array>) {
    const p = new Map<string, F64Array>();
    for (const [name, t] of params) p.set(name, fromTensor(t));
    this.#params = p;
  }

  #note(op: string): void {
    this.called.add(op);
  }

  /** A parameter by name. */
  param(name: string): F64Array {
    this.#note('param');
    const p = this.#params.get(name);
    if (!p) throw new NotFoundError(`Float64Ops: parameter "${name}" does not exist; known: ${[...this.#params.keys()].join(', ')}.`);
    return p;
  }
  /** Whether a parameter exists. */
  hasParam(name: string): boolean {
    this.#note('hasParam');
    return this.#params.has(name);
  }
  /** A float constant. */
  constant(data: Float32Array, shape: readonly number[]): F64Array {
    this.#note('constant');
    return f64(data, shape);
  }
  /** An integer constant (stored exactly as float64). */
  constantInt(data: Int32Array, shape: readonly number[]): F64Array {
    this.#note('constantInt');
    return f64(data, shape);
  }
  /** A scalar constant, kept in float64 (engines round it to float32; that is part of their error budget). */
  scalar(value: number): F64Array {
    this.#note('scalar');
    return f64([value], []);
  }
  /** a + b. */
  add(a: F64Array, b: F64Array): F64Array {
    this.#note('add');
    return E.add(a, b);
  }
  /** a − b. */
  sub(a: F64Array, b: F64Array): F64Array {
    this.#note('sub');
    return E.sub(a, b);
  }
  /** a · b. */
  mul(a: F64Array, b: F64Array): F64Array {
    this.#note('mul');
    return E.mul(a, b);
  }
  /** a / b. */
  div(a: F64Array, b: F64Array): F64Array {
    this.#note('div');
    return E.div(a, b);
  }
  /** −x. */
  neg(x: F64Array): F64Array {
    this.#note('neg');
    return E.neg(x);
  }
  /** eˣ. */
  exp(x: F64Array): F64Array {
    this.#note('exp');
    return E.exp(x);
  }
  /** ln x. */
  log(x: F64Array): F64Array {
    this.#note('log');
    return E.log(x);
  }
  /** √x. */
  sqrt(x: F64Array): F64Array {
    this.#note('sqrt');
    return E.sqrt(x);
  }
  /** 1/√x. */
  rsqrt(x: F64Array): F64Array {
    this.#note('rsqrt');
    return E.rsqrt(x);
  }
  /** x². */
  square(x: F64Array): F64Array {
    this.#note('square');
    return E.square(x);
  }
  /** σ(x). */
  sigmoid(x: F64Array): F64Array {
    this.#note('sigmoid');
    return E.sigmoid(x);
  }
  /** x·σ(x). */
  silu(x: F64Array): F64Array {
    this.#note('silu');
    return E.silu(x);
  }
  /** tanh x. */
  tanh(x: F64Array): F64Array {
    this.#note('tanh');
    return E.tanh(x);
  }
  /** max(x, 0). */
  relu(x: F64Array): F64Array {
    this.#note('relu');
    return E.relu(x);
  }
  /** sin x. */
  sin(x: F64Array): F64Array {
    this.#note('sin');
    return E.sin(x);
  }
  /** cos x. */
  cos(x: F64Array): F64Array {
    this.#note('cos');
    return E.cos(x);
  }
  /** Mean over axes. */
  mean(x: F64Array, axes: readonly number[], keepDims: boolean): F64Array {
    this.#note('mean');
    return mean(x, axes, keepDims);
  }
  /** Sum over axes. */
  sum(x: F64Array, axes: readonly number[], keepDims: boolean): F64Array {
    this.#note('sum');
    return sum(x, axes, keepDims);
  }
  /** Reshape. */
  reshape(x: F64Array, shape: readonly number[]): F64Array {
    this.#note('reshape');
    return reshape(x, shape);
  }
  /** Transpose. */
  transpose(x: F64Array, perm: readonly number[]): F64Array {
    this.#note('transpose');
    return transpose(x, perm);
  }
  /** Concat. */
  concat(xs: readonly F64Array[], axis: number): F64Array {
    this.#note('concat');
    return concat(xs, axis);
  }
  /** Slice. */
  slice(x: F64Array, axis: number, start: number, end: number): F64Array {
    this.#note('slice');
    return slice(x, axis, start, end);
  }
  /** Matrix product. */
  matMul(a: F64Array, b: F64Array, transposeA = false, transposeB = false): F64Array {
    this.#note('matMul');
    return matMul(a, b, transposeA, transposeB);
  }
  /** Softmax over the last axis. */
  softmax(x: F64Array): F64Array {
    this.#note('softmax');
    return softmax(x);
  }
  /** Gather rows. */
  gather(table: F64Array, indices: F64Array): F64Array {
    this.#note('gather');
    return gather(table, indices);
  }
  /** 2-D convolution. */
  conv2d(x: F64Array, weight: F64Array, bias: F64Array | null, options: { strides: number; pads: readonly [number, number, number, number] }): F64Array {
    this.#note('conv2d');
    return conv2d(x, weight, bias, options);
  }
  /** Nearest ×2 upsampling. */
  upsampleNearest2x(x: F64Array): F64Array {
    this.#note('upsampleNearest2x');
    return upsampleNearest2x(x);
  }
  /** Identity (eval mode). */
  dropout(x: F64Array, rate: number): F64Array {
    this.#note('dropout');
    return dropoutEval(x, rate);
  }
  /** |x|. */
  abs(x: F64Array): F64Array {
    this.#note('abs');
    return E.abs(x);
  }
  /** max(a, b). */
  maximum(a: F64Array, b: F64Array): F64Array {
    this.#note('maximum');
    return E.maximum(a, b);
  }
  /** [x > 0]. */
  step(x: F64Array): F64Array {
    this.#note('step');
    return E.step(x);
  }
  /** x (a copy). */
  stopGradient(x: F64Array): F64Array {
    this.#note('stopGradient');
    return { data: x.data.slice(), shape: [...x.shape] };
  }
  /** Broadcast to `shape`. */
  broadcastTo(x: F64Array, shape: readonly number[]): F64Array {
    this.#note('broadcastTo');
    return E.broadcastTo(x, shape);
  }
  /** Adjoint of gather. */
  scatterAddRows(updates: F64Array, indices: F64Array, rows: number): F64Array {
    this.#note('scatterAddRows');
    return scatterAddRows(updates, indices, rows);
  }
  /** dx of conv2d. */
  conv2dInputGrad(dy: F64Array, weight: F64Array, shapes: Conv2dShapes, options: Conv2dOptions): F64Array {
    this.#note('conv2dInputGrad');
    return conv2dInputGrad(dy, weight, shapes.input, options);
  }
  /** dW of conv2d. */
  conv2dWeightGrad(x: F64Array, dy: F64Array, shapes: Conv2dShapes, options: Conv2dOptions): F64Array {
    this.#note('conv2dWeightGrad');
    return conv2dWeightGrad(x, dy, shapes.weight, options);
  }
}

/** Result of {@link runReferenceGraph}: float64 outputs and the ops the graph used. */
export interface ReferenceGraphResult {
  /** Outputs by name. */
  readonly outputs: Record<string, F64Array>;
  /** Names of the `Ops` methods the graph called. */
  readonly opsCalled: ReadonlySet<string>;
}

/**
 * Evaluates a graph definition in float64 with {@link Float64Ops}. Feeds are checked against the declared inputs
 * (names, ranks, fixed dimensions); dynamic (string) dimensions accept any size.
 */
export function runReferenceGraph(def: GraphDefinition, params: NamedTensors, feeds: Readonly<Record<string, CpuTensor>>): ReferenceGraphResult {
  const ops = new Float64Ops(params);
  const inputs: Record<string, F64Array> = {};
  for (const spec of def.inputs) {
    const t = feeds[spec.name];
    if (!t) throw new ConfigError(`runReferenceGraph: graph "${def.name}" needs a feed for input "${spec.name}".`);
    const ok = t.shape.length === spec.shape.length && spec.shape.every((d, i) => typeof d === 'string' || d === t.shape[i]);
    if (!ok) throw new ShapeError(`runReferenceGraph: feed "${spec.name}" has shape [${t.shape.join(', ')}] but [${spec.shape.join(', ')}] is declared.`);
    inputs[spec.name] = fromTensor(t);
  }
  const built = def.build(ops, inputs);
  const outputs: Record<string, F64Array> = {};
  for (const name of def.outputs) {
    const v = built[name];
    if (!v) throw new ConfigError(`runReferenceGraph: graph "${def.name}" did not return output "${name}".`);
    outputs[name] = v;
  }
  return { outputs, opsCalled: ops.called };
}
