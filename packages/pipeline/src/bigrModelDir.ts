import { copyFile, mkdir } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeDirectoryStaged } from './stagedDirectory.js';
import { ConfigError, loadModelDirectory, saveModelDirectory, type Engine, type MaskedBitPredictor, type NamedTensors } from '@bigr/core';
import { BackboneFeatureModel, backboneParameterShapes, resolveBackboneConfig, type BackboneConfig } from '@bigr/backbone';
import { denoiserParameterShapes, resolveTranscoderConfig, TranscoderSampler, type TranscoderConfig } from '@bigr/transcoder';
import { checkConfigMaxima, checkWeightsMatchConfig, maybeCheckFinite } from './modelBounds.js';
import { createBigrPredictor } from '@bigr/sampler';
import type { BaeTokenizer } from '@bigr/tokenizer';
import { loadTokenizer, type TokenizerModelConfig } from './tokenizerModelDir.js';

/** Format tag of a BiGR model directory's config.json. */
export const BIGR_FORMAT = 'bigr-model';

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
    throw new ConfigError(`${join(dir, 'config.json')}: "${field}" is ${JSON.stringify(relativePath)}; it must be a relative path inside the model directory (e.g. "tokenizer"). Fix the config.`);
  }
  const rel = relative(resolve(dir), resolve(dir, relativePath));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new ConfigError(`${join(dir, 'config.json')}: "${field}" is ${JSON.stringify(relativePath)}, which points outside the model directory ${dir}. Paths in a model's config must stay inside it (e.g. "tokenizer"); fix the config.`);
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
  const c = config as Partial<BigrModelConfig>;
  if (typeof c !== 'object' || c === null || c.format !== BIGR_FORMAT || !c.backbone || !c.transcoder) {
    throw new ConfigError(`${dir}/config.json is not a BiGR model (format "${String(c?.format)}", expected "${BIGR_FORMAT}"). Pass a directory written by \`bigr train\` or \`bigr import\`.`);
  }
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  // Bound every size before anything is built from it, then check the config against the weights beside it.
  checkConfigMaxima('backbone', c.backbone, configPath);
  checkConfigMaxima('transcoder', c.transcoder, configPath);
  const backbone = resolveBackboneConfig(c.backbone);
  const transcoder = resolveTranscoderConfig(c.transcoder);
  checkWeightsMatchConfig({ section: 'backbone', fields: backbone as unknown as Record<string, unknown>, expected: backboneParameterShapes(backbone), counts: { layers: (i) => `layers.${i}.` } }, tensors, configPath, weightsPath);
  checkWeightsMatchConfig(
    { section: 'transcoder', fields: transcoder as unknown as Record<string, unknown>, expected: denoiserParameterShapes(transcoder), counts: { blocks: (i) => `${transcoder.prefix}.blocks.${i}.` } },
    tensors,
    configPath,
    weightsPath,
  );
  maybeCheckFinite(tensors, weightsPath);
  return {
    config: { ...(c as BigrModelConfig), tokenizer: confinedSubdirectory(dir, c.tokenizer, 'tokenizer'), backbone, transcoder },
    weights: tensors,
  };
}

/** Loads a BiGR model directory onto an inference engine. */
export async function loadBigrModel(dir: string, engine: Engine, options: { diffusionSteps?: number } = {}): Promise<LoadedBigrModel> {
  const { config, weights } = await readBigrModel(dir);
  const features = new BackboneFeatureModel(engine, config.backbone, weights);
  const head = await TranscoderSampler.create(engine, weights, config.transcoder);
  const { tokenizer, config: tokenizerConfig } = await loadTokenizer(join(dir, confinedSubdirectory(dir, config.tokenizer, 'tokenizer')), engine);
  return { config, tokenizerConfig, features, head, tokenizer, weights, predictor: createBigrPredictor(features, head, options.diffusionSteps !== undefined ? { steps: options.diffusionSteps } : {}) };
}

/** Resolves a class given as an index or a (case-insensitive, prefix-matching) name. */
export function classIndex(value: string, classNames: readonly string[], numClasses: number): number {
  if (/^\d+$/.test(value)) {
    const i = Number(value);
    if (i < numClasses) return i;
    throw new ConfigError(`Class ${i} is out of range; this model has classes 0..${numClasses - 1} (${classNames.join(', ')}).`);
  }
  const v = value.toLowerCase();
  const exact = classNames.findIndex((n) => n.toLowerCase() === v);
  if (exact >= 0) return exact;
  const matches = classNames.map((n, i) => [n.toLowerCase(), i] as const).filter(([n]) => n.startsWith(v) || n.split(/[\s/-]+/).some((w) => w === v || w.startsWith(v)));
  if (matches.length === 1) return matches[0]![1];
  throw new ConfigError(`Unknown class "${value}". Use an index 0..${numClasses - 1} or one of: ${classNames.join(', ')}.`);
}
