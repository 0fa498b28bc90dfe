import { loadModelDirectory, saveModelDirectory, type Engine, type NamedTensors } from '@bigr/core';
import { join } from 'node:path';
import { BaeTokenizer, type BaeConfig } from '@bigr/tokenizer';
import { validateTokenizerModel, type TOKENIZER_FORMAT } from './modelConfigs.js';
import { writeDirectoryStaged } from './stagedDirectory.js';

export { TOKENIZER_FORMAT } from './modelConfigs.js';

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
  const checked = validateTokenizerModel(config, tensors, { model: dir, configPath: join(dir, 'config.json'), weightsPath: join(dir, 'model.safetensors') });
  return { config: checked, weights: tensors };
}

/** Loads a tokenizer model directory onto an engine. */
export async function loadTokenizer(dir: string, engine: Engine): Promise<{ tokenizer: BaeTokenizer; config: TokenizerModelConfig }> {
  const { config, weights } = await readTokenizerModel(dir);
  return { tokenizer: await BaeTokenizer.create(engine, config.bae, weights), config };
}
