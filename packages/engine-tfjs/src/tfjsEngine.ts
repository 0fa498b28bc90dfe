import type * as tf from '@tensorflow/tfjs';
import { ConfigError, type CompileOptions, type CompiledGraph, type CpuTensor, type Engine, type GraphDefinition, type NamedTensors } from '@bigr/core';
import { initTfjs, useBackend, type InitTfjsOptions, type TfjsBackendInfo, type TfjsBackendKind } from './backend.js';
import { toTfTensor } from './convert.js';
import { runGraph } from './runGraph.js';
import { TfjsTrainableParameters } from './trainable.js';

/** A graph compiled by {@link TfjsEngine}: parameters uploaded once, `build` re-evaluated eagerly per run. */
class TfjsCompiledGraph implements CompiledGraph {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #def: GraphDefinition;
  readonly #engine: TfjsEngine;
  #params: Map<string, tf.Tensor> | null;

  constructor(def: GraphDefinition, params: Map<string, tf.Tensor>, engine: TfjsEngine) {
    this.#def = def;
    this.#engine = engine;
    this.#params = params;
    this.inputNames = Object.freeze(def.inputs.map((i) => i.name));
    this.outputNames = Object.freeze([...def.outputs]);
  }

  async run(feeds: Readonly<Record<string, CpuTensor>>): Promise<Record<string, CpuTensor>> {
    if (this.#params === null) throw new ConfigError(`Graph "${this.#def.name}" was disposed; compile it again to run it.`);
    useBackend(this.#engine.backend);
    return runGraph(this.#def, feeds, { engine: this.#engine.name, params: this.#params, training: false });
  }

  async dispose(): Promise<void> {
    if (this.#params === null) return;
    for (const t of this.#params.values()) t.dispose();
    this.#params = null;
  }
}

/**
 * The tfjs compute engine: eager, differentiable, trains via {@link TfjsEngine.createTrainable}.
 *
 * One process has one global tfjs backend. Each engine switches it to its own backend at the start of every
 * call, so engines on different backends (e.g. 'tfjs-wasm' and 'tfjs-cpu' in a test) may coexist; a tensor
 * created on one backend and used on another is copied by tfjs on first use, so alternating engines is slow.
 * Do not run tfjs code of your own between `await`s of these engines without setting the backend yourself.
 */
export class TfjsEngine implements Engine {
  /** 'tfjs-wasm', 'tfjs-cpu', 'tfjs-node' or 'tfjs-node-gpu'. */
  readonly name: string;
  /** tfjs engines compute gradients. */
  readonly canTrain = true;
  /** The tfjs backend name this engine runs on ('wasm', 'cpu' or 'tensorflow'). */
  readonly backend: string;
  /** Details of the backend initialisation (e.g. which kernels the wasm CPU-fallback shim serves). */
  readonly info: TfjsBackendInfo;

  /** Use {@link createTfjsEngine}, which initialises the backend first. */
  constructor(name: string, info: TfjsBackendInfo) {
    this.name = name;
    this.backend = info.backendName;
    this.info = info;
  }

  /** Uploads `params` once; every `run` evaluates `def.build` eagerly inside `tf.tidy` (eval mode). */
  async compile(def: GraphDefinition, params: NamedTensors, _options?: CompileOptions): Promise<CompiledGraph> {
    useBackend(this.backend);
    const uploaded = new Map<string, tf.Tensor>();
    try {
      for (const [name, value] of params) uploaded.set(name, toTfTensor(value));
    } catch (err) {
      for (const t of uploaded.values()) t.dispose();
      throw err;
    }
    return new TfjsCompiledGraph(def, uploaded, this);
  }

  /** Creates trainable parameters (float parameters become tf.Variables) on this engine's backend. */
  async createTrainable(params: NamedTensors): Promise<TfjsTrainableParameters> {
    useBackend(this.backend);
    return new TfjsTrainableParameters(params, { engine: this.name, backend: this.backend });
  }
}

function engineName(info: TfjsBackendInfo): string {
  if (info.kind === 'wasm') return 'tfjs-wasm';
  if (info.kind === 'cpu') return 'tfjs-cpu';
  return info.nodePackage === '@tensorflow/tfjs-node' ? 'tfjs-node' : 'tfjs-node-gpu';
}

/**
 * Initialises the tfjs backend `kind` (see {@link initTfjs}) and returns an engine on it. The engine is named
 * 'tfjs-wasm', 'tfjs-cpu', or 'tfjs-node' / 'tfjs-node-gpu' after the native package that loaded.
 */
export async function createTfjsEngine(kind: TfjsBackendKind, options: InitTfjsOptions = {}): Promise<TfjsEngine> {
  const info = await initTfjs(kind, options);
  return new TfjsEngine(engineName(info), info);
}
