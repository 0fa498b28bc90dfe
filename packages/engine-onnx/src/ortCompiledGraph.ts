/**
 * A graph compiled into an onnxruntime `InferenceSession`, for onnxruntime-node (`OnnxCompiledGraph`) and
 * onnxruntime-web (`OnnxWebCompiledGraph`): feeds are checked against the declared inputs, passed without copying,
 * and outputs come back as CPU tensors. Runtime-neutral (part of the `@bigr/engine-onnx/graph` entry).
 */
import { ConfigError, ShapeError, required } from '@bigr/core';
import type { CompiledGraph, CpuTensor, GraphDefinition, InputSpec } from '@bigr/core';
import { checkFeeds } from './feedCheck.js';
import { fromOrtTensor, toOrtTensor, type OrtTensorClass, type OrtTensorLike } from './tensorConvert.js';

/** Interface description of a model: name, inputs and outputs. */
export type ModelInterface = Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>;

/** The part of an onnxruntime `InferenceSession` a compiled graph uses. */
export interface OrtSessionLike<T> {
  /** Runs the model on `feeds`. */
  run(feeds: Record<string, T>): Promise<Readonly<Record<string, OrtTensorLike>>>;
  /** Releases the session. */
  release(): Promise<void>;
}

/** What {@link OrtCompiledGraph} needs of its runtime. */
export interface OrtRuntime<T> {
  /** Name in error messages ('onnxruntime', 'onnxruntime-web'). */
  readonly label: string;
  /** The runtime's `Tensor` class, which builds the feeds. */
  readonly Tensor: OrtTensorClass<T>;
}

/** The first line of an error's message (onnxruntime's messages continue with a native stack). */
export function firstErrorLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0] ?? '';
}

/** A graph compiled into an onnxruntime session of either runtime. */
export class OrtCompiledGraph<T> implements CompiledGraph {
  /** Input names in declaration order. */
  readonly inputNames: readonly string[];
  /** Output names in declaration order. */
  readonly outputNames: readonly string[];
  /** Graph name. */
  readonly graphName: string;
  readonly #runtime: OrtRuntime<T>;
  readonly #inputs: readonly InputSpec[];
  #session: OrtSessionLike<T> | null;
  #cleanup: (() => Promise<void>) | undefined;

  /** Wraps a created session; `cleanup` (e.g. removing temporary model files) runs once, on {@link dispose}. */
  constructor(runtime: OrtRuntime<T>, session: OrtSessionLike<T>, def: ModelInterface, cleanup?: () => Promise<void>) {
    this.#runtime = runtime;
    this.#session = session;
    this.#cleanup = cleanup;
    this.#inputs = def.inputs;
    this.graphName = def.name;
    this.inputNames = Object.freeze(def.inputs.map((s) => s.name));
    this.outputNames = Object.freeze([...def.outputs]);
  }

  /** Runs before every session run, after the feeds are checked (the browser engine yields to the event loop here). */
  protected beforeRun(): Promise<void> | void {}

  /** Runs the session. Feeds are validated (names, dtypes, ranks, fixed and shared dynamic dims, see `checkFeeds`) and passed without copying. */
  async run(feeds: Readonly<Record<string, CpuTensor>>): Promise<Record<string, CpuTensor>> {
    const session = this.#session;
    if (session === null) throw new ConfigError(`Graph "${this.graphName}" was disposed; compile it again to run it.`);
    checkFeeds(this.graphName, this.#inputs, feeds);
    const ortFeeds: Record<string, T> = {};
    for (const name of this.inputNames) ortFeeds[name] = toOrtTensor(this.#runtime, required(feeds[name], `feed "${name}"`));
    await this.beforeRun();
    let results: Readonly<Record<string, OrtTensorLike>>;
    try {
      results = await session.run(ortFeeds);
    } catch (err) {
      throw new ShapeError(
        `${this.#runtime.label} failed to run graph "${this.graphName}": ${firstErrorLine(err)}. Check the feed shapes against the model configuration.`,
        { cause: err },
      );
    }
    const out: Record<string, CpuTensor> = {};
    for (const name of this.outputNames) out[name] = fromOrtTensor(required(results[name], `output "${name}"`), name);
    return out;
  }

  /** Releases the session and runs the cleanup, if any. Idempotent. */
  async dispose(): Promise<void> {
    const session = this.#session;
    const cleanup = this.#cleanup;
    this.#session = null;
    this.#cleanup = undefined;
    try {
      if (session) await session.release();
    } finally {
      if (cleanup) await cleanup();
    }
  }
}
