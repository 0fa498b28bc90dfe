import { createHash } from 'node:crypto';
import {
  ConfigError,
  CpuTensor,
  ShapeError,
  TapeOps,
  at,
  checkAssignment,
  completeGradients,
  createRng,
  getOrThrow,
  lossGradients,
  required,
  type CompileOptions,
  type GradientResult,
  type GraphDefinition,
  type LossFunction,
  type NamedTensors,
  type ParameterSignature,
  type Rng,
  type TrainableParameters,
} from '@bigr/core';
import { OnnxGraphBuilder } from './graphBuilder.js';
import type { OnnxCompiledGraph, OnnxEngine } from './onnxEngine.js';
import { OnnxOps } from './onnxOps.js';
import { SignatureOps } from './stepSignature.js';
import type { OnnxValue } from './onnxValue.js';

/** A traced step graph: the builder, what to feed and what comes out. */
interface TracedStep {
  readonly builder: OnnxGraphBuilder;
  readonly ops: OnnxOps;
  readonly outputs: readonly string[];
}

/** Compiled graphs kept per trainable set (a new batch size or mask count compiles a new graph). */
const MAX_CACHED_GRAPHS = 6;

/**
 * Trainable parameters on onnxruntime. Each {@link gradients} call traces the loss function on a tape over the
 * graph-emitting {@link OnnxOps} (feed mode), appends the backward pass built from the VJP rules of @bigr/core, and
 * runs the resulting train-step graph: parameters and batch data are graph inputs, loss, metrics and gradients
 * are outputs. Graphs are cached by structure, so a training run compiles once per distinct shape and reruns the
 * same session with new feeds. Parameter values live on the CPU (the optimiser in @bigr/core updates them).
 * See docs/engines.md.
 */
export class OnnxTrainableParameters implements TrainableParameters {
  /** Parameter names, in the order they were given. */
  readonly names: readonly string[];
  readonly #engine: OnnxEngine;
  readonly #compileOptions: CompileOptions;
  readonly #values = new Map<string, CpuTensor>();
  readonly #signatures = new Map<string, ParameterSignature>();
  readonly #graphs = new Map<string, Promise<OnnxCompiledGraph>>();
  readonly #steps = new Map<string, { feedNames: string[]; gradNames: string[]; metricNames: readonly string[] }>();
  #compiles = 0;
  #disposed = false;

  /** Copies `params` (float32 or int32) onto the CPU side of the engine. */
  constructor(engine: OnnxEngine, params: NamedTensors, compileOptions: CompileOptions = {}) {
    this.#engine = engine;
    this.#compileOptions = compileOptions;
    this.names = Object.freeze([...params.keys()]);
    for (const [name, t] of params) {
      if (t.dtype !== 'float32' && t.dtype !== 'int32') {
        throw new ShapeError(`Trainable parameter "${name}" has dtype ${t.dtype}; use float32 (or int32 for index tables).`);
      }
      const data = t.dtype === 'float32' ? Float32Array.from(t.data as Float32Array) : Int32Array.from(t.data as Int32Array);
      this.#values.set(name, new CpuTensor(data, [...t.shape]));
      this.#signatures.set(name, { shape: [...t.shape], dtype: t.dtype });
    }
  }

  /** How many distinct graphs have been compiled so far (one per batch shape in a normal run). */
  get compiledGraphs(): number {
    return this.#compiles;
  }

  #check(): void {
    if (this.#disposed) throw new ConfigError('These trainable parameters were disposed; create new ones with engine.createTrainable().');
  }

  /** Compiles (or reuses) the session of a traced graph, keyed by `key` (default: its serialised bytes). */
  async #session(step: TracedStep, key?: string): Promise<OnnxCompiledGraph> {
    const bytes = step.builder.serialize();
    const k = key ?? createHash('sha256').update(bytes).digest('hex');
    let graph = this.#graphs.get(k);
    if (graph) {
      this.#graphs.delete(k);
      this.#graphs.set(k, graph); // most recently used last
      return graph;
    }
    const inputs = step.ops.feeds.map((f) => ({
      name: f.name,
      dtype: f.tensor.dtype === 'int32' ? ('int32' as const) : ('float32' as const),
      shape: [...f.tensor.shape],
    }));
    graph = this.#engine.compileModel(bytes, { name: step.builder.graphName, inputs, outputs: step.outputs }, this.#compileOptions);
    this.#graphs.set(k, graph);
    this.#compiles++;
    while (this.#graphs.size > MAX_CACHED_GRAPHS) {
      const [oldest, old] = this.#graphs.entries().next().value as [string, Promise<OnnxCompiledGraph>];
      this.#graphs.delete(oldest);
      this.#steps.delete(oldest);
      void old.then((g) => g.dispose()).catch(() => undefined);
    }
    try {
      return await graph;
    } catch (err) {
      this.#graphs.delete(k);
      throw err;
    }
  }

  async #run(step: TracedStep): Promise<Record<string, CpuTensor>> {
    const graph = await this.#session(step);
    const feeds: Record<string, CpuTensor> = {};
    for (const f of step.ops.feeds) feeds[f.name] = f.tensor;
    return graph.run(feeds);
  }

  /** Builds the train-step graph of `loss` (forward, loss, backward) with feed-mode ops. */
  #traceStep(loss: LossFunction, rng: Rng, metricNames: readonly string[]): { step: TracedStep; gradNames: string[] } {
    const builder = new OnnxGraphBuilder('bigr_train_step');
    const ops = new OnnxOps(builder, this.#values, { feedMode: true });
    const traced = lossGradients<OnnxValue>(ops, this.#signatures, loss, { rng });
    const outputs = ['loss'];
    builder.addOutput('loss', traced.loss);
    metricNames.forEach((k, i) => {
      builder.addOutput(`metric_${i}`, required(traced.metrics[k], `traced metric "${k}"`));
      outputs.push(`metric_${i}`);
    });
    const gradNames: string[] = [];
    for (const [name, g] of traced.grads) {
      if (g === null) continue;
      builder.addOutput(`grad_${gradNames.length}`, g);
      outputs.push(`grad_${gradNames.length}`);
      gradNames.push(name);
    }
    return { step: { builder, ops, outputs }, gradNames };
  }

  /**
   * Loss, metrics and d loss / d parameter from one train-step graph on onnxruntime; dropout masks come from `rng`
   * (drawn on the CPU in the same order as on the tfjs engine). Parameters the loss does not use get zeros.
   *
   * The loss function first runs on a tape over {@link SignatureOps}, which only records the call sequence and the
   * data to feed (cheap); a graph compiled for an equal sequence is reused with the new feeds. Only a new sequence
   * (the first step, another batch shape) builds and compiles the graph.
   */
  async gradients(loss: LossFunction, rng: Rng): Promise<GradientResult> {
    this.#check();
    const sig = new SignatureOps(this.#values);
    const out = loss(new TapeOps(sig, { parameters: this.#signatures, rng }));
    const metricEntries = Object.entries(out.metrics ?? {});
    const metricNames = metricEntries.map(([k]) => k);
    const key = `${sig.signature()}\nloss ${(out.loss as unknown as { id: number }).id}\nmetrics ${metricEntries
      .map(([k, v]) => `${k}:${(v as unknown as { id: number }).id}`)
      .join(',')}`;
    let cached = this.#steps.get(key);
    if (!cached || !this.#graphs.has(key)) {
      // Structure only: the dropout masks drawn while tracing are not fed (the signature pass holds the real ones).
      const { step, gradNames } = this.#traceStep(loss, createRng('bigr-onnx-trace'), metricNames);
      if (step.ops.feeds.length !== sig.feeds.length) {
        throw new ShapeError(`Internal error: the train-step graph has ${step.ops.feeds.length} inputs but the loss recorded ${sig.feeds.length} feeds.`);
      }
      cached = { feedNames: step.ops.feeds.map((f) => f.name), gradNames, metricNames };
      await this.#session(step, key);
      this.#steps.set(key, cached);
    }
    const graph = await getOrThrow(this.#graphs, key, 'compiled train step');
    const feeds: Record<string, CpuTensor> = {};
    // An equal signature records the same feeds in the same order as the traced graph's inputs.
    cached.feedNames.forEach((name, i) => {
      feeds[name] = at(sig.feeds, i, 'recorded feed');
    });
    const result = await graph.run(feeds);
    const output = (name: string): CpuTensor => required(result[name], `train-step output "${name}"`);
    const metrics: Record<string, number> = {};
    cached.metricNames.forEach((k, i) => {
      metrics[k] = at(output(`metric_${i}`).data, 0, `metric "${k}"`);
    });
    const grads = new Map<string, Float32Array>();
    cached.gradNames.forEach((name, i) => {
      grads.set(name, output(`grad_${i}`).data as Float32Array);
    });
    return { loss: at(output('loss').data, 0, 'loss'), grads: completeGradients(this.#values, grads), metrics };
  }

  /** Runs `fn` on the current parameter values (parameters are fed, so no recompilation after updates). */
  async evaluate(
    fn: GraphDefinition,
    feeds: Readonly<Record<string, CpuTensor>>,
    options: { training?: boolean; rng?: Rng } = {},
  ): Promise<Record<string, CpuTensor>> {
    this.#check();
    if (options.training) {
      throw new ConfigError(
        'evaluate({ training: true }) is not supported on onnxruntime (dropout masks are drawn by the training tape); evaluate in eval mode.',
      );
    }
    const builder = new OnnxGraphBuilder(fn.name);
    const ops = new OnnxOps(builder, this.#values, { feedMode: true });
    const inputs: Record<string, OnnxValue> = {};
    for (const spec of fn.inputs) {
      const t = feeds[spec.name];
      if (!t) throw new ConfigError(`evaluate: graph "${fn.name}" needs feed "${spec.name}"; pass it in feeds.`);
      inputs[spec.name] =
        t.dtype === 'int32' ? ops.constantInt(t.data as Int32Array, t.shape) : ops.constant(Float32Array.from(t.data as ArrayLike<number>), t.shape);
    }
    const built = fn.build<OnnxValue>(ops, inputs);
    for (const name of fn.outputs) {
      const v = built[name];
      if (!v) throw new ConfigError(`Graph "${fn.name}" declares output "${name}" but build() did not return it.`);
      builder.addOutput(name, v);
    }
    return this.#run({ builder, ops, outputs: fn.outputs });
  }

  /** Overwrites parameter values; each array must have the parameter's element count. */
  assign(values: ReadonlyMap<string, Float32Array>): void {
    this.#check();
    checkAssignment(values, this.#values);
    for (const [name, data] of values) {
      const t = getOrThrow(this.#values, name, 'parameter (checked by checkAssignment)');
      if (t.dtype === 'float32') (t.data as Float32Array).set(data);
      else (t.data as Int32Array).set(Int32Array.from(data, (x) => Math.round(x)));
    }
  }

  /** Copies of the current values. */
  read(): NamedTensors {
    this.#check();
    const out: NamedTensors = new Map();
    for (const [name, t] of this.#values)
      out.set(name, new CpuTensor(t.dtype === 'int32' ? Int32Array.from(t.data as Int32Array) : Float32Array.from(t.data as Float32Array), [...t.shape]));
    return out;
  }

  /** Releases every compiled session. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const g of this.#graphs.values()) void g.then((x) => x.dispose()).catch(() => undefined);
    this.#graphs.clear();
    this.#steps.clear();
    this.#values.clear();
  }
}
