import { ConfigError, CpuTensor, EngineUnavailableError, FormatError, ShapeError } from '@bigr/core';
import type { CompiledGraph, CompileOptions, Engine, GraphDefinition, InputSpec, NamedTensors, Tensor } from '@bigr/core';
import { checkFeeds, modelPartsOf, traceGraph } from '@bigr/engine-onnx/graph';
import type * as Ort from 'onnxruntime-web';
import { ortWeb, ortWebGpu, type OrtWebModule } from './webRuntime.js';
import { yieldIfDue } from './yieldToEventLoop.js';

/** Execution provider of an {@link OnnxWebEngine}. */
export type WebExecutionProvider = 'wasm' | 'webgpu';

/** Options of an {@link OnnxWebEngine}. */
export interface OnnxWebEngineOptions {
  /** Engine name; default 'onnx-web-wasm' or 'onnx-web-webgpu'. */
  readonly name?: string;
  /** 'wasm' (default; SIMD, threads when cross-origin isolated) or 'webgpu' (falls back to wasm per node). */
  readonly executionProvider?: WebExecutionProvider;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

function toOrt(ort: OrtWebModule, t: Tensor): Ort.Tensor {
  const dims = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', t.data as Float32Array, dims);
    case 'int32':
      return new ort.Tensor('int32', t.data as Int32Array, dims);
    case 'uint8':
      return new ort.Tensor('uint8', t.data as Uint8Array, dims);
    case 'float64':
      return new ort.Tensor('float64', t.data as Float64Array, dims);
    default:
      throw new ShapeError(`Unsupported tensor dtype ${String(t.dtype)}; use float32, int32, uint8 or float64.`);
  }
}

function fromOrt(value: Ort.Tensor, name: string): CpuTensor {
  if (value.location !== 'cpu') throw new FormatError(`Output "${name}" lives on ${value.location}, not the CPU; request CPU outputs from onnxruntime-web.`);
  const dims = value.dims;
  switch (value.type) {
    case 'float32':
    case 'int32':
    case 'uint8':
    case 'float64':
      return new CpuTensor(value.data as Float32Array | Int32Array | Uint8Array | Float64Array, dims);
    case 'bool':
      return new CpuTensor(new Uint8Array((value.data as Uint8Array).buffer, (value.data as Uint8Array).byteOffset, value.size), dims);
    case 'int64': {
      const src = value.data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new FormatError(`Output "${name}" holds int64 value ${v}, which does not fit in int32.`);
        out[i] = Number(v);
      }
      return new CpuTensor(out, dims);
    }
    default:
      throw new FormatError(`Output "${name}" has onnxruntime type ${value.type}; only float32, float64, int32, int64, uint8 and bool outputs are supported.`);
  }
}

/** A graph compiled into an onnxruntime-web `InferenceSession`. */
export class OnnxWebCompiledGraph implements CompiledGraph {
  /** Input names in declaration order. */
  readonly inputNames: readonly string[];
  /** Output names in declaration order. */
  readonly outputNames: readonly string[];
  /** Graph name. */
  readonly graphName: string;
  readonly #inputs: readonly InputSpec[];
  readonly #ort: OrtWebModule;
  #session: Ort.InferenceSession | null;

  /** Wraps a session created by `ort` (the module's `Tensor` class builds the feeds); use {@link OnnxWebEngine.compile} instead. */
  constructor(ort: OrtWebModule, session: Ort.InferenceSession, def: Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>) {
    this.#ort = ort;
    this.#session = session;
    this.#inputs = def.inputs;
    this.graphName = def.name;
    this.inputNames = Object.freeze(def.inputs.map((s) => s.name));
    this.outputNames = Object.freeze([...def.outputs]);
  }

  /**
   * Runs the session; feeds are checked against the declared inputs first (see `checkFeeds`). Every 25 ms of runs it
   * first yields one macrotask, so pages and workers stay responsive and can cancel.
   */
  async run(feeds: Readonly<Record<string, CpuTensor>>): Promise<Record<string, CpuTensor>> {
    const session = this.#session;
    if (session === null) throw new ConfigError(`Graph "${this.graphName}" was disposed; compile it again to run it.`);
    checkFeeds(this.graphName, this.#inputs, feeds);
    const ort = this.#ort;
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const name of this.inputNames) ortFeeds[name] = toOrt(ort, feeds[name]!);
    // Let the event loop deliver messages and abort requests between runs (the wasm backend computes synchronously).
    await yieldIfDue();
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await session.run(ortFeeds);
    } catch (err) {
      throw new ShapeError(
        `onnxruntime-web failed to run graph "${this.graphName}": ${firstLine(err)}. Check the feed shapes against the model configuration.`,
        { cause: err },
      );
    }
    const out: Record<string, CpuTensor> = {};
    for (const name of this.outputNames) out[name] = fromOrt(results[name] as Ort.Tensor, name);
    return out;
  }

  /** Releases the session. Idempotent. */
  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = null;
    if (session) await session.release();
  }
}

/**
 * Inference engine on onnxruntime-web: `compile` traces the graph definition with the same graph builder as
 * `OnnxEngine` of `@bigr/engine-onnx` (`traceGraph` of `@bigr/engine-onnx/graph`, opset 17) and creates a browser
 * session on the wasm backend (SIMD; threads as set by `configureOrtWeb`) or WebGPU. Cannot train. Weights must fit
 * in one in-memory model (protobuf's 2 GiB limit).
 */
export class OnnxWebEngine implements Engine {
  /** Engine name. */
  readonly name: string;
  /** Inference only. */
  readonly canTrain = false;
  /** The execution provider of every session. */
  readonly executionProvider: WebExecutionProvider;

  /** An engine; onnxruntime-web is initialised on the first compile. */
  constructor(options: OnnxWebEngineOptions = {}) {
    const ep = options.executionProvider ?? 'wasm';
    if (ep !== 'wasm' && ep !== 'webgpu') throw new ConfigError(`executionProvider is ${JSON.stringify(ep)}; use 'wasm' or 'webgpu'.`);
    this.executionProvider = ep;
    this.name = options.name ?? `onnx-web-${ep}`;
  }

  /** Builds the ONNX model of `def` with `params` in memory and creates a session for it. `options.threads` is ignored (see `configureOrtWeb`). */
  async compile(def: GraphDefinition, params: NamedTensors, _options?: CompileOptions): Promise<OnnxWebCompiledGraph> {
    const parts = modelPartsOf(traceGraph(def, params));
    return this.compileModel(parts.model, def, parts.externalData);
  }

  /**
   * Creates a session from serialised ONNX model bytes (and in-memory external data, for weights above 1 GiB) whose
   * inputs and outputs are described by `io`.
   */
  async compileModel(
    model: Uint8Array,
    io: Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>,
    externalData: readonly { path: string; data: Uint8Array }[] = [],
  ): Promise<OnnxWebCompiledGraph> {
    const ort = this.executionProvider === 'webgpu' ? await ortWebGpu() : ortWeb();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model, {
        executionProviders: this.executionProvider === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        logSeverityLevel: 3,
        ...(externalData.length ? { externalData: externalData.map((e) => ({ path: e.path, data: e.data })) } : {}),
      });
    } catch (err) {
      const msg = firstLine(err);
      if (/wasm|webassembly|fetch|backend/i.test(msg)) {
        throw new EngineUnavailableError(
          `onnxruntime-web could not start its ${this.executionProvider} backend (${msg}). Serve onnxruntime-web's .wasm/.mjs files with the page and set wasmPaths (configureOrtWeb).`,
          { cause: err },
        );
      }
      throw new ShapeError(
        `onnxruntime-web rejected graph "${io.name}" (${this.name}): ${msg}. This usually means parameter shapes do not match the model configuration.`,
        { cause: err },
      );
    }
    return new OnnxWebCompiledGraph(ort, session, io);
  }
}
