import { copyFile, mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeDirectoryStaged } from './stagedDirectory.js';
import { ConfigError, loadModelDirectory, saveModelDirectory, type Engine, type MaskedBitPredictor, type NamedTensors } from '@bigr/core';
import { BackboneFeatureModel, type BackboneConfig, type KvCacheFeatureModel } from '@bigr/backbone';
import type { CategoricalHeadConfig, TranscoderConfig } from '@bigr/transcoder';
import { validateBigrModel, type BIGR_FORMAT } from './modelConfigs.js';
import { createBigrPredictor, type CommitRule } from '@bigr/sampler';
import { createBigrHead, createKvFeatureModel, modelCommitRule, type BigrHead } from './bigrHead.js';
import type { SamplingModel } from './modelSampling.js';
import type { BaeTokenizer } from '@bigr/tokenizer';
import { loadTokenizer, type TokenizerModelConfig } from './tokenizerModelDir.js';

export { BIGR_FORMAT } from './modelConfigs.js';

/** The per-token head of a BiGR model directory: `config.json`'s `head` field (docs/algorithm.md §13.1). */
export type BigrHeadKind = 'transcoder' | 'categorical';

/** The fields every BiGR model directory's config.json has, whatever its head. */
export interface BigrModelConfigCommon {
  readonly format: typeof BIGR_FORMAT;
  readonly version: 1;
  /**
   * Backbone architecture. `backbone.attention` is `'bidirectional'` (BiGR, masked modelling; the default when absent)
   * or `'causal'` (the paper's autoregressive variants, sampled token by token in raster order; docs/algorithm.md §13.2).
   */
  readonly backbone: BackboneConfig;
  /** Class names, index = label (the null class is `backbone.numClasses`). */
  readonly classNames: readonly string[];
  /** Tokenizer sub-directory (relative). */
  readonly tokenizer: string;
  /** Training provenance. */
  readonly training?: Record<string, unknown>;
}

/**
 * config.json of a BiGR model with the binary transcoder (BiGR itself and the paper's binary variants): `head` absent
 * or `'transcoder'`. `model.safetensors` holds the backbone and the transcoder under the official state-dict names
 * (so it is the `ema` dict of an official checkpoint), and `tokenizer/` is the B-AE model directory the codes come from.
 */
export interface TranscoderBigrModelConfig extends BigrModelConfigCommon {
  /** The binary transcoder (the default when absent). */
  readonly head?: 'transcoder';
  /** Transcoder architecture and diffusion settings. */
  readonly transcoder: TranscoderConfig;
}

/**
 * config.json of a model with the categorical head (the paper's S0/S1, written by `bigr study`): `head: 'categorical'`
 * and a `categorical` section instead of `transcoder`; `model.safetensors` holds the backbone and `cat_head.*`
 * (docs/algorithm.md §13.1).
 */
export interface CategoricalBigrModelConfig extends BigrModelConfigCommon {
  /** The 2^K-way softmax head. */
  readonly head: 'categorical';
  /** Categorical head config (K, D, parameter prefix). */
  readonly categorical: CategoricalHeadConfig;
}

/**
 * config.json of a BiGR model directory (docs/architecture.md §2 step 4): the backbone, one per-token head (the binary
 * transcoder by default, or the categorical head) and the tokenizer sub-directory. Narrow on `head === 'categorical'`
 * (or use `bigrHeadKind`) before reading `transcoder` or `categorical`.
 */
export type BigrModelConfig = TranscoderBigrModelConfig | CategoricalBigrModelConfig;

/**
 * Writes a BiGR model directory, copying the tokenizer directory into it (so the model is self-contained). Every
 * file is written to a staging directory first and renamed into place (config.json last), so a kill never leaves a
 * partial file (see {@link writeDirectoryStaged}).
 */
export async function saveBigrModel(dir: string, config: BigrModelConfig, weights: NamedTensors, tokenizerDir: string): Promise<void> {
  const sub = confinedSubdirectory(dir, config.tokenizer, 'tokenizer');
  const target = join(dir, sub);
  await writeDirectoryStaged(dir, async (staging) => {
    if (resolve(tokenizerDir) !== resolve(target)) {
      await mkdir(join(staging, sub), { recursive: true });
      for (const f of ['config.json', 'model.safetensors']) await copyFile(join(tokenizerDir, f), join(staging, sub, f));
    }
    await saveModelDirectory(staging, { config, tensors: weights });
  });
}

/**
 * Resolves a path a model's config.json names (e.g. `"tokenizer": "tokenizer"`) and refuses one that leaves the
 * model directory (`../x`, `/abs`), so a config file can never make the CLI read or write outside its model.
 */
export function confinedSubdirectory(dir: string, relativePath: unknown, field: string): string {
  if (typeof relativePath !== 'string' || relativePath === '' || isAbsolute(relativePath) || relativePath.includes('\\')) {
    throw new ConfigError(
      `${join(dir, 'config.json')}: "${field}" is ${JSON.stringify(relativePath)}; it must be a relative path inside the model directory (e.g. "tokenizer"). ` +
        `Fix the config.`,
    );
  }
  const rel = relative(resolve(dir), resolve(dir, relativePath));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ConfigError(
      `${join(dir, 'config.json')}: "${field}" is ${JSON.stringify(relativePath)}, which points outside the model directory ${dir}. ` +
        `Paths in a model's config must stay inside it (e.g. "tokenizer"); fix the config.`,
    );
  }
  return rel;
}

/**
 * A loaded BiGR model of any variant: backbone, head and tokenizer on an engine, with the KV-cached backbone of a
 * causal model. Sample with `sampleModel` (modelSampling.ts), which picks masked or autoregressive decoding and the
 * head's commit rule.
 */
export interface LoadedBigrModel extends SamplingModel {
  /** The model directory. */
  readonly dir: string;
  readonly config: BigrModelConfig;
  readonly tokenizerConfig: TokenizerModelConfig;
  /** Backbone + head as a masked predictor (for a causal model: uncached, for `order: 'autoregressive'` only). */
  readonly predictor: MaskedBitPredictor;
  readonly features: BackboneFeatureModel;
  /** KV-cached backbone of a causal model (`backbone.attention: 'causal'`), else null. */
  readonly kv: KvCacheFeatureModel | null;
  /** The per-token head: the transcoder, or the categorical head (`head: 'categorical'`). */
  readonly head: BigrHead;
  /** The commit rule the head needs by default ('threshold' for the categorical head, else 'bernoulli'). */
  readonly commit: CommitRule;
  readonly tokenizer: BaeTokenizer;
  readonly weights: NamedTensors;
  /** Releases every compiled graph (backbone, KV cache, head, tokenizer). */
  dispose(): Promise<void>;
}

/**
 * Reads config.json + model.safetensors of a BiGR model directory of any variant (transcoder or categorical head,
 * bidirectional or causal backbone; docs/algorithm.md §13), validated against the weights by `validateBigrModel`.
 */
export async function readBigrModel(dir: string): Promise<{ config: BigrModelConfig; weights: NamedTensors }> {
  const { config, tensors } = await loadModelDirectory(dir);
  const checked = validateBigrModel(config, tensors, { model: dir, configPath: join(dir, 'config.json'), weightsPath: join(dir, 'model.safetensors') });
  return { config: { ...checked, tokenizer: confinedSubdirectory(dir, checked.tokenizer, 'tokenizer') }, weights: tensors };
}

/** Loads a BiGR model directory of any variant onto an inference engine. */
export async function loadBigrModel(dir: string, engine: Engine, options: { diffusionSteps?: number } = {}): Promise<LoadedBigrModel> {
  const { config, weights } = await readBigrModel(dir);
  const features = new BackboneFeatureModel(engine, config.backbone, weights);
  const kv = createKvFeatureModel(engine, config, weights);
  const head = await createBigrHead(engine, weights, config);
  const { tokenizer, config: tokenizerConfig } = await loadTokenizer(join(dir, confinedSubdirectory(dir, config.tokenizer, 'tokenizer')), engine);
  return {
    dir,
    config,
    tokenizerConfig,
    features,
    kv,
    head,
    commit: modelCommitRule(config),
    tokenizer,
    weights,
    predictor: createBigrPredictor(features, head, options.diffusionSteps !== undefined ? { steps: options.diffusionSteps } : {}),
    dispose: async () => {
      await features.dispose();
      await kv?.dispose();
      await head.dispose();
      await tokenizer.dispose();
    },
  };
}

export { classIndex } from './classIndex.js';
