/**
 * Model directories on the Hugging Face Hub and official checkpoints, resolved into the cache: a repository holding a
 * BiGR model directory (config.json, model.safetensors, tokenizer/) or a tokenizer directory is downloaded file by
 * file; released `.pt`/`.th` checkpoints (local or on the Hub) are imported once with {@link importOfficial} and the
 * resulting model directory is cached under a key of the files' identity.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, FormatError, parseJsonBounded } from '@bigr/core';
import { BIGR_FORMAT, confinedSubdirectory } from '../bigrModelDir.js';
import { TOKENIZER_FORMAT } from '../tokenizerModelDir.js';
import { importOfficial } from '../import/importOfficial.js';
import { isModelDirectory } from '../modelSource.js';
import { hubFile, hubRepoId, hubSettings, hubSnapshotDir, parseHubRepo, type HubOptions, type HubRepo } from './hubDownload.js';

/** The files of a model directory a loader needs. */
const MODEL_FILES = ['config.json', 'model.safetensors'] as const;

/** Downloads (or finds in the cache) the model directory stored in a Hub repository; returns its local path. */
export async function downloadHubModel(repo: HubRepo, options: HubOptions = {}): Promise<string> {
  const { cacheDir } = hubSettings(options);
  const configPath = await hubFile(repo, 'config.json', options);
  let config: { format?: unknown; tokenizer?: unknown };
  try {
    config = parseJsonBounded(await readFile(configPath, 'utf8'), { source: configPath }) as typeof config;
  } catch (err) {
    throw new FormatError(
      `config.json of ${hubRepoId(repo)} is not valid JSON (${(err as Error).message}); the repository does not hold a BiGR model directory.`,
    );
  }
  const dir = hubSnapshotDir(cacheDir, repo);
  if (typeof config !== 'object' || config === null || (config.format !== BIGR_FORMAT && config.format !== TOKENIZER_FORMAT)) {
    throw new FormatError(
      `${hubRepoId(repo)} is not a BiGR model: its config.json has format ${JSON.stringify((config as { format?: unknown } | null)?.format)}, ` +
        `expected "${BIGR_FORMAT}" or "${TOKENIZER_FORMAT}". ` +
        `Upload a directory written by \`bigr train\`/\`bigr import\`, or load released .pt/.th files as an official checkpoint pair.`,
    );
  }
  await hubFile(repo, 'model.safetensors', options);
  if (config.format === BIGR_FORMAT) {
    const sub = confinedSubdirectory(dir, config.tokenizer, 'tokenizer');
    for (const f of MODEL_FILES) await hubFile(repo, `${sub}/${f}`, options);
  }
  return dir;
}

/** Released checkpoints to import: paths, or Hub files written `owner/name[@revision]:path/in/repo`. */
export interface OfficialCheckpointSource {
  /** BiGR checkpoint (`bigr_*.pt`); omit for a tokenizer alone. */
  readonly bigr?: string;
  /** B-AE checkpoint (`binaryae_ema_*.th`). */
  readonly bae: string;
  /** Class names, index = label (default: the checkpoint's own, else the indices). */
  readonly classNames?: readonly string[];
  /** Attention head width (default 64, as released). */
  readonly headDim?: number;
  /** Attention heads (overrides headDim). */
  readonly heads?: number;
}

/** A checkpoint argument as a local file: a path, or `owner/name[@rev]:file` downloaded from the Hub. */
async function checkpointFile(ref: string, options: HubOptions): Promise<string> {
  const colon = ref.indexOf(':');
  if (colon > 0 && !ref.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(ref)) {
    const repo = parseHubRepo(ref.slice(0, colon));
    if (repo) return hubFile(repo, ref.slice(colon + 1), options);
  }
  return ref;
}

async function identity(path: string): Promise<string> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch {
    throw new ConfigError(`Checkpoint ${path} does not exist. Pass a local .pt/.th file or a Hub file as owner/name[@revision]:path.`);
  }
  return `${await realpath(path)}\0${s.size}\0${Math.round(s.mtimeMs)}`;
}

/**
 * The model directory imported from official checkpoints, cached under `<cache>/imported/<key>`: the key hashes the
 * files' real paths, sizes and modification times and the import options, so a changed file is imported again.
 */
export async function importOfficialCached(source: OfficialCheckpointSource, options: HubOptions = {}): Promise<string> {
  const { cacheDir } = hubSettings(options);
  const bae = await checkpointFile(source.bae, options);
  const bigr = source.bigr !== undefined ? await checkpointFile(source.bigr, options) : undefined;
  const key = createHash('sha256')
    .update(JSON.stringify([bigr ? await identity(bigr) : null, await identity(bae), source.classNames ?? null, source.headDim ?? null, source.heads ?? null]))
    .digest('hex')
    .slice(0, 24);
  const out = join(cacheDir, 'imported', key);
  if (await isModelDirectory(out)) return out;
  await importOfficial({
    bae,
    out,
    overwrite: true,
    ...(bigr !== undefined ? { bigr } : {}),
    ...(source.classNames ? { classNames: source.classNames } : {}),
    ...(source.headDim !== undefined ? { headDim: source.headDim } : {}),
    ...(source.heads !== undefined ? { heads: source.heads } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return out;
}
