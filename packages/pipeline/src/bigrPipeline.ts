import { join } from 'node:path';
import { ConfigError, sha256OfFile, type CpuTensor, type Engine } from '@bigr/core';
import { RepresentationExtractor, defaultRepresentationLayer, type BackboneFeatureModel, type KvCacheFeatureModel } from '@bigr/backbone';
import type { BigrHead } from './bigrHead.js';
import { loadBigrModel, type BigrModelConfig } from './bigrModelDir.js';
import { BigrPipelineBase } from './bigrSampling.js';
import { chooseEngine, type EngineChoice } from './engineChoice.js';
import type { ImageSource } from './images.js';
import { resolveModelSource, type LoadSourceOptions, type ModelSource } from './sources.js';
import type { TokenizerCodec, TokenizerEncodeOptions } from './tokenizerCodec.js';
import { TokenizerPipeline } from './tokenizerPipeline.js';

/** Options of {@link BigrPipeline.load}. */
export interface BigrPipelineLoadOptions extends EngineChoice, LoadSourceOptions {}

/** Options of {@link BigrPipeline.features}. */
export interface FeaturesRequest extends TokenizerEncodeOptions {
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
  readonly #extractors = new Map<number, Promise<RepresentationExtractor>>();
  readonly #weights: Parameters<typeof RepresentationExtractor.create>[2];

  private constructor(parts: {
    config: BigrModelConfig;
    dir: string;
    tokenizer: TokenizerPipeline;
    features: BackboneFeatureModel;
    kv: KvCacheFeatureModel | null;
    head: BigrHead;
    engine: Engine;
    weights: Parameters<typeof RepresentationExtractor.create>[2];
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
   * own attention (causal for the AR variants, §13.2); the head plays no part.
   */
  async features(images: ImageSource, request: FeaturesRequest = {}): Promise<CpuTensor<'float32'>> {
    const layer = request.layer ?? this.representationLayer;
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.backbone.layers)
      throw new ConfigError(`layer is ${layer}; this backbone has blocks 0..${this.config.backbone.layers - 1} (0-based).`);
    let extractor = this.#extractors.get(layer);
    if (!extractor) {
      extractor = RepresentationExtractor.create(this.engine, this.config.backbone, this.#weights, { layer });
      this.#extractors.set(layer, extractor);
    }
    const { bits } = await this.encode(images, request);
    return (await (await extractor).extract(bits)).pooled;
  }

  /** Releases every compiled graph. */
  override async dispose(): Promise<void> {
    for (const e of this.#extractors.values()) await (await e).dispose();
    this.#extractors.clear();
    await super.dispose();
  }
}
