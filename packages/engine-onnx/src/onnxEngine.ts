import { availableParallelism } from 'node:os';
import { ConfigError, ShapeError } from '@bigr/core';
import type { CompileOptions, Engine, GraphDefinition, NamedTensors } from '@bigr/core';
import type * as Ort from 'onnxruntime-node';
import { modelPartsOf, traceGraph } from './buildModel.js';
import type { OnnxModelParts } from './buildModel.js';
import { externalDataMinBytes, useExternalData } from './externalData.js';
import type { ExternalDataOptions } from './externalData.js';
import { checkExternalData } from './externalDataCheck.js';
import { loadOrt } from './ortRuntime.js';
import { writeTempModel } from './tempModelFiles.js';
import type { OrtModule } from './ortRuntime.js';
import { OrtCompiledGraph, firstErrorLine, type ModelInterface } from './ortCompiledGraph.js';
import { OnnxTrainableParameters } from './onnxTrainable.js';

/**
 * Options of an {@link OnnxEngine}. `externalData` / `externalDataThreshold` / `externalDataMinBytes` decide
 * when `compile` stores the weights as ONNX external data (default: when they total more than 1 GiB), which
 * lifts protobuf's 2 GiB model limit.
 */
export interface OnnxEngineOptions extends ExternalDataOptions {
  /** Engine name reported by {@link OnnxEngine.name}; default 'onnx-cpu'. */
  readonly name?: string;
  /** onnxruntime execution providers in preference order; default ['cpu']. */
  readonly executionProviders?: readonly string[];
  /** onnxruntime session log severity (0 verbose … 4 fatal); default 3 (errors only). */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * Where `compile` puts external data. 'tempfile' (default): streams the weights tensor by tensor into
   * `model.onnx.data` in a private directory under `tempDirectory` and loads the model from its path
   * (peak memory: the parameters plus onnxruntime's copy; the directory is removed once the session exists,
   * at the latest on dispose). 'memory': hands the weights to onnxruntime as in-memory external data
   * (no disk use, but transposed weights are all computed at once, so the peak is higher).
   */
  readonly externalDataStorage?: 'tempfile' | 'memory';
  /** Parent of the 'tempfile' directories; default the OS temp directory. Use a disk, not a RAM-backed tmpfs. */
  readonly tempDirectory?: string;
}

/** A graph compiled into an onnxruntime-node `InferenceSession` (the shared {@link OrtCompiledGraph}). */
export class OnnxCompiledGraph extends OrtCompiledGraph<Ort.Tensor> {
  /**
   * Wraps a created session; use {@link OnnxEngine.compile} instead. `cleanup` (e.g. removing temporary
   * model files) runs once, on {@link OrtCompiledGraph.dispose}.
   */
  constructor(ort: OrtModule, session: Ort.InferenceSession, def: ModelInterface, cleanup?: () => Promise<void>) {
    super({ label: 'onnxruntime', Tensor: ort.Tensor }, session, def, cleanup);
  }
}

/**
 * The default intra-op thread count: the `BIGR_THREADS` environment variable when set, else every available core
 * (`os.availableParallelism()`).
 */
export function defaultThreadCount(): number {
  const env = process.env['BIGR_THREADS'];
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      throw new ConfigError(
        `BIGR_THREADS=${JSON.stringify(env)} is invalid; set it to a whole number of threads >= 1, or unset it to use every core (${availableParallelism()}).`,
      );
    }
    return n;
  }
  return availableParallelism();
}

/** Validates `threads` (default {@link defaultThreadCount}). */
function threadCount(options: CompileOptions | undefined): number {
  const threads = options?.threads ?? defaultThreadCount();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new ConfigError(`threads = ${threads} is invalid; use a whole number >= 1 (default: BIGR_THREADS or every core, ${availableParallelism()} here).`);
  }
  return threads;
}

/**
 * Inference engine on onnxruntime-node: `compile` traces the graph definition into an ONNX model
 * ({@link buildOnnxModel}) and creates an `InferenceSession` (intra-op threads from `options.threads`,
 * default `BIGR_THREADS` or every core; one inter-op thread; all graph optimisations). `createTrainable` trains on
 * train-step graphs (forward, loss and backward in one onnxruntime session). Weights totalling more than
 * `externalDataThreshold` (1 GiB) are passed as ONNX external data (see {@link OnnxEngineOptions}), so
 * models beyond protobuf's 2 GiB limit run. Cannot train.
 */
export class OnnxEngine implements Engine {
  /** Engine name ('onnx-cpu' by default). */
  readonly name: string;
  /** Trains through train-step graphs built by reverse-mode autodiff over the shared layer definitions. */
  readonly canTrain = true;
  /** Execution providers passed to every session. */
  readonly executionProviders: readonly string[];
  readonly #logSeverityLevel: 0 | 1 | 2 | 3 | 4;
  readonly #external: ExternalDataOptions;
  readonly #storage: 'tempfile' | 'memory';
  readonly #tempDirectory: string | undefined;

  /** An engine; onnxruntime-node is loaded on the first compile. Invalid external-data options throw {@link ConfigError}. */
  constructor(options: OnnxEngineOptions = {}) {
    this.name = options.name ?? 'onnx-cpu';
    this.executionProviders = Object.freeze([...(options.executionProviders ?? ['cpu'])]);
    this.#logSeverityLevel = options.logSeverityLevel ?? 3;
    const { externalData, externalDataThreshold, externalDataMinBytes: minBytes } = options;
    this.#external = { externalData, externalDataThreshold, externalDataMinBytes: minBytes };
    useExternalData(0, this.#external);
    const storage = options.externalDataStorage ?? 'tempfile';
    if (storage !== 'tempfile' && storage !== 'memory') {
      throw new ConfigError(`externalDataStorage = ${JSON.stringify(storage)} is invalid; use 'tempfile' (default) or 'memory'.`);
    }
    this.#storage = storage;
    this.#tempDirectory = options.tempDirectory;
  }

  /**
   * Trainable parameters whose gradients come from onnxruntime train-step graphs ({@link OnnxTrainableParameters});
   * `options.threads` sets the sessions' intra-op threads (default every core).
   */
  async createTrainable(params: NamedTensors, options?: CompileOptions): Promise<OnnxTrainableParameters> {
    threadCount(options);
    return new OnnxTrainableParameters(this, params, options ?? {});
  }

  /** Session options for `threads` intra-op threads. */
  sessionOptions(options?: CompileOptions): Ort.InferenceSession.SessionOptions {
    return {
      executionProviders: [...this.executionProviders],
      intraOpNumThreads: threadCount(options),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: this.#logSeverityLevel,
      // Development aid: BIGR_ORT_PROFILE=<path prefix> writes onnxruntime's per-node profile when a session ends.
      ...(process.env['BIGR_ORT_PROFILE'] ? { enableProfiling: true, profileFilePrefix: process.env['BIGR_ORT_PROFILE'] } : {}),
    };
  }

  /**
   * Builds the ONNX model of `def` with `params` and creates a session for it: inline below the external-data
   * threshold, else with the weights as external data (a temporary file or memory, see {@link OnnxEngineOptions}).
   */
  async compile(def: GraphDefinition, params: NamedTensors, options?: CompileOptions): Promise<OnnxCompiledGraph> {
    const sessionOptions = this.sessionOptions(options);
    const builder = traceGraph(def, params);
    if (!useExternalData(builder.usedInitializerBytes, this.#external) || this.#storage === 'memory') {
      return this.#createSession(modelPartsOf(builder, this.#external), def, sessionOptions);
    }
    await loadOrt(); // fail before writing gigabytes when onnxruntime-node is missing
    const files = await writeTempModel(builder, externalDataMinBytes(this.#external), this.#tempDirectory);
    let graph: OnnxCompiledGraph;
    try {
      graph = await this.#createSession(files.modelPath, def, sessionOptions, files.remove);
    } catch (err) {
      await files.remove().catch(() => undefined);
      throw err;
    }
    // onnxruntime has read (or mapped) every initializer once the session exists, so the files can go now;
    // where open files cannot be removed (Windows), dispose() retries.
    await files.remove().catch(() => undefined);
    return graph;
  }

  /**
   * Creates a session from serialised ONNX model bytes, or {@link OnnxModelParts} with in-memory external
   * data, whose inputs and outputs are described by `io` (e.g. a model built with {@link buildOnnxModel} or
   * {@link buildOnnxModelParts}).
   */
  async compileModel(model: Uint8Array | OnnxModelParts, io: ModelInterface, options?: CompileOptions): Promise<OnnxCompiledGraph> {
    const parts = model instanceof Uint8Array ? { model, externalData: [] } : model;
    return this.#createSession(parts, io, this.sessionOptions(options));
  }

  /**
   * Creates a session from an ONNX model file (e.g. written by {@link exportOnnxModel}), whose external data
   * files are resolved next to it. External data references are checked first ({@link checkExternalData}),
   * so a missing or truncated data file is reported as {@link NotFoundError} / {@link FormatError} naming it.
   */
  async compileFile(modelPath: string, io: ModelInterface, options?: CompileOptions): Promise<OnnxCompiledGraph> {
    const sessionOptions = this.sessionOptions(options);
    await checkExternalData(modelPath);
    return this.#createSession(modelPath, io, sessionOptions, undefined, true);
  }

  async #createSession(
    model: OnnxModelParts | string,
    io: ModelInterface,
    sessionOptions: Ort.InferenceSession.SessionOptions,
    cleanup?: () => Promise<void>,
    userFile = false,
  ): Promise<OnnxCompiledGraph> {
    const ort = await loadOrt();
    let session: Ort.InferenceSession;
    try {
      if (typeof model === 'string') session = await ort.InferenceSession.create(model, sessionOptions);
      else if (model.externalData.length === 0) session = await ort.InferenceSession.create(model.model, sessionOptions);
      else session = await ort.InferenceSession.create(model.model, { ...sessionOptions, externalData: [...model.externalData] });
    } catch (err) {
      throw new ShapeError(
        `onnxruntime rejected graph "${io.name}" (${this.name})${userFile ? ` from ${String(model)}` : ''}: ${firstErrorLine(err)}. ` +
          (userFile
            ? 'The file may be from another model version or its external data may not belong to it; export it again.'
            : 'This usually means parameter shapes do not match the model configuration.'),
        { cause: err },
      );
    }
    return new OnnxCompiledGraph(ort, session, io, cleanup);
  }
}
