import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '@bigr/core';

/** Where a model comes from and how it is fetched; extended by the Hub loader. */
export interface ModelSourceOptions {
  /** Stops downloads and imports at the next safe point. */
  readonly signal?: AbortSignal;
}

/** A model directory on disk (resolved from a path, or downloaded/imported into the cache). */
export interface ResolvedSource {
  /** The local model directory. */
  readonly dir: string;
  /** How it was found: 'directory' for a local path. */
  readonly kind: 'directory' | 'hub' | 'official';
}

/** True when `dir` holds a `config.json`. */
export async function isModelDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'config.json'))).isFile();
  } catch {
    return false;
  }
}

/** Resolves a model directory path; NotFoundError naming what was expected when it is not one. */
export async function resolveLocalDirectory(source: string): Promise<ResolvedSource> {
  if (await isModelDirectory(source)) return { dir: source, kind: 'directory' };
  throw new NotFoundError(
    `${source} is not a model directory (no config.json there). ` +
      `Pass a directory written by \`bigr train\`/\`bigr import\`, a Hugging Face Hub repo id such as owner/name[@revision], ` +
      `or an official checkpoint pair.`,
  );
}
