import { CpuTensor, type Conv2dOptions, type Conv2dShapes, type Ops } from '@bigr/core';

/**
 * `Ops<number>` that builds nothing: it only writes down the sequence of calls (op, operand ids, attributes, constant
 * shapes, scalar values) and keeps the data of parameters and constants in the order a feed-mode {@link OnnxOps} would
 * feed them. Running a loss function on a tape over these ops is much cheaper than building its graph, and two runs
 * with equal signatures build identical graphs, so the ONNX training engine uses the signature as the cache key of
 * its compiled train-step graphs and these feeds as their inputs (docs/engines.md).
 */
export class SignatureOps implements Ops<number> {
  /** Engine identifier. */
  readonly engine = 'onnx';
  /** The ops themselves never drop out (the tape draws dropout masks). */
  readonly training = false;
  /** The data to feed, in feed order. */
  readonly feeds: CpuTensor[] = [];
  readonly #params: ReadonlyMap<string, CpuTensor>;
  readonly #calls: string[] = [];
  #next = 0;

  /** Records calls over `params` (every parameter is fed). */
  constructor(params: ReadonlyMap<string, CpuTensor>) {
    this.#params = params;
  }

  /** The call sequence so far, as one string. */
  signature(): string {
    return this.#calls.join('\n');
  }

  #op(text: string): number {
    const id = this.#next++;
    this.#calls.push(`${id}=${text}`);
    return id;
  }

  /** Parameter. */
  param(name: string): number {
    const t = this.#params.get(name);
    if (t) this.feeds.push(t);
    return this.#op(`param ${name}`);
  }
  /** Whether a parameter exists. */
  hasParam(name: string): boolean {
    return this.#params.has(name);
  }
  /** Float constant (fed). */
  constant(data: Float32Array, shape: readonly number[]): number {
    this.feeds.push(new CpuTensor(data, shape));
    return this.#op(`constant [${shape.join(',')}]`);
  }
  /** Int constant (fed). */
  constantInt(data: Int32Array, shape: readonly number[]): number {
    this.feeds.push(new CpuTensor(data, shape));
    return this.#op(`constantInt [${shape.join(',')}]`);
  }
  /** Scalar (part of the graph). */
  scalar(value: number): number {
    return this.#op(`scalar ${Object.is(value, -0) ? '-0' : String(value)}`);
  }
  add(a: number, b: number): number {
    return this.#op(`add ${a} ${b}`);
  }
  sub(a: number, b: number): number {
    return this.#op(`sub ${a} ${b}`);
  }
  mul(a: number, b: number): number {
    return this.#op(`mul ${a} ${b}`);
  }
  div(a: number, b: number): number {
    return this.#op(`div ${a} ${b}`);
  }
  maximum(a: number, b: number): number {
    return this.#op(`maximum ${a} ${b}`);
  }
  neg(x: number): number {
    return this.#op(`neg ${x}`);
  }
  exp(x: number): number {
    return this.#op(`exp ${x}`);
  }
  log(x: number): number {
    return this.#op(`log ${x}`);
  }
  sqrt(x: number): number {
    return this.#op(`sqrt ${x}`);
  }
  rsqrt(x: number): number {
    return this.#op(`rsqrt ${x}`);
  }
  square(x: number): number {
    return this.#op(`square ${x}`);
  }
  sigmoid(x: number): number {
    return this.#op(`sigmoid ${x}`);
  }
  silu(x: number): number {
    return this.#op(`silu ${x}`);
  }
  tanh(x: number): number {
    return this.#op(`tanh ${x}`);
  }
  relu(x: number): number {
    return this.#op(`relu ${x}`);
  }
  sin(x: number): number {
    return this.#op(`sin ${x}`);
  }
  cos(x: number): number {
    return this.#op(`cos ${x}`);
  }
  abs(x: number): number {
    return this.#op(`abs ${x}`);
  }
  step(x: number): number {
    return this.#op(`step ${x}`);
  }
  stopGradient(x: number): number {
    return this.#op(`stopGradient ${x}`);
  }
  broadcastTo(x: number, shape: readonly number[]): number {
    return this.#op(`broadcastTo ${x} [${shape.join(',')}]`);
  }
  mean(x: number, axes: readonly number[], keepDims: boolean): number {
    return this.#op(`mean ${x} [${axes.join(',')}] ${keepDims}`);
  }
  sum(x: number, axes: readonly number[], keepDims: boolean): number {
    return this.#op(`sum ${x} [${axes.join(',')}] ${keepDims}`);
  }
  reshape(x: number, shape: readonly number[]): number {
    return this.#op(`reshape ${x} [${shape.join(',')}]`);
  }
  transpose(x: number, perm: readonly number[]): number {
    return this.#op(`transpose ${x} [${perm.join(',')}]`);
  }
  concat(xs: readonly number[], axis: number): number {
    return this.#op(`concat [${xs.join(',')}] ${axis}`);
  }
  slice(x: number, axis: number, start: number, end: number): number {
    return this.#op(`slice ${x} ${axis} ${start} ${end}`);
  }
  matMul(a: number, b: number, transposeA = false, transposeB = false): number {
    return this.#op(`matMul ${a} ${b} ${transposeA} ${transposeB}`);
  }
  softmax(x: number): number {
    return this.#op(`softmax ${x}`);
  }
  gather(table: number, indices: number): number {
    return this.#op(`gather ${table} ${indices}`);
  }
  scatterAddRows(updates: number, indices: number, rows: number): number {
    return this.#op(`scatterAddRows ${updates} ${indices} ${rows}`);
  }
  conv2d(x: number, weight: number, bias: number | null, options: Conv2dOptions): number {
    return this.#op(`conv2d ${x} ${weight} ${bias} ${options.strides} [${options.pads.join(',')}]`);
  }
  conv2dInputGrad(dy: number, weight: number, shapes: Conv2dShapes, options: Conv2dOptions): number {
    return this.#op(`conv2dInputGrad ${dy} ${weight} [${shapes.input.join(',')}] [${shapes.weight.join(',')}] ${options.strides} [${options.pads.join(',')}]`);
  }
  conv2dWeightGrad(x: number, dy: number, shapes: Conv2dShapes, options: Conv2dOptions): number {
    return this.#op(`conv2dWeightGrad ${x} ${dy} [${shapes.input.join(',')}] [${shapes.weight.join(',')}] ${options.strides} [${options.pads.join(',')}]`);
  }
  upsampleNearest2x(x: number): number {
    return this.#op(`upsampleNearest2x ${x}`);
  }
  dropout(x: number, rate: number): number {
    return this.#op(`dropout ${x} ${rate}`);
  }
}
