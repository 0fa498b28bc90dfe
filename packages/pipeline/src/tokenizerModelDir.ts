import { ConfigError, loadModelDirectory, saveModelDirectory, type Engine, type NamedTensors } from '@bigr/core';
import { join } from 'node:path';
import { BaeTokenizer, baeParameterShapes, validateConfig, type BaeConfig } from '@bigr/tokenizer';
import { checkConfigMaxima, checkWeightsMatchConfig, maybeCheckFinite } from './modelBounds.js';
import { writeDirectoryStaged } from './stagedDirectory.js';

/** Format tag in a tokenizer model directory's config.json. */
export const TOKENIZER_FORMAT = 'bigr-tokenizer';

/** config.json of a tokenizer model directory. */
export interface TokenizerModelConfig {
  readonly format: typeof TOKENIZER_FORMAT;
  readonly version: 1;
  /** B-AE architecture. */
  readonly bae: BaeConfig;
  /** Image preprocessing: zero padding applied to the dataset images (28→32 for Fashion-MNIST). */
  readonly pad: number;
  /** Class names of the training data. */
  readonly classNames: readonly string[];
  /** How it was trained (command, steps, seed, wall time). */
  readonly training?: Record<string, unknown>;
}

/** Writes a tokenizer model directory (config.json + model.safetensors, staged and renamed into place). */
export async function saveTokenizerModel(dir: string, config: TokenizerModelConfig, weights: NamedTensors): Promise<void> {
  await writeDirectoryStaged(dir, (staging) => saveModelDirectory(staging, { config, tensors: weights }));
}

/** Reads a tokenizer model directory and validates its config. */
export async function readTokenizerModel(dir: string): Promise<{ config: TokenizerModelConfig; weights: NamedTensors }> {
  const { config, tensors } = await loadModelDirectory(dir);
  const c = config as Partial<TokenizerModelConfig>;
  if (typeof c !== 'object' || c === null || c.format !== TOKENIZER_FORMAT || !c.bae) {
    throw new ConfigError(`${dir}/config.json is not a tokenizer model (format "${String(c?.format)}", expected "${TOKENIZER_FORMAT}"). Pass the directory written by \`bigr train-tokenizer\`.`);
  }
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  checkConfigMaxima('bae', c.bae, configPath);
  const bae = validateConfig(c.bae);
  if (typeof c.pad !== 'number' || !Number.isInteger(c.pad) || c.pad < 0 || 2 * c.pad >= bae.resolution) {
    throw new ConfigError(`${configPath}: pad is ${JSON.stringify(c.pad)}; it must be an integer in 0..${Math.max(0, Math.ceil(bae.resolution / 2) - 1)} (2 for Fashion-MNIST's 28 → 32 padding). Fix the config.`);
  }
  checkWeightsMatchConfig({ section: 'bae', fields: bae as unknown as Record<string, unknown>, expected: baeParameterShapes(bae) }, tensors, configPath, weightsPath);
  maybeCheckFinite(tensors, weightsPath);
  return { config: { ...(c as TokenizerModelConfig), bae }, weights: tensors };
}

/** Loads a tokenizer model directory onto an engine. */
export async function loadTokenizer(dir: string, engine: Engine): Promise<{ tokenizer: BaeTokenizer; config: TokenizerModelConfig }> {
  const { config, weights } = await readTokenizerModel(dir);
  return { tokenizer: await BaeTokenizer.create(engine, config.bae, weights), config };
}
