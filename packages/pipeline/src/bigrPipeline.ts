import { join } from 'node:path';
import {
  createRng,
  getOrThrow,
  sha256OfFile,
  type CompiledGraph,
  type CpuTensor,
  type Engine,
  type LongRunningOptions,
  type NamedTensors,
  type Seed,
} from '@bigr/core';
import { defaultRepresentationLayer, extractBackboneParameters, type BackboneFeatureModel, type KvCacheFeatureModel } from '@bigr/backbone';
import type { CodeMode } from '@bigr/tokenizer';
import type { BigrHead } from './bigrHead.js';
import { loadBigrModel, type BigrModelConfig } from './bigrModelDir.js';
import { BigrPipelineBase } from './bigrSampling.js';
import { chooseEngine, type EngineChoice } from './engineChoice.js';
import type { ImageSource } from './images.js';
import { resolveModelSource, type LoadSourceOptions, type ModelSource } from './sources.js';
import { checkFeatureLayers, layerFeatureGraph, runLayerFeatures } from './layerFeatures.js';
import type { TokenizerCodec } from './tokenizerCodec.js';
import { TokenizerPipeline } from './tokenizerPipeline.js';

/** Options of {@link BigrPipeline.load}. */
export interface BigrPipelineLoadOptions extends EngineChoice, LoadSourceOptions {}

/** Options of {@link BigrPipeline.layerFeatures}. */
export interface LayerFeaturesRequest extends LongRunningOptions {
  /** 'threshold' (deterministic, the default) or 'bernoulli' (seeded draws, as the official probe). */
  readonly mode?: CodeMode;
  /** Seed of the Bernoulli draws: one stream over all images in image order, so batching does not matter. Default 0. */
  readonly seed?: Seed;
  /** Images per tokenizer + backbone call (bounds memory). Default 64. */
  readonly batchSize?: number;
}

/** Options of {@link BigrPipeline.features}. */
export interface FeaturesRequest extends LayerFeaturesRequest {
  /** 0-based backbone block whose pooled output is the representation. Default: the model's representation layer. */
  readonly layer?: number;
}

/**
 * A BiGR model (backbone + per-token head + tokenizer) on an inference engine, loaded from a model directory,
 * a Hugging Face Hub repo id or an official checkpoint pair, with every application of the model as one call. Every
 * variant of docs/algorithm.md §13 loads (transcoder or categorical head, bidirectional or causal backbone); see
 * {@link BigrPipelineBase.generate} for how each samples.
 *
 * ```ts
 * const bigr = await BigrPipeline.load('models/fashion-mnist');
 * const { images, seeds } = await bigr.generate({ classes: 'sneaker', n: 4, seed: 7 });
 * ```
 */
export class BigrPipeline extends BigrPipelineBase<ImageSource> {
  /** The model directory. */
  readonly dir: string;
  /** The tokenizer half (encode, decode, hash, index, search). */
  readonly tokenizer: TokenizerPipeline;
  /** Compiled representation graphs by their layer list (layerFeatureGraph). */
  readonly #representations = new Map<string, Promise<CompiledGraph>>();
  readonly #weights: NamedTensors;

  private constructor(parts: {
    config: BigrModelConfig;
    dir: string;
    tokenizer: TokenizerPipeline;
    features: BackboneFeatureModel;
    kv: KvCacheFeatureModel | null;
    head: BigrHead;
    engine: Engine;
    weights: NamedTensors;
  }) {
    super(parts);
    this.dir = parts.dir;
    this.tokenizer = parts.tokenizer;
    this.#weights = parts.weights;
  }

  protected get codec(): TokenizerCodec {
    return this.tokenizer;
  }

  protected modelImages(source: ImageSource): Promise<CpuTensor<'float32'>> {
    return this.tokenizer.images(source);
  }

  /**
   * Loads a BiGR model: `source` is a model directory (written by `bigr train` / `bigr import`), a Hugging Face Hub
   * repo id `owner/name[@revision]`, or an official checkpoint pair (see {@link resolveModelSource}).
   */
  static async load(source: ModelSource, options: BigrPipelineLoadOptions = {}): Promise<BigrPipeline> {
    const { dir } = await resolveModelSource(source, options);
    const engine = await chooseEngine(options);
    return BigrPipeline.fromDirectory(dir, engine);
  }

  /** Loads a local BiGR model directory onto `engine`. */
  static async fromDirectory(dir: string, engine: Engine): Promise<BigrPipeline> {
    const model = await loadBigrModel(dir, engine);
    const tokDir = join(dir, model.config.tokenizer);
    const tokenizer = new TokenizerPipeline({
      tokenizer: model.tokenizer,
      config: model.tokenizerConfig,
      dir: tokDir,
      hash: await sha256OfFile(join(tokDir, 'model.safetensors')),
      engineName: engine.name,
    });
    return new BigrPipeline({
      config: model.config,
      dir,
      tokenizer,
      features: model.features,
      kv: model.kv,
      head: model.head,
      engine,
      weights: model.weights,
    });
  }

  /** The representation layer used by {@link BigrPipeline.features} by default. */
  get representationLayer(): number {
    return defaultRepresentationLayer(this.config.backbone);
  }

  /**
   * Image representations (docs/algorithm.md §7.1): codes of the images (threshold by default) through the backbone
   * unmasked with the null class, pooled over image tokens at block `layer`. Returns [B, D]. The backbone runs with its
   * own attention (causal for the AR variants, §13.2); the head plays no part. One layer of {@link layerFeatures}.
   */
  async features(images: ImageSource, request: FeaturesRequest = {}): Promise<CpuTensor<'float32'>> {
    const { layer = this.representationLayer, ...rest } = request;
    return getOrThrow(await this.layerFeatures(images, [layer], rest), layer, 'features of the requested layer');
  }

  /**
   * The representations of several blocks in one pass (docs/algorithm.md §7.1, docs/evaluation.md §8.1): each image's
   * codes go through blocks 0…max(layers) once, and every requested block's output is pooled over the image tokens.
   * Returns [B, D] per layer. Bernoulli codes draw from one stream seeded `request.seed`, in image order.
   */
  async layerFeatures(images: ImageSource, layers: readonly number[], request: LayerFeaturesRequest = {}): Promise<Map<number, CpuTensor<'float32'>>> {
    const backbone = this.config.backbone;
    const wanted = checkFeatureLayers(backbone, layers);
    const key = wanted.join(',');
    let graph = this.#representations.get(key);
    if (!graph) {
      graph = this.engine.compile(layerFeatureGraph(backbone, wanted), extractBackboneParameters(this.#weights, backbone));
      this.#representations.set(key, graph);
    }
    const { mode = 'threshold', seed = 0, ...rest } = request;
    return runLayerFeatures(await graph, backbone, this.tokenizer.tokenizer, await this.modelImages(images), wanted, { ...rest, mode, rng: createRng(seed) });
  }

  /** Releases every compiled graph. */
  override async dispose(): Promise<void> {
    for (const g of this.#representations.values()) await (await g).dispose();
    this.#representations.clear();
    await super.dispose();
  }
}
