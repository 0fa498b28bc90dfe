import { dims2, FormatError, loadModelDirectory, saveModelDirectory, type LoadModelDirectoryOptions, type NamedTensors, type Tensor } from '@bigr/core';
import { readTorchStateDict } from '@bigr/torch';
import { configFromHparams, configToHparams, validateConfig, type BaeConfig } from './config.js';
import { loadBaeParameters } from './parameters.js';
import { baePreset } from './presets.js';

/** `kind` written to a B-AE model directory's config.json. */
export const BAE_MODEL_KIND = 'bigr-bae';

/** A B-AE read from disk. */
export interface BaeModel {
  /** Architecture. */
  readonly config: BaeConfig;
  /** Parameters under official names (used ones only). */
  readonly parameters: NamedTensors;
}

/**
 * Saves a B-AE as a model directory (core `saveModelDirectory`): `model.safetensors` with the official state-dict
 * names (docs/algorithm.md §10.2) and `config.json` = `{ "kind": "bigr-bae", "hparams": {…official hparams names…} }`.
 * Both files are written atomically.
 */
export async function saveBae(dir: string, config: BaeConfig, parameters: ReadonlyMap<string, Tensor>): Promise<void> {
  const c = validateConfig(config);
  await saveModelDirectory(dir, {
    config: { kind: BAE_MODEL_KIND, hparams: configToHparams(c) },
    tensors: parameters,
    metadata: { format: 'bigr-bae', names: 'official BinaryAutoEncoder state_dict' },
  });
}

/**
 * Loads a B-AE model directory written by {@link saveBae}. The weights may also be a converted released checkpoint
 * (keys `ae.*` beside `disc.*`/`perceptual.*`, see `loadBaeParameters`), with `config.json` holding the official
 * hparams either under `hparams` or at the top level (as in the fixture's `tiny_bae_config.json`). Directories of the
 * CLI's `bigr-tokenizer` format (`{ format, bae: BaeConfig }`) are read as well.
 */
export async function loadBae(dir: string, options: LoadModelDirectoryOptions = {}): Promise<BaeModel> {
  const { config: raw, tensors } = await loadModelDirectory(dir, options);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FormatError(`${dir}/config.json must hold a JSON object with the B-AE hparams.`);
  const obj = raw as Record<string, unknown>;
  if (obj['format'] === 'bigr-tokenizer' && typeof obj['bae'] === 'object' && obj['bae'] !== null) {
    // the CLI's tokenizer directory (`bigr train-tokenizer`): { format, version, bae: BaeConfig, … }
    const config = validateConfig(obj['bae'] as BaeConfig);
    return { config, parameters: loadBaeParameters(config, tensors) };
  }
  if (obj['kind'] !== undefined && obj['kind'] !== BAE_MODEL_KIND) {
    throw new FormatError(
      `${dir}/config.json describes a "${String(obj['kind'])}" model, not a B-AE ("${BAE_MODEL_KIND}"). Point at the tokenizer's directory.`,
    );
  }
  const hparams = (typeof obj['hparams'] === 'object' && obj['hparams'] !== null ? obj['hparams'] : obj) as Record<string, unknown>;
  const config = configFromHparams(hparams);
  return { config, parameters: loadBaeParameters(config, tensors) };
}

/**
 * Reads a released B-AE checkpoint (`binaryae_ema_*.th`, a torch pickle of the whole EMA BinaryGAN, docs/algorithm.md §10.2)
 * without Python: only the `ae.*` tensors are read (not `disc.*`, `perceptual.*` or the unused `logsigma` head),
 * the prefix is stripped and the names map onto the B-AE without renaming. Without `config`, the released
 * architecture is assumed with K taken from `quantize.embed.weight` and 256 px (`bae-256-d{K}`) when
 * `encoder.blocks.14` is an attention block, else 512 px.
 */
export async function loadReleasedBae(path: string, config?: BaeConfig): Promise<BaeModel> {
  const tensors = await readTorchStateDict(path, { select: (k) => k.startsWith('ae.') && !k.startsWith('ae.generator.logsigma') });
  if (tensors.size === 0) throw new FormatError(`${path} holds no "ae.*" tensors; it is not a released BinaryGAN/B-AE checkpoint (docs/algorithm.md §10.2).`);
  let c = config;
  if (!c) {
    const embed = tensors.get('ae.quantize.embed.weight');
    if (embed?.shape.length !== 2) throw new FormatError(`${path} has no ae.quantize.embed.weight of shape (K, emb_dim); pass the B-AE config explicitly.`);
    const is256 = tensors.has('ae.encoder.blocks.14.q.weight');
    const [codeDim, embDim] = dims2(embed.shape, 'ae.quantize.embed.weight');
    c = baePreset(is256 ? 'bae-256-d24' : 'bae-512-d32', { codeDim, embDim });
  }
  return { config: c, parameters: loadBaeParameters(c, tensors) };
}
