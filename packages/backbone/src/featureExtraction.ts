import {
  ConfigError,
  CpuTensor,
  assertShape,
  at,
  dims3,
  required,
  type CompiledGraph,
  type Engine,
  type GraphDefinition,
  type NamedTensors,
  type Ops,
} from '@bigr/core';
import type { BackboneConfig } from './config.js';
import { configRopeTables, runBackbone } from './backboneGraph.js';
import { BACKBONE_INPUTS, conditionInputName, conditionInputSpec, type ConditionInputKind } from './backboneInputs.js';

/**
 * The representation layer ℓ* of a preset (docs/algorithm.md §7.1): the paper's "10th / 15th / 32nd layer" for L / XL / XXL,
 * read as a 0-based block index (the released loop breaks after block ℓ*). Configurable; for other depths the
 * default is the block at ~42% depth (10/24).
 */
export function defaultRepresentationLayer(config: BackboneConfig): number {
  if (config.layers === 24) return 10;
  if (config.layers === 36) return 15;
  if (config.layers === 48) return 32;
  return Math.min(config.layers - 1, Math.floor((config.layers * 10) / 24));
}

/** Options of {@link representationGraph}. */
export interface RepresentationGraphOptions {
  /** 0-based block index ℓ*; blocks 0…ℓ* run. Values ≥ layers mean the last block (as the official code). */
  readonly layer: number;
  /** Condition input kind (default 'labels'; feed the null class). */
  readonly condition?: ConditionInputKind;
}

/**
 * The image-token hidden states [batch, N, D] of each block in `layers`, for unmasked bits: blocks 0…max(layers) run
 * once (adaLN on), the raw residual stream with no final norm and no position embedding, condition positions dropped.
 * The one definition of the representation graph (docs/algorithm.md §7.1) behind {@link representationGraph} and
 * {@link multiLayerRepresentationGraph}.
 */
function imageTokenStates<T>(
  ops: Ops<T>,
  config: BackboneConfig,
  feeds: Readonly<Record<string, T>>,
  kind: ConditionInputKind,
  layers: readonly number[],
): T[] {
  const bits = required(feeds[BACKBONE_INPUTS.bits], 'bits feed');
  const condition = required(feeds[conditionInputName(kind)], 'condition feed');
  const act = runBackbone(ops, config, { bits, mask: null, condition, kind }, { lastLayer: Math.max(...layers), rope: configRopeTables(config) });
  return layers.map((l) => ops.slice(at(act.layerOutputs, l, 'block output'), 1, config.clsTokenNum, config.clsTokenNum + config.tokens));
}

function representationInputs(config: BackboneConfig, kind: ConditionInputKind): GraphDefinition['inputs'] {
  return [{ name: BACKBONE_INPUTS.bits, dtype: 'float32', shape: ['batch', config.tokens, config.bitsPerToken] }, conditionInputSpec(config, kind)];
}

/**
 * Feature extraction for representations (docs/algorithm.md §7.1) as a {@link GraphDefinition}: bits [batch, N, K] with no mask,
 * the condition input (feed the null class `numClasses`), blocks 0…ℓ* (adaLN on), the raw residual stream with no
 * final norm and no position embedding, condition positions dropped. Outputs `tokens` [batch, N, D] and `pooled`
 * [batch, D] (mean over the N image tokens).
 */
export function representationGraph(config: BackboneConfig, options: RepresentationGraphOptions): GraphDefinition {
  if (!Number.isInteger(options.layer) || options.layer < 0) {
    throw new ConfigError(`Representation layer ${options.layer} must be a 0-based integer >= 0 (default ${defaultRepresentationLayer(config)}).`);
  }
  const kind = options.condition ?? 'labels';
  const layer = Math.min(options.layer, config.layers - 1);
  return {
    name: `bigr_representation_l${layer}`,
    inputs: representationInputs(config, kind),
    outputs: ['tokens', 'pooled'],
    build<T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const [imageTokens] = imageTokenStates(ops, config, feeds, kind, [layer]);
      const h = required(imageTokens, 'image tokens');
      return { tokens: h, pooled: ops.mean(h, [1], false) };
    },
  };
}

/**
 * The representation graph for several blocks at once (docs/algorithm.md §7.1, docs/evaluation.md §8.1): the inputs
 * of {@link representationGraph} (labels condition; feed the null class), blocks 0…max(layers) run once, and one output
 * `pooled_<l>` [batch, D] per block l: the mean over the N image tokens of its output. For one layer the same numbers
 * as `pooled` of {@link representationGraph}.
 */
export function multiLayerRepresentationGraph(config: BackboneConfig, layers: readonly number[]): GraphDefinition {
  if (layers.length === 0) throw new ConfigError('Pass at least one layer to extract.');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= config.layers)
      throw new ConfigError(`Layer ${l} does not exist; this backbone has blocks 0…${config.layers - 1} (0-based).`);
  }
  return {
    name: `bigr_representations_${layers.join('_')}`,
    inputs: representationInputs(config, 'labels'),
    outputs: layers.map((l) => `pooled_${l}`),
    build<T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const states = imageTokenStates(ops, config, feeds, 'labels', layers);
      const out: Record<string, T> = {};
      layers.forEach((l, i) => {
        out[`pooled_${l}`] = ops.mean(at(states, i, 'image tokens'), [1], false);
      });
      return out;
    },
  };
}

/** Options of {@link RepresentationExtractor.create}. */
export interface RepresentationExtractorOptions {
  /** 0-based block ℓ* (default {@link defaultRepresentationLayer}). */
  readonly layer?: number;
  /** Images per engine call (default 16). */
  readonly batchSize?: number;
  /** Also return the per-token features (default false: only pooled). */
  readonly keepTokens?: boolean;
}

/** Pooled (and optionally per-token) representations of a set of images. */
export interface ExtractedRepresentations {
  /** Average-pooled features [B, D]. */
  readonly pooled: CpuTensor<'float32'>;
  /** Per-token features [B, N, D] when `keepTokens` was set. */
  readonly tokens: CpuTensor<'float32'> | null;
}

/**
 * Batched representation extraction on any engine (docs/algorithm.md §7.1): unmasked bits, null class, features of block ℓ*,
 * average-pooled. Compile once with {@link RepresentationExtractor.create}, then call {@link RepresentationExtractor.extract}.
 */
export class RepresentationExtractor {
  /** Block index ℓ* in use. */
  readonly layer: number;
  readonly #config: BackboneConfig;
  readonly #graph: CompiledGraph;
  readonly #batchSize: number;
  readonly #keepTokens: boolean;

  private constructor(config: BackboneConfig, graph: CompiledGraph, layer: number, batchSize: number, keepTokens: boolean) {
    this.#config = config;
    this.#graph = graph;
    this.layer = layer;
    this.#batchSize = batchSize;
    this.#keepTokens = keepTokens;
  }

  /** Compiles the representation graph on `engine` with backbone `params`. */
  static async create(
    engine: Engine,
    config: BackboneConfig,
    params: NamedTensors,
    options: RepresentationExtractorOptions = {},
  ): Promise<RepresentationExtractor> {
    const layer = Math.min(options.layer ?? defaultRepresentationLayer(config), config.layers - 1);
    const batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`Feature batch size ${batchSize} must be an integer >= 1.`);
    const graph = await engine.compile(representationGraph(config, { layer }), params);
    return new RepresentationExtractor(config, graph, layer, batchSize, options.keepTokens ?? false);
  }

  /** Features of bits [B, N, K] (uint8 or float32 0/1), in chunks of `batchSize`. */
  async extract(bits: CpuTensor<'float32'> | CpuTensor<'uint8'>): Promise<ExtractedRepresentations> {
    const { tokens: N, bitsPerToken: K, dim: D, numClasses } = this.#config;
    assertShape(bits, [-1, N, K], 'Feature-extraction bits');
    const [B] = dims3(bits.shape, 'Feature-extraction bits');
    const pooled = new Float32Array(B * D);
    const tokens = this.#keepTokens ? new Float32Array(B * N * D) : null;
    for (let start = 0; start < B; start += this.#batchSize) {
      const b = Math.min(this.#batchSize, B - start);
      const chunk = new Float32Array(bits.data.subarray(start * N * K, (start + b) * N * K));
      const labels = new Int32Array(b).fill(numClasses);
      const out = await this.#graph.run({ [BACKBONE_INPUTS.bits]: new CpuTensor(chunk, [b, N, K]), [BACKBONE_INPUTS.labels]: new CpuTensor(labels, [b]) });
      pooled.set(required(out['pooled'], 'representation output "pooled"').data as Float32Array, start * D);
      if (tokens) tokens.set(required(out['tokens'], 'representation output "tokens"').data as Float32Array, start * N * D);
    }
    return { pooled: new CpuTensor(pooled, [B, D]), tokens: tokens ? new CpuTensor(tokens, [B, N, D]) : null };
  }

  /** Releases the compiled graph. */
  async dispose(): Promise<void> {
    await this.#graph.dispose();
  }
}
