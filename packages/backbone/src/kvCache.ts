/**
 * KV-cached inference of a causal backbone (docs/algorithm.md §13.3): the same layers as {@link runBackbone}, split into
 * a prefix graph (the condition token(s)) and a step graph (one new image token attending to the cached keys and
 * values of all earlier positions). Both are plain {@link GraphDefinition}s over `Ops`, so the cache runs on every
 * engine: past keys/values are graph inputs and the present ones graph outputs, kept on the host between calls.
 */
import {
  ConfigError,
  CpuTensor,
  assertShape,
  at,
  required,
  rmsNorm,
  type AutoregressiveFeatureModel,
  type AutoregressiveFeatureState,
  type CompileOptions,
  type CompiledGraph,
  type Condition,
  type Engine,
  type GraphDefinition,
  type InputSpec,
  type NamedTensors,
  type Ops,
} from '@bigr/core';
import { sharedAdaLN } from './adaLN.js';
import { cachedAttention, type KeyValue } from './attention.js';
import { blockDims, conditionTokens, conditionVector, configRopeTables, embedTokens, transformerBlock } from './backboneGraph.js';
import { BACKBONE_INPUTS } from './backboneInputs.js';
import { headDim, type BackboneConfig } from './config.js';
import { EngineBackbone, repeatTwice } from './engineBackbone.js';
import type { Rope2dConstants } from './rope2d.js';

/** Input/output names of the KV-cache graphs. */
export const KV_CACHE_NAMES = {
  /** Sequence index (condition tokens included) of the new token, int32 [1]. */
  position: 'position',
  /** Image token index whose features the step produces, int32 [1]. */
  target: 'target',
  /** Past keys of layer i: `past_key_${i}`, [batch, heads, past, d]. */
  pastKey: (i: number) => `past_key_${i}`,
  /** Past values of layer i. */
  pastValue: (i: number) => `past_value_${i}`,
  /** Present keys of layer i (past + new). */
  presentKey: (i: number) => `present_key_${i}`,
  /** Present values of layer i. */
  presentValue: (i: number) => `present_value_${i}`,
} as const;

function requireCausal(config: BackboneConfig): void {
  if (config.attention !== 'causal') {
    throw new ConfigError(
      `KV-cached decoding needs a causal backbone (attention 'causal'); this one is '${config.attention}'. ` +
        `Masked (bidirectional) models sample with sampleTokens instead.`,
    );
  }
  if (!config.useAdaLN && config.clsTokenNum !== 1) {
    throw new ConfigError('KV-cached decoding supports class conditions (one condition vector per sample) only.');
  }
}

function presentOutputs(layers: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < layers; i++) out.push(KV_CACHE_NAMES.presentKey(i), KV_CACHE_NAMES.presentValue(i));
  return out;
}

/** Runs every block with cached attention; returns the final hidden states and each layer's present keys/values. */
function cachedBlocks<T>(
  ops: Ops<T>,
  config: BackboneConfig,
  h0: T,
  adaLN: T | null,
  seqLen: number,
  rope: Rope2dConstants<T>,
  past: readonly KeyValue<T>[] | null,
): { h: T; present: KeyValue<T>[] } {
  const dims = { ...blockDims(config), seqLen, attnDropout: 0, residDropout: 0, ffnDropout: 0 };
  const present: KeyValue<T>[] = [];
  let h = h0;
  for (let i = 0; i < config.layers; i++) {
    h = transformerBlock(ops, h, i, adaLN, dims, rope, (y, prefix) => {
      const r = cachedAttention(ops, y, prefix, dims, rope, past ? at(past, i, 'cached keys and values of a layer') : null);
      present.push(r.present);
      return r.out;
    });
  }
  return { h, present };
}

/** A feed the graph declares as an input (the engines feed every declared input). */
function feed<T>(feeds: Readonly<Record<string, T>>, name: string): T {
  return required(feeds[name], `${name} feed`);
}

/**
 * The prefix graph: input `labels` [batch]; runs the condition token(s) through every block and returns `features`
 * [batch, D] (the features predicting image token 0: final norm at the last condition position + position embedding
 * row 0) and `present_key_i` / `present_value_i` [batch, heads, clsTokenNum, d].
 */
export function kvPrefixGraph(config: BackboneConfig): GraphDefinition {
  requireCausal(config);
  const tables = configRopeTables(config);
  const c = config.clsTokenNum;
  const d = headDim(config);
  const D = config.dim;
  return {
    name: 'bigr_backbone_kv_prefix',
    inputs: [{ name: BACKBONE_INPUTS.labels, dtype: 'int32', shape: ['batch'] }],
    outputs: ['features', ...presentOutputs(config.layers)],
    build<T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const cond = conditionVector(ops, 'labels', feed(feeds, BACKBONE_INPUTS.labels));
      const h0 = conditionTokens(ops, config, cond, 'labels');
      const rope: Rope2dConstants<T> = {
        cos: ops.constant(tables.cos.slice(0, c * d), [c, 1, d]),
        sin: ops.constant(tables.sin.slice(0, c * d), [c, 1, d]),
        rotation: ops.constant(tables.rotation, [d, d]),
        headDim: d,
      };
      const { h, present } = cachedBlocks(ops, config, h0, sharedAdaLN(ops, config, cond), c, rope, null);
      const last = ops.reshape(ops.slice(rmsNorm(ops, h, ops.param('norm.weight'), config.normEps), 1, c - 1, c), [-1, D]);
      const pos0 = ops.reshape(ops.slice(ops.param('diffusion_pos_embed_learned'), 1, 0, 1), [1, D]);
      const out: Record<string, T> = { features: ops.add(last, pos0) };
      present.forEach((kv, i) => {
        out[KV_CACHE_NAMES.presentKey(i)] = kv.k;
        out[KV_CACHE_NAMES.presentValue(i)] = kv.v;
      });
      return out;
    },
  };
}

/**
 * The step graph: inputs `bits` [batch, 1, K] (the token just committed), `labels` [batch] (for the shared adaLN),
 * `position` [1] (its sequence index, clsTokenNum + n − 1), `target` [1] (n, the token to predict) and the past
 * keys/values of every layer [batch, heads, past, d]; outputs `features` [batch, D] predicting token n and the
 * present keys/values [batch, heads, past + 1, d].
 */
export function kvStepGraph(config: BackboneConfig): GraphDefinition {
  requireCausal(config);
  const tables = configRopeTables(config);
  const d = headDim(config);
  const { dim: D, heads: H, tokens: N } = config;
  const inputs: InputSpec[] = [
    { name: BACKBONE_INPUTS.bits, dtype: 'float32', shape: ['batch', 1, config.bitsPerToken] },
    { name: BACKBONE_INPUTS.labels, dtype: 'int32', shape: ['batch'] },
    { name: KV_CACHE_NAMES.position, dtype: 'int32', shape: [1] },
    { name: KV_CACHE_NAMES.target, dtype: 'int32', shape: [1] },
  ];
  for (let i = 0; i < config.layers; i++) {
    inputs.push({ name: KV_CACHE_NAMES.pastKey(i), dtype: 'float32', shape: ['batch', H, 'past', d] });
    inputs.push({ name: KV_CACHE_NAMES.pastValue(i), dtype: 'float32', shape: ['batch', H, 'past', d] });
  }
  return {
    name: 'bigr_backbone_kv_step',
    inputs,
    outputs: ['features', ...presentOutputs(config.layers)],
    build<T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const cond = conditionVector(ops, 'labels', feed(feeds, BACKBONE_INPUTS.labels));
      const x = embedTokens(ops, config, feed(feeds, BACKBONE_INPUTS.bits), null);
      const position = feed(feeds, KV_CACHE_NAMES.position);
      const rope: Rope2dConstants<T> = {
        cos: ops.reshape(ops.gather(ops.constant(tables.cos, [tables.positions, d]), position), [1, 1, d]),
        sin: ops.reshape(ops.gather(ops.constant(tables.sin, [tables.positions, d]), position), [1, 1, d]),
        rotation: ops.constant(tables.rotation, [d, d]),
        headDim: d,
      };
      const past: KeyValue<T>[] = [];
      for (let i = 0; i < config.layers; i++) past.push({ k: feed(feeds, KV_CACHE_NAMES.pastKey(i)), v: feed(feeds, KV_CACHE_NAMES.pastValue(i)) });
      const { h, present } = cachedBlocks(ops, config, x, sharedAdaLN(ops, config, cond), 1, rope, past);
      const last = ops.reshape(rmsNorm(ops, h, ops.param('norm.weight'), config.normEps), [-1, D]);
      const pos = ops.gather(ops.reshape(ops.param('diffusion_pos_embed_learned'), [N, D]), feed(feeds, KV_CACHE_NAMES.target));
      const out: Record<string, T> = { features: ops.add(last, pos) };
      present.forEach((kv, i) => {
        out[KV_CACHE_NAMES.presentKey(i)] = kv.k;
        out[KV_CACHE_NAMES.presentValue(i)] = kv.v;
      });
      return out;
    },
  };
}

/**
 * A causal backbone as a core {@link AutoregressiveFeatureModel} on any {@link Engine}: {@link kvPrefixGraph} once per
 * pass, then {@link kvStepGraph} once per token, with the keys/values kept on the host (docs/algorithm.md §13.3). With
 * `withNull`, the conditional and null-class rows run together ([cond; uncond], 2B rows), as in the masked sampler.
 */
export class KvCacheFeatureModel extends EngineBackbone implements AutoregressiveFeatureModel {
  #prefix: Promise<CompiledGraph> | null = null;
  #step: Promise<CompiledGraph> | null = null;

  /** Wraps backbone parameters (official names; other keys ignored). Nothing is compiled until the first pass. */
  constructor(engine: Engine, config: BackboneConfig, params: NamedTensors, compileOptions: CompileOptions = {}) {
    requireCausal(config);
    super(engine, config, params, compileOptions);
  }

  #graphs(): { prefix: Promise<CompiledGraph>; step: Promise<CompiledGraph> } {
    this.#prefix ??= this.compile(kvPrefixGraph(this.config));
    this.#step ??= this.compile(kvStepGraph(this.config));
    return { prefix: this.#prefix, step: this.#step };
  }

  /** Runs the condition token(s); returns the state predicting token 0. */
  async start(condition: Condition, withNull: boolean): Promise<AutoregressiveFeatureState> {
    if (condition.kind !== 'class') throw new ConfigError(`KV-cached decoding takes class conditions; got '${condition.kind}'.`);
    const B = condition.labels.length;
    this.checkLabels(condition.labels, B, 'Condition labels');
    const rows = withNull ? 2 * B : B;
    const labelFeed = this.labelFeed(condition.labels, rows);
    const { prefix, step } = this.#graphs();
    const out = await (await prefix).run({ [BACKBONE_INPUTS.labels]: labelFeed });
    const stepGraph = await step;
    const { layers, dim: D, bitsPerToken: K, clsTokenNum: c, tokens: N } = this.config;
    const make = (position: number, res: Readonly<Record<string, CpuTensor>>): AutoregressiveFeatureState => {
      const features = new CpuTensor<'float32'>(required(res['features'], 'features output').data as Float32Array, [rows, D]);
      return {
        position,
        features,
        advance: async (bits: CpuTensor<'float32'>) => {
          if (position + 1 >= N) throw new ConfigError(`All ${N} tokens are already generated; there is no next token to predict.`);
          assertShape(bits, [B, K], 'Committed token bits');
          const feeds: Record<string, CpuTensor> = {
            [BACKBONE_INPUTS.bits]: new CpuTensor(withNull ? repeatTwice(bits.data) : Float32Array.from(bits.data), [rows, 1, K]),
            [BACKBONE_INPUTS.labels]: labelFeed,
            [KV_CACHE_NAMES.position]: new CpuTensor(Int32Array.of(c + position), [1]),
            [KV_CACHE_NAMES.target]: new CpuTensor(Int32Array.of(position + 1), [1]),
          };
          for (let i = 0; i < layers; i++) {
            feeds[KV_CACHE_NAMES.pastKey(i)] = required(res[KV_CACHE_NAMES.presentKey(i)], 'present keys output');
            feeds[KV_CACHE_NAMES.pastValue(i)] = required(res[KV_CACHE_NAMES.presentValue(i)], 'present values output');
          }
          return make(position + 1, await stepGraph.run(feeds));
        },
      };
    };
    return make(0, out);
  }

  /** Releases the compiled graphs. */
  async dispose(): Promise<void> {
    const graphs = [this.#prefix, this.#step];
    this.#prefix = null;
    this.#step = null;
    for (const g of graphs) if (g) await (await g).dispose();
  }
}
