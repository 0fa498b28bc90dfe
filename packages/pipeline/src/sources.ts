/**
 * Resolving a model source to a local model directory: a directory on disk, a Hugging Face Hub repo id
 * (`owner/name[@revision]`, downloaded into the cache) or an official checkpoint pair (imported into the cache).
 */
import { NotFoundError } from '@bigr/core';
import { isModelDirectory, type ResolvedSource } from './modelSource.js';
import { hubRepoId, parseHubRepo, type HubOptions } from './hub/hubDownload.js';
import { downloadHubModel, importOfficialCached, type OfficialCheckpointSource } from './hub/hubModel.js';

/** Options for resolving a model source: the Hub, the cache, offline mode, progress and AbortSignal. */
export interface LoadSourceOptions extends HubOptions {}

/**
 * A model source: a model directory path, a Hub repo id `owner/name[@revision]` (also `hf://owner/name`), an
 * {@link OfficialCheckpointSource}, or the string `<bigr.pt>+<binaryae.th>` for a released pair.
 */
export type ModelSource = string | OfficialCheckpointSource;

const CHECKPOINT_RE = /\.(pt|pth|th|ckpt|bin|safetensors)$/i;

/** Resolves `source` to a local model directory (see {@link ModelSource}). A local directory wins over a repo id. */
export async function resolveModelSource(source: ModelSource, options: LoadSourceOptions = {}): Promise<ResolvedSource> {
  if (typeof source !== 'string') return { dir: await importOfficialCached(source, options), kind: 'official' };
  if (await isModelDirectory(source)) return { dir: source, kind: 'directory' };
  const plus = source.indexOf('+');
  if (plus > 0 && CHECKPOINT_RE.test(source.slice(0, plus)) && CHECKPOINT_RE.test(source.slice(plus + 1))) {
    return { dir: await importOfficialCached({ bigr: source.slice(0, plus), bae: source.slice(plus + 1) }, options), kind: 'official' };
  }
  const repo = parseHubRepo(source);
  if (repo && !source.startsWith('.') && !source.startsWith('/')) {
    const dir = await downloadHubModel(repo, options);
    if (!(await isModelDirectory(dir))) throw new NotFoundError(`${hubRepoId(repo)} was downloaded to ${dir} but holds no config.json.`);
    return { dir, kind: 'hub' };
  }
  throw new NotFoundError(
    `${source} is not a model directory (no config.json there). ` +
      `Pass a directory written by \`bigr train\`/\`bigr import\`, a Hugging Face Hub repo id such as owner/name[@revision], ` +
      `or an official checkpoint pair (bigr.pt+binaryae.th).`,
  );
}
