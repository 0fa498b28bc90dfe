import { ConfigError, ShapeError, isTensor } from '@bigr/core';
import type { CompileOptions, CompiledGraph, CpuTensor, Engine, GraphDefinition, InputSpec, NamedTensors } from '@bigr/core';
import type * as Ort from 'onnxruntime-node';
import { buildOnnxModel } from './buildModel.js';
import { loadOrt } from './ortRuntime.js';
import type { OrtModule } from './ortRuntime.js';
import { fromOrtTensor, toOrtTensor } from './tensorConvert.js';

/** Options of an {@link OnnxEngine}. */
export interface OnnxEngineOptions {
  /** Engine name reported by {@link OnnxEngine.name}; default 'onnx-cpu'. */
  readonly name?: string;
  /** onnxruntime execution providers in preference order; default ['cpu']. */
  readonly executionProviders?: readonly string[];
  /** onnxruntime session log severity (0 verbose … 4 fatal); default 3 (errors only). */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

function describeInputs(specs: readonly InputSpec[]): string {
  return specs.map((s) => `${s.name} (${s.dtype} [${s.shape.join(', ')}])`).join(', ');
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/** A graph compiled into an onnxruntime `InferenceSession`. */
export class OnnxCompiledGraph implements CompiledGraph {
  /** Input names in declaration order. */
  readonly inputNames: readonly string[];
  /** Output names in declaration order. */
  readonly outputNames: readonly string[];
  /** Graph name. */
  readonly graphName: string;
  readonly #ort: OrtModule;
  readonly #inputs: readonly InputSpec[];
  #session: Ort.InferenceSession | null;

  /** Wraps a created session; use {@link OnnxEngine.compile} instead. */
  constructor(ort: OrtModule, session: Ort.InferenceSession, def: Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>) {
    this.#ort = ort;
    this.#session = session;
    this.#inputs = def.inputs;
    this.graphName = def.name;
    this.inputNames = Object.freeze(def.inputs.map((s) => s.name));
    this.outputNames = Object.freeze([...def.outputs]);
  }

  #check(feeds: Readonly<Record<string, CpuTensor>>): void {
    if (typeof feeds !== 'object' || feeds === null) {
      throw new ConfigError(`Graph "${this.graphName}" needs a feeds object with ${describeInputs(this.#inputs)}.`);
    }
    const missing = this.inputNames.filter((n) => !Object.hasOwn(feeds, n) || feeds[n] === undefined);
    if (missing.length) {
      throw new ConfigError(
        `Graph "${this.graphName}" is missing feeds for ${missing.map((m) => `"${m}"`).join(', ')}. It expects ${describeInputs(this.#inputs)}; pass a tensor for each.`,
      );
    }
    const unknown = Object.keys(feeds).filter((n) => !this.inputNames.includes(n));
    if (unknown.length) {
      throw new ConfigError(
        `Graph "${this.graphName}" has no input${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => `"${m}"`).join(', ')}. Its inputs are ${describeInputs(this.#inputs)}.`,
      );
    }
    const dynamic = new Map<string, { size: number; input: string }>();
    for (const spec of this.#inputs) {
      const t = feeds[spec.name];
      if (!isTensor(t)) throw new ShapeError(`Feed "${spec.name}" of graph "${this.graphName}" is not a tensor; pass a CpuTensor.`);
      if (t.dtype !== spec.dtype) {
        throw new ShapeError(`Feed "${spec.name}" of graph "${this.graphName}" is ${t.dtype} but ${spec.dtype} is expected. Convert it to ${spec.dtype}.`);
      }
      const where = `Feed "${spec.name}" of graph "${this.graphName}" has shape [${t.shape.join(', ')}] but [${spec.shape.join(', ')}] is expected`;
      if (t.shape.length !== spec.shape.length) throw new ShapeError(`${where} (rank ${spec.shape.length}).`);
      spec.shape.forEach((d, i) => {
        const actual = t.shape[i]!;
        if (typeof d === 'number') {
          if (d !== actual) throw new ShapeError(`${where} (dimension ${i} must be ${d}).`);
        } else {
          const seen = dynamic.get(d);
          if (seen === undefined) dynamic.set(d, { size: actual, input: spec.name });
          else if (seen.size !== actual) {
            throw new ShapeError(`${where}: dimension "${d}" is ${actual} here but ${seen.size} in feed "${seen.input}". Use one size for "${d}".`);
          }
        }
      });
    }
  }

  /** Runs the session. Feeds are validated (names, dtypes, ranks, fixed and shared dynamic dims) and passed without copying. */
  async run(feeds: Readonly<Record<string, CpuTensor>>): Promise<Record<string, CpuTensor>> {
    const session = this.#session;
    if (session === null) throw new ConfigError(`Graph "${this.graphName}" was disposed; compile it again to run it.`);
    this.#check(feeds);
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const name of this.inputNames) ortFeeds[name] = toOrtTensor(this.#ort, feeds[name]!);
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await session.run(ortFeeds);
    } catch (err) {
      throw new ShapeError(`onnxruntime failed to run graph "${this.graphName}": ${firstLine(err)}. Check the feed shapes against the model configuration.`, {
        cause: err,
      });
    }
    const out: Record<string, CpuTensor> = {};
    for (const name of this.outputNames) out[name] = fromOrtTensor(results[name] as Ort.Tensor, name);
    return out;
  }

  /** Releases the session. Idempotent. */
  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = null;
    if (session) await session.release();
  }
}

/** Validates `threads` (default 1). */
function threadCount(options: CompileOptions | undefined): number {
  const threads = options?.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new ConfigError(`threads = ${threads} is invalid; use a whole number >= 1 (default 1; 2 helps only for large matmuls on 2 cores).`);
  }
  return threads;
}

/**
 * Inference engine on onnxruntime-node: `compile` traces the graph definition into an ONNX model
 * ({@link buildOnnxModel}) and creates an `InferenceSession` (intra-op threads from `options.threads`,
 * default 1; one inter-op thread; all graph optimisations). Cannot train.
 */
export class OnnxEngine implements Engine {
  /** Engine name ('onnx-cpu' by default). */
  readonly name: string;
  /** ONNX graphs here are inference-only. */
  readonly canTrain = false;
  /** Execution providers passed to every session. */
  readonly executionProviders: readonly string[];
  readonly #logSeverityLevel: 0 | 1 | 2 | 3 | 4;

  /** An engine; onnxruntime-node is loaded on the first compile. */
  constructor(options: OnnxEngineOptions = {}) {
    this.name = options.name ?? 'onnx-cpu';
    this.executionProviders = Object.freeze([...(options.executionProviders ?? ['cpu'])]);
    this.#logSeverityLevel = options.logSeverityLevel ?? 3;
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
    };
  }

  /** Builds the ONNX model of `def` with `params` and creates a session for it. */
  async compile(def: GraphDefinition, params: NamedTensors, options?: CompileOptions): Promise<OnnxCompiledGraph> {
    const sessionOptions = this.sessionOptions(options);
    return this.#createSession(buildOnnxModel(def, params), def, sessionOptions);
  }

  /**
   * Creates a session from serialised ONNX model bytes whose inputs and outputs are described by `io`
   * (e.g. a model exported earlier with {@link buildOnnxModel}).
   */
  async compileModel(bytes: Uint8Array, io: Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>, options?: CompileOptions): Promise<OnnxCompiledGraph> {
    return this.#createSession(bytes, io, this.sessionOptions(options));
  }

  async #createSession(
    bytes: Uint8Array,
    io: Pick<GraphDefinition, 'name' | 'inputs' | 'outputs'>,
    sessionOptions: Ort.InferenceSession.SessionOptions,
  ): Promise<OnnxCompiledGraph> {
    const ort = await loadOrt();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, sessionOptions);
    } catch (err) {
      throw new ShapeError(
        `onnxruntime rejected graph "${io.name}" (${this.name}): ${firstLine(err)}. This usually means parameter shapes do not match the model configuration.`,
        { cause: err },
      );
    }
    return new OnnxCompiledGraph(ort, session, io);
  }
}
