import { checkOutputs, modelInputFiles, sidecarPath } from '../outputs.js';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError, sha256OfFile, type ProgressCallback } from '@bigr/core';
import { defaultRepresentationLayer } from '@bigr/backbone';
import type { CodeMode, LabelledImages } from '@bigr/tokenizer';
import { BigrPipeline, bigrHeadKind, type BigrModelConfig } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { loadDataset } from '../datasets.js';
import { inferenceEngine } from '../engines.js';
import { writeJsonAtomic } from '../sidecar.js';
import { cachedLayerFeatures, layerFeatureKey, layerFeaturePath, parseLayers } from '../layerFeatures.js';
import type { GivenFlags } from '../givenFlags.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr features`. */
export const FEATURES_DEFAULTS = {
  model: '',
  data: 'fashion-mnist',
  split: 'train',
  layer: 'default',
  out: 'features.safetensors',
  codes: 'bernoulli',
  seed: 0,
  limit: 0,
  batchSize: 64,
};

/** Flags of `bigr features` as given on the command line. */
export type FeaturesFlags = GivenFlags<typeof FEATURES_DEFAULTS>;

/** Checks a code-mode setting. */
export function checkCodeMode(value: string): CodeMode {
  if (value !== 'bernoulli' && value !== 'threshold') throw new ConfigError(`--codes must be 'bernoulli' (official) or 'threshold', got "${value}".`);
  return value;
}

/** Checks a split setting. */
export function checkSplit(value: string): 'train' | 'test' {
  if (value !== 'train' && value !== 'test') throw new ConfigError(`--split must be 'train' or 'test', got "${value}".`);
  return value;
}

/** A BiGR model loaded for representation extraction: a {@link BigrPipeline} with what the feature caches need. */
export interface RepresentationModel {
  /** Model directory. */
  readonly dir: string;
  /** The loaded model. */
  readonly pipeline: BigrPipeline;
  /** Its config.json. */
  readonly config: BigrModelConfig;
  /** sha256 (hex) of model.safetensors: part of every cache key. */
  readonly hash: string;
  /** Dataset padding the tokenizer was trained with (2 for Fashion-MNIST). */
  readonly pad: number;
  /** Tokenizer input channels. */
  readonly inChannels: 1 | 3;
  /** Tokenizer input size. */
  readonly resolution: number;
  /**
   * Pooled features [N, D] of each layer for a labelled image set ({@link BigrPipeline.layerFeatures}); Bernoulli
   * codes are seeded `<seed>/codes/<split>`.
   */
  extract(
    images: LabelledImages,
    layers: readonly number[],
    options: { codes: CodeMode; seed: number; split: string; batchSize: number; signal?: AbortSignal; onProgress?: ProgressCallback },
  ): Promise<Map<number, Float32Array>>;
  /** Releases the compiled graphs. */
  dispose(): Promise<void>;
}

/** Loads a model directory as a {@link BigrPipeline} on the inference engine, for representation extraction. */
export async function openRepresentationModel(dir: string): Promise<RepresentationModel> {
  const bigr = await BigrPipeline.fromDirectory(dir, await inferenceEngine());
  const geometry = bigr.tokenizer.geometry;
  return {
    dir,
    pipeline: bigr,
    config: bigr.config,
    hash: await sha256OfFile(join(dir, 'model.safetensors')),
    pad: geometry.pad,
    inChannels: geometry.channels,
    resolution: geometry.size,
    extract: async (data, layers, o) => {
      const features = await bigr.layerFeatures(data.images, layers, {
        mode: o.codes,
        seed: `${o.seed}/codes/${o.split}`,
        batchSize: o.batchSize,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      return new Map([...features].map(([l, f]) => [l, f.data] as const));
    },
    dispose: () => bigr.dispose(),
  };
}

/** Options of {@link modelLayerFeatures}. */
export interface ModelLayerFeatureRequest {
  /** Dataset source as given on the command line (part of the cache key). */
  readonly data: string;
  /** Split. */
  readonly split: 'train' | 'test';
  /** 0-based blocks to extract. */
  readonly layers: readonly number[];
  /** Code binarisation. */
  readonly codes: CodeMode;
  /** Seed of the Bernoulli codes. */
  readonly seed: number;
  /** Images per engine call. */
  readonly batchSize: number;
  /** Cache file per layer. */
  readonly paths: ReadonlyMap<number, string>;
}

/**
 * Layer features of one split with per-layer caching: loads the split as the tokenizer expects it and computes every
 * requested layer in one pass when any cache file is missing or stale.
 */
export async function modelLayerFeatures(
  ctx: CliContext,
  model: RepresentationModel,
  images: LabelledImages,
  req: ModelLayerFeatureRequest,
): Promise<{ features: Map<number, Float32Array>; fromCache: boolean }> {
  const n = images.labels.length;
  const progress = ctx.progress(`features ${req.split}`);
  try {
    return await cachedLayerFeatures(
      req.paths,
      (layer) => layerFeatureKey({ modelHash: model.hash, data: req.data, split: req.split, count: n, layer, codes: req.codes, seed: req.seed }),
      images.labels,
      () =>
        model.extract(images, req.layers, {
          codes: req.codes,
          seed: req.seed,
          split: req.split,
          batchSize: req.batchSize,
          signal: ctx.signal,
          onProgress: progress.update,
        }),
      model.config.backbone.dim,
    );
  } finally {
    progress.stop();
  }
}

/** Loads a split at the tokenizer's channels and resolution (IDX files are padded 28 → 32). */
export function loadModelSplit(model: RepresentationModel, data: string, split: 'train' | 'test', limit: number): Promise<LabelledImages> {
  return loadDataset(data, split, { ...(limit > 0 ? { limit } : {}), channels: model.inChannels, imageSize: model.resolution });
}

/**
 * `bigr features`: average-pooled hidden states of backbone blocks (docs/algorithm.md §7.1: unmasked codes, null class, full
 * attention, no final norm) for a dataset split, written as safetensors (`features` [N, D] float32, `labels` [N]
 * int32, metadata `key` = JSON description). `--layer all` writes one file per block, `<out>.lNN.safetensors`. Every
 * study variant loads; a causal backbone runs with its causal attention (§13.2) and the head plays no part.
 */
export async function featuresCommand(ctx: CliContext, flags: FeaturesFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'features',
    defaults: FEATURES_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  const codes = checkCodeMode(cfg.codes);
  const split = checkSplit(cfg.split);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) throw new ConfigError(`--batch-size must be a positive integer, got ${cfg.batchSize}.`);
  const modelDir = await modelDirectory(cfg.model);
  const started = Date.now();
  const model = await openRepresentationModel(modelDir);
  try {
    const backbone = model.config.backbone;
    const layers = parseLayers(cfg.layer, backbone, defaultRepresentationLayer(backbone));
    ctx.info(`loading ${cfg.data} (${split}) ...`);
    const images = await loadModelSplit(model, cfg.data, split, cfg.limit);
    const outDir = dirname(cfg.out);
    await mkdir(outDir, { recursive: true });
    const stem = basename(cfg.out).replace(/\.safetensors$/i, '');
    const paths = new Map(layers.map((l) => [l, layers.length === 1 && cfg.layer !== 'all' ? cfg.out : layerFeaturePath(outDir, stem, l)] as const));
    await checkOutputs({
      command: 'features',
      force: ctx.force,
      inputs: [flags.config, ...modelInputFiles(modelDir)],
      outputs: [...[...paths.values()].map((p) => ({ path: p, output: cfg.out })), { path: sidecarPath(cfg.out), output: cfg.out }],
    });
    const { fromCache } = await modelLayerFeatures(ctx, model, images, {
      data: cfg.data,
      split,
      layers,
      codes,
      seed: cfg.seed,
      batchSize: cfg.batchSize,
      paths,
    });
    const seconds = (Date.now() - started) / 1000;
    const files = [...paths.entries()].map(([layer, path]) => ({ layer, path }));
    const sidecar = sidecarPath(cfg.out);
    const info = {
      ok: true,
      command: 'features',
      output: cfg.out,
      model: modelDir,
      modelHash: model.hash,
      split,
      count: images.labels.length,
      dim: backbone.dim,
      layers,
      files,
      codes,
      condition: `null class ${backbone.numClasses}`,
      attention: backbone.attention,
      head: bigrHeadKind(model.config),
      pooling: 'mean over image tokens of the block output (no final norm)',
      fromCache,
      seconds,
      config: cfg,
    };
    await writeJsonAtomic(sidecar, info);
    for (const f of files) ctx.out(`layer ${f.layer}: ${f.path} [${images.labels.length}, ${backbone.dim}]${fromCache ? ' (cached)' : ''}`);
    ctx.out(`wrote ${sidecar} (${seconds.toFixed(1)} s)`);
    ctx.result({ ...info, sidecar });
  } finally {
    await model.dispose();
  }
}
