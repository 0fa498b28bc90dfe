/**
 * Model directories of the study variants: the usual BiGR model directory (config.json + model.safetensors +
 * tokenizer/), whose config additionally records the objective (`head`: 'transcoder' | 'categorical', with the
 * categorical head's config) and, inside `backbone`, the attention pattern. Binary variants keep the `transcoder`
 * section, so the other commands read them as ordinary BiGR models.
 */
import { join } from 'node:path';
import { ConfigError, loadModelDirectory, required, type BitHeadSampler, type Engine, type NamedTensors } from '@bigr/core';
import { BackboneFeatureModel, KvCacheFeatureModel, resolveBackboneConfig, type BackboneConfig } from '@bigr/backbone';
import {
  CategoricalSampler,
  resolveCategoricalHeadConfig,
  resolveTranscoderConfig,
  TranscoderSampler,
  type CategoricalHeadConfig,
  type TranscoderConfig,
} from '@bigr/transcoder';
import type { CommitRule } from '@bigr/sampler';
import type { BaeTokenizer } from '@bigr/tokenizer';
import { BIGR_FORMAT, saveBigrModel, type BigrModelConfig } from '../bigrModelDir.js';
import { loadTokenizer, type TokenizerModelConfig } from '../tokenizerModelDir.js';

/** config.json of a study model (a BiGR model config plus the objective). */
export interface VariantModelConfig {
  readonly format: typeof BIGR_FORMAT;
  readonly version: 1;
  readonly backbone: BackboneConfig;
  /** 'transcoder' (binary objective) or 'categorical'. */
  readonly head: 'transcoder' | 'categorical';
  /** Transcoder config (binary objective). */
  readonly transcoder?: TranscoderConfig;
  /** Categorical head config (categorical objective). */
  readonly categorical?: CategoricalHeadConfig;
  readonly classNames: readonly string[];
  readonly tokenizer: string;
  readonly training?: Record<string, unknown>;
}

/** Writes a study model directory (staged, atomically renamed into place, with a copy of the tokenizer). */
export async function saveVariantModel(dir: string, config: VariantModelConfig, weights: NamedTensors, tokenizerDir: string): Promise<void> {
  // saveBigrModel only needs format/tokenizer; the categorical variant has no transcoder section.
  await saveBigrModel(dir, config as unknown as BigrModelConfig, weights, tokenizerDir);
}

/** A study model loaded on an inference engine. */
export interface LoadedVariantModel {
  readonly dir: string;
  readonly config: VariantModelConfig;
  readonly weights: NamedTensors;
  readonly tokenizer: BaeTokenizer;
  readonly tokenizerConfig: TokenizerModelConfig;
  /** Full-sequence features (masked sampling, AR without cache). */
  readonly features: BackboneFeatureModel;
  /** KV-cached features (causal backbones only). */
  readonly kv: KvCacheFeatureModel | null;
  /** Per-token head. */
  readonly head: BitHeadSampler;
  /** The commit rule the head needs ('threshold' for the categorical head). */
  readonly commit: CommitRule;
  /** Releases every compiled graph. */
  dispose(): Promise<void>;
}

/** Reads and validates a study model's config and weights. */
export async function readVariantModel(dir: string): Promise<{ config: VariantModelConfig; weights: NamedTensors }> {
  const { config, tensors } = await loadModelDirectory(dir);
  const c = config as Partial<VariantModelConfig> & { transcoder?: TranscoderConfig };
  if (typeof c !== 'object' || c === null || c.format !== BIGR_FORMAT || !c.backbone) {
    throw new ConfigError(
      `${join(dir, 'config.json')} is not a BiGR model (format "${String(c?.format)}"); pass a model directory written by \`bigr study\` or \`bigr train\`.`,
    );
  }
  const head = c.head ?? 'transcoder';
  if (head !== 'transcoder' && head !== 'categorical')
    throw new ConfigError(`${join(dir, 'config.json')}: head "${String(head)}" must be 'transcoder' or 'categorical'.`);
  const backbone = resolveBackboneConfig(c.backbone);
  const section = <T>(value: T | undefined): T => {
    if (value === undefined) throw new ConfigError(`${join(dir, 'config.json')}: head "${head}" needs its "${head}" section.`);
    return value;
  };
  const resolved: VariantModelConfig = {
    ...(c as VariantModelConfig),
    head,
    backbone,
    ...(head === 'transcoder'
      ? { transcoder: resolveTranscoderConfig(section(c.transcoder)) }
      : { categorical: resolveCategoricalHeadConfig(section(c.categorical)) }),
  };
  return { config: resolved, weights: tensors };
}

/** Loads a study model directory onto an inference engine. */
export async function loadVariantModel(dir: string, engine: Engine): Promise<LoadedVariantModel> {
  const { config, weights } = await readVariantModel(dir);
  const features = new BackboneFeatureModel(engine, config.backbone, weights);
  const kv = config.backbone.attention === 'causal' ? new KvCacheFeatureModel(engine, config.backbone, weights) : null;
  const head: BitHeadSampler & { dispose(): Promise<void> } =
    config.head === 'categorical'
      ? await CategoricalSampler.create(engine, weights, required(config.categorical, 'categorical head config'))
      : await TranscoderSampler.create(engine, weights, required(config.transcoder, 'transcoder config'));
  const { tokenizer, config: tokenizerConfig } = await loadTokenizer(join(dir, config.tokenizer), engine);
  return {
    dir,
    config,
    weights,
    tokenizer,
    tokenizerConfig,
    features,
    kv,
    head,
    commit: config.head === 'categorical' ? 'threshold' : 'bernoulli',
    dispose: async () => {
      await features.dispose();
      await kv?.dispose();
      await head.dispose();
      await tokenizer.dispose();
    },
  };
}
