import { ConfigError, EngineUnavailableError, ShapeError } from '@bigr/core';
import type { CompileOptions, Engine, GraphDefinition, NamedTensors } from '@bigr/core';
import { OrtCompiledGraph, firstErrorLine, modelPartsOf, traceGraph, type ModelInterface } from '@bigr/engine-onnx/graph';
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

/** A graph compiled into an onnxruntime-web `InferenceSession` (the shared `OrtCompiledGraph` of `@bigr/engine-onnx/graph`). */
export class OnnxWebCompiledGraph extends OrtCompiledGraph<Ort.Tensor> {
  /** Wraps a session created by `ort` (the module's `Tensor` class builds the feeds); use {@link OnnxWebEngine.compile} instead. */
  constructor(ort: OrtWebModule, session: Ort.InferenceSession, def: ModelInterface) {
    super({ label: 'onnxruntime-web', Tensor: ort.Tensor }, session, def);
  }

  /**
   * Every 25 ms of runs, first yields one macrotask, so pages and workers stay responsive and can cancel (the wasm
   * backend computes synchronously).
   */
  protected override async beforeRun(): Promise<void> {
    await yieldIfDue();
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
  async compileModel(model: Uint8Array, io: ModelInterface, externalData: readonly { path: string; data: Uint8Array }[] = []): Promise<OnnxWebCompiledGraph> {
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
      const msg = firstErrorLine(err);
      if (/wasm|webassembly|fetch|backend/i.test(msg)) {
        throw new EngineUnavailableError(
          `onnxruntime-web could not start its ${this.executionProvider} backend (${msg}). ` +
            `Serve onnxruntime-web's .wasm/.mjs files with the page and set wasmPaths (configureOrtWeb).`,
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
