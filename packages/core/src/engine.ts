import { ConfigError, EngineUnavailableError } from './errors.js';
import type { GraphDefinition, Ops } from './ops.js';
import type { CpuTensor, NamedTensors } from './tensor.js';
import type { Rng } from './rng.js';

/** A compiled model function: feed CPU tensors by input name, get CPU tensors by output name. */
export interface CompiledGraph {
  /** Input names in declaration order. */
  readonly inputNames: readonly string[];
  /** Output names in declaration order. */
  readonly outputNames: readonly string[];
  /** Runs the graph. Missing feeds are an error naming them. */
  run(feeds: Readonly<Record<string, CpuTensor>>): Promise<Record<string, CpuTensor>>;
  /** Releases engine resources. */
  dispose(): Promise<void>;
}

/** Options when compiling a graph. */
export interface CompileOptions {
  /** Intra-op threads (onnxruntime). Default: the `BIGR_THREADS` environment variable, else every available core. */
  threads?: number;
}

/** Result of one gradient evaluation. */
export interface GradientResult {
  /** Value of the scalar loss. */
  readonly loss: number;
  /** d loss / d parameter, keyed like the parameters, float32 and shaped like them. */
  readonly grads: Map<string, Float32Array>;
  /** Extra scalar readings returned by the loss function. */
  readonly metrics: Record<string, number>;
}

/** A loss function for training: returns the scalar loss and optional extra scalars (e.g. accuracy). */
export type LossFunction = <T>(ops: Ops<T>) => { loss: T; metrics?: Record<string, T> };

/**
 * A set of trainable parameters living inside an engine. The optimiser itself runs in @bigr/core over
 * Float32Arrays, so optimiser state, EMA and checkpoints are engine-independent.
 */
export interface TrainableParameters {
  /** Parameter names. */
  readonly names: readonly string[];
  /** Computes loss and gradients of all parameters; `rng` drives dropout and other in-graph randomness. */
  gradients(loss: LossFunction, rng: Rng): Promise<GradientResult>;
  /** Evaluates a function without gradients, in eval mode unless `training` is set. */
  evaluate(fn: GraphDefinition, feeds: Readonly<Record<string, CpuTensor>>, options?: { training?: boolean; rng?: Rng }): Promise<Record<string, CpuTensor>>;
  /** Overwrites parameter values (after an optimiser step). */
  assign(values: ReadonlyMap<string, Float32Array>): void;
  /** Reads current values. */
  read(): NamedTensors;
  /** Releases engine memory. */
  dispose(): void;
}

/** Kind of work an engine is asked for. */
export type EnginePurpose = 'inference' | 'training';

/** A compute engine (tfjs or onnxruntime). */
export interface Engine {
  /** Identifier such as 'onnx-cpu', 'tfjs-wasm', 'tfjs-cpu', 'tfjs-node'. */
  readonly name: string;
  /** Whether it can compute gradients. */
  readonly canTrain: boolean;
  /** Compiles a graph definition with the given parameters. */
  compile(def: GraphDefinition, params: NamedTensors, options?: CompileOptions): Promise<CompiledGraph>;
  /** Creates trainable parameters (only engines with `canTrain`); `options.threads` where the engine has threads. */
  createTrainable?(params: NamedTensors, options?: CompileOptions): Promise<TrainableParameters>;
}

/** Registered engine factory: tried lazily during resolution. */
export interface EngineProvider {
  /** Engine identifier (see {@link Engine.name}). */
  readonly name: string;
  /** Higher is tried first under 'auto'. */
  readonly priority: number;
  /** Purposes this engine serves. */
  readonly purposes: readonly EnginePurpose[];
  /** Device words that select this engine (e.g. 'cpu', 'gpu', 'wasm'). */
  readonly devices: readonly string[];
  /** Initialises the engine, or throws explaining why it is unavailable. */
  create(): Promise<Engine>;
}

interface Registry {
  providers: Map<string, EngineProvider>;
  instances: Map<string, Promise<Engine>>;
}

const REGISTRY_KEY = Symbol.for('bigr.engine-registry');

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  let r = g[REGISTRY_KEY];
  if (!r) {
    r = { providers: new Map(), instances: new Map() };
    g[REGISTRY_KEY] = r;
  }
  return r;
}

/** Registers an engine provider (engine packages call this when imported). Re-registering replaces it. */
export function registerEngine(provider: EngineProvider): void {
  registry().providers.set(provider.name, provider);
  registry().instances.delete(provider.name);
}

/** Names of registered engine providers. */
export function registeredEngines(): string[] {
  return [...registry().providers.keys()];
}

/** Device words accepted by {@link resolveEngine} and `BIGR_DEVICE`. */
export const DEVICE_WORDS = ['auto', 'cpu', 'gpu', 'cuda', 'wasm'] as const;

/** Options for {@link resolveEngine}. */
export interface ResolveEngineOptions {
  /** What the engine is for. */
  purpose: EnginePurpose;
  /**
   * A device word ({@link DEVICE_WORDS}) or an exact engine name. Defaults to the `BIGR_DEVICE` environment
   * variable, then 'auto'.
   */
  device?: string;
}

/** An environment variable in Node; undefined where there is no `process` (browsers). */
function environmentVariable(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

/** Packages that register engines on import; tried when no registered engine satisfies a request. */
const ENGINE_PACKAGES: Record<EnginePurpose, readonly string[]> = {
  inference: ['@bigr/engine-onnx', '@bigr/engine-tfjs'],
  training: ['@bigr/engine-onnx', '@bigr/engine-tfjs'],
};

async function importEnginePackages(purpose: EnginePurpose, failures: string[]): Promise<void> {
  for (const pkg of ENGINE_PACKAGES[purpose]) {
    try {
      await import(pkg);
    } catch (err) {
      failures.push(`[${pkg}] could not be imported (${(err as Error).message.split('\n')[0]}); install it with \`npm install ${pkg}\``);
    }
  }
}

/**
 * Picks and initialises an engine. Tries candidates in priority order and collects every failure, so the
 * final error names each engine tried and why it failed.
 */
export async function resolveEngine(options: ResolveEngineOptions): Promise<Engine> {
  const device = (options.device ?? environmentVariable('BIGR_DEVICE') ?? 'auto').trim();
  const failures: string[] = [];
  await importEnginePackages(options.purpose, failures);
  const providers = [...registry().providers.values()].filter((p) => p.purposes.includes(options.purpose)).sort((a, b) => b.priority - a.priority);
  const byName = providers.filter((p) => p.name === device);
  let candidates: EngineProvider[];
  if (byName.length > 0) candidates = byName;
  else if (device === 'auto') candidates = providers;
  else if ((DEVICE_WORDS as readonly string[]).includes(device)) candidates = providers.filter((p) => p.devices.includes(device));
  else {
    throw new ConfigError(
      `Unsupported device "${device}" for ${options.purpose}. Use one of ${DEVICE_WORDS.join(', ')} or an engine name ` +
        `(${providers.map((p) => p.name).join(', ') || 'none registered'}); set it with --device or BIGR_DEVICE.`,
    );
  }
  for (const p of candidates) {
    const r = registry();
    let instance = r.instances.get(p.name);
    if (!instance) {
      instance = p.create();
      r.instances.set(p.name, instance);
    }
    try {
      return await instance;
    } catch (err) {
      failures.push(`[${p.name}] ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const tried = failures.length ? failures.join('\n  ') : '(no engine registered for this device)';
  throw new EngineUnavailableError(
    `No ${options.purpose} engine is available for device "${device}". Tried:\n  ${tried}\n` +
      `Install @bigr/engine-onnx (inference and training) or @bigr/engine-tfjs (training), or choose another device with BIGR_DEVICE.`,
  );
}

/** Outcome of probing every registered engine, for `bigr env`. */
export interface EngineReport {
  /** Engine name. */
  readonly name: string;
  /** Purposes it serves. */
  readonly purposes: readonly EnginePurpose[];
  /** Whether it initialised. */
  readonly available: boolean;
  /** Why it is unavailable, if so. */
  readonly reason?: string;
}

/** Tries to initialise every known engine and reports which work and why the others do not. */
export async function probeEngines(): Promise<EngineReport[]> {
  const failures: string[] = [];
  await importEnginePackages('inference', failures);
  const out: EngineReport[] = [];
  for (const p of [...registry().providers.values()].sort((a, b) => b.priority - a.priority)) {
    try {
      let instance = registry().instances.get(p.name);
      if (!instance) {
        instance = p.create();
        registry().instances.set(p.name, instance);
      }
      await instance;
      out.push({ name: p.name, purposes: p.purposes, available: true });
    } catch (err) {
      out.push({ name: p.name, purposes: p.purposes, available: false, reason: (err as Error).message.split('\n')[0] });
    }
  }
  for (const f of failures) out.push({ name: f.slice(1, f.indexOf(']')), purposes: [], available: false, reason: f });
  return out;
}
