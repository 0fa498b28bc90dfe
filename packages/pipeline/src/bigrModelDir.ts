import { copyFile, mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeDirectoryStaged } from './stagedDirectory.js';
import { ConfigError, loadModelDirectory, saveModelDirectory, type Engine, type MaskedBitPredictor, type NamedTensors } from '@bigr/core';
import { BackboneFeatureModel, type BackboneConfig } from '@bigr/backbone';
import { TranscoderSampler, type TranscoderConfig } from '@bigr/transcoder';
import { validateBigrModel, type BIGR_FORMAT } from './modelConfigs.js';
import { createBigrPredictor } from '@bigr/sampler';
import type { BaeTokenizer } from '@bigr/tokenizer';
import { loadTokenizer, type TokenizerModelConfig } from './tokenizerModelDir.js';

export { BIGR_FORMAT } from './modelConfigs.js';

/**
 * config.json of a BiGR model directory. `model.safetensors` holds the backbone and the transcoder under the
 * official state-dict names (so it is the `ema` dict of an official checkpoint), and `tokenizer/` is the B-AE
 * model directory the codes come from.
 */
export interface BigrModelConfig {
  readonly format: typeof BIGR_FORMAT;
  readonly version: 1;
  /** Backbone architecture. */
  readonly backbone: BackboneConfig;
  /** Transcoder architecture and diffusion settings. */
  readonly transcoder: TranscoderConfig;
  /** Class names, index = label (the null class is `backbone.numClasses`). */
  readonly classNames: readonly string[];
  /** Tokenizer sub-directory (relative). */
  readonly tokenizer: string;
  /** Training provenance. */
  readonly training?: Record<string, unknown>;
}

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

/** A loaded BiGR model: predictor (backbone + transcoder on an engine) and tokenizer. */
export interface LoadedBigrModel {
  readonly config: BigrModelConfig;
  readonly tokenizerConfig: TokenizerModelConfig;
  readonly predictor: MaskedBitPredictor;
  readonly features: BackboneFeatureModel;
  readonly head: TranscoderSampler;
  readonly tokenizer: BaeTokenizer;
  readonly weights: NamedTensors;
}

/** Reads config.json + model.safetensors of a BiGR model directory. */
export async function readBigrModel(dir: string): Promise<{ config: BigrModelConfig; weights: NamedTensors }> {
  const { config, tensors } = await loadModelDirectory(dir);
  const checked = validateBigrModel(config, tensors, { model: dir, configPath: join(dir, 'config.json'), weightsPath: join(dir, 'model.safetensors') });
  return { config: { ...checked, tokenizer: confinedSubdirectory(dir, checked.tokenizer, 'tokenizer') }, weights: tensors };
}

/** Loads a BiGR model directory onto an inference engine. */
export async function loadBigrModel(dir: string, engine: Engine, options: { diffusionSteps?: number } = {}): Promise<LoadedBigrModel> {
  const { config, weights } = await readBigrModel(dir);
  const features = new BackboneFeatureModel(engine, config.backbone, weights);
  const head = await TranscoderSampler.create(engine, weights, config.transcoder);
  const { tokenizer, config: tokenizerConfig } = await loadTokenizer(join(dir, confinedSubdirectory(dir, config.tokenizer, 'tokenizer')), engine);
  return {
    config,
    tokenizerConfig,
    features,
    head,
    tokenizer,
    weights,
    predictor: createBigrPredictor(features, head, options.diffusionSteps !== undefined ? { steps: options.diffusionSteps } : {}),
  };
}

export { classIndex } from './classIndex.js';
