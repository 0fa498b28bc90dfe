/**
 * What both engine-side backbones share ({@link BackboneFeatureModel}: the masked backbone, one call per iteration;
 * {@link KvCacheFeatureModel}: the causal backbone with a key/value cache): the sizes they report, the parameters and
 * compile options their graphs are compiled with, and the class-label checks and [cond; uncond] feeds of guidance.
 */
import { ConfigError, CpuTensor, type CompileOptions, type CompiledGraph, type Engine, type GraphDefinition, type NamedTensors } from '@bigr/core';
import { nullClassIndex, type BackboneConfig } from './config.js';
import { extractBackboneParameters } from './stateDict.js';

/** `a` twice in a row: the conditional and the unconditional (null class) rows of guidance see the same inputs. */
export function repeatTwice<A extends Float32Array | Uint8Array>(a: A): A {
  const out = new (a.constructor as new (n: number) => A)(a.length * 2);
  out.set(a, 0);
  out.set(a, a.length);
  return out;
}

/** A backbone on an {@link Engine}; graphs are compiled by the subclasses, lazily. */
export abstract class EngineBackbone {
  /** Tokens per image N. */
  readonly tokens: number;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Feature width D. */
  readonly featureDim: number;
  /** Null class index. */
  readonly nullClass: number;
  /** The backbone config. */
  readonly config: BackboneConfig;
  readonly #engine: Engine;
  /** The backbone parameters (official names). */
  protected readonly params: NamedTensors;
  readonly #compileOptions: CompileOptions;

  /** Keeps the backbone tensors of `params` (official names; extra keys such as `denoise_mlp.*` are ignored). */
  protected constructor(engine: Engine, config: BackboneConfig, params: NamedTensors, compileOptions: CompileOptions) {
    this.#engine = engine;
    this.config = config;
    this.params = extractBackboneParameters(params, config);
    this.#compileOptions = compileOptions;
    this.tokens = config.tokens;
    this.bitsPerToken = config.bitsPerToken;
    this.featureDim = config.dim;
    this.nullClass = nullClassIndex(config);
  }

  /** Compiles `def` on the engine with the backbone parameters and the compile options. */
  protected compile(def: GraphDefinition): Promise<CompiledGraph> {
    return this.#engine.compile(def, this.params, this.#compileOptions);
  }

  /** Throws unless `labels` has `B` entries, each a class or the null class. */
  protected checkLabels(labels: Int32Array, B: number, what: string): void {
    if (labels.length !== B) throw new ConfigError(`${what} has ${labels.length} entries but the batch has ${B} samples.`);
    for (const y of labels) {
      if (!Number.isInteger(y) || y < 0 || y > this.nullClass)
        throw new ConfigError(`${what} contains ${y}; classes are 0…${this.nullClass - 1} and ${this.nullClass} is the null class.`);
    }
  }

  /** The label feed [rows]: `labels` first, the null class in the remaining rows (the unconditional half). */
  protected labelFeed(labels: Int32Array, rows: number): CpuTensor<'int32'> {
    const out = new Int32Array(rows).fill(this.nullClass);
    out.set(labels, 0);
    return new CpuTensor(out, [rows]);
  }
}
