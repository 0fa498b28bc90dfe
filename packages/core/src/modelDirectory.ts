import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from './atomicWrite.js';
import { parseJsonBounded } from './jsonBounded.js';
import { ConfigError, FormatError, NotFoundError } from './errors.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { SafetensorsReadOptions, SafetensorsWriteOptions } from './safetensorsFormat.js';
import type { NamedTensors, Tensor } from './tensor.js';

/** File name of a model directory's configuration (JSON). */
export const MODEL_CONFIG_FILE = 'config.json';
/** File name of a model directory's weights (safetensors). */
export const MODEL_WEIGHTS_FILE = 'model.safetensors';
/** Default bound on the size of `config.json` (16 MB). */
export const DEFAULT_MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** What {@link saveModelDirectory} writes. */
export interface ModelDirectoryInput {
  /** The model configuration; must be JSON-serialisable (written as pretty-printed `config.json`). */
  readonly config: object;
  /** Weights, written to `model.safetensors` in map order. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** String metadata stored in the safetensors `__metadata__`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What {@link loadModelDirectory} returns. */
export interface ModelDirectoryContent {
  /** Parsed `config.json` (validate it with the model's own config parser). */
  readonly config: unknown;
  /** Weights from `model.safetensors`. */
  readonly tensors: NamedTensors;
  /** The safetensors `__metadata__` (empty when absent). */
  readonly metadata: Record<string, string>;
}

/** Options for {@link loadModelDirectory}. */
export interface LoadModelDirectoryOptions extends SafetensorsReadOptions {
  /** Largest accepted `config.json`, in bytes. Default {@link DEFAULT_MAX_CONFIG_BYTES}. */
  maxConfigBytes?: number;
}

/**
 * Saves a model directory: `model.safetensors` (weights) and `config.json`. The directory is created if needed and
 * each file is written atomically (temp + fsync + rename); the weights are written first, so a crash in between
 * leaves the old config beside new weights at worst, never a partial file.
 */
export async function saveModelDirectory(dir: string, model: ModelDirectoryInput, options: SafetensorsWriteOptions = {}): Promise<void> {
  let configText: string | undefined;
  try {
    configText = JSON.stringify(model.config, null, 2);
  } catch (err) {
    throw new ConfigError(`The model config for ${dir} cannot be written as JSON (${(err as Error).message}). Pass a plain object without cycles or BigInts.`, {
      cause: err,
    });
  }
  if (configText === undefined || typeof model.config !== 'object' || model.config === null || Array.isArray(model.config)) {
    throw new ConfigError(`The model config for ${dir} is ${configText ?? String(model.config)}; a JSON object was expected.`);
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, MODEL_WEIGHTS_FILE), model.tensors, model.metadata, options);
  await atomicWrite(join(dir, MODEL_CONFIG_FILE), `${configText}\n`);
}

async function fileSize(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * Loads a model directory written by {@link saveModelDirectory} (or any directory with `config.json` and
 * `model.safetensors`). Throws {@link NotFoundError} listing every missing file, and {@link FormatError} for a
 * malformed or oversized config or weights file.
 */
export async function loadModelDirectory(dir: string, options: LoadModelDirectoryOptions = {}): Promise<ModelDirectoryContent> {
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!isDir) {
    throw new NotFoundError(
      `Model directory ${dir} does not exist or is not a directory. Expected a directory with ${MODEL_CONFIG_FILE} and ${MODEL_WEIGHTS_FILE}; check the path.`,
    );
  }
  const configPath = join(dir, MODEL_CONFIG_FILE);
  const weightsPath = join(dir, MODEL_WEIGHTS_FILE);
  const [configSize, weightsSize] = await Promise.all([fileSize(configPath), fileSize(weightsPath)]);
  if (configSize === null || weightsSize === null) {
    const missing = [configSize === null ? MODEL_CONFIG_FILE : null, weightsSize === null ? MODEL_WEIGHTS_FILE : null].filter((x): x is string => x !== null);
    throw new NotFoundError(
      `Model directory ${dir} is missing ${missing.join(' and ')}. ` +
        `A model directory holds ${MODEL_CONFIG_FILE} (configuration) and ${MODEL_WEIGHTS_FILE} (weights); ` +
        `save it with saveModelDirectory or point at the right directory.`,
    );
  }
  const maxConfig = options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
  if (configSize > maxConfig) {
    throw new FormatError(
      `${configPath} is ${configSize} bytes, above the ${maxConfig}-byte limit for a model config. The file is not a model config, or raise maxConfigBytes.`,
    );
  }
  const config = parseJsonBounded(await readFile(configPath, 'utf8'), { source: configPath });
  const { maxConfigBytes: _unused, ...readOptions } = options;
  const { tensors, metadata } = await readSafetensors(weightsPath, readOptions);
  return { config, tensors, metadata };
}
