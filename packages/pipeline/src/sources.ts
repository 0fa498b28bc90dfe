/**
 * Resolving a model source string to a local model directory: a directory on disk, a Hugging Face Hub repo id
 * (`owner/name[@revision]`, downloaded into the cache) or an official checkpoint pair (imported into the cache).
 */
import type { ProgressCallback } from '@bigr/core';
import { resolveLocalDirectory, isModelDirectory, type ResolvedSource } from './modelSource.js';

/** Options for resolving a model source (the Hub and the cache). */
export interface LoadSourceOptions {
  /** Stops downloads and imports at the next safe point. */
  readonly signal?: AbortSignal;
  /** Download and import progress. */
  readonly onProgress?: ProgressCallback;
}

/** Resolves `source` to a local model directory (see the module comment for the accepted forms). */
export async function resolveModelSource(source: string, _options: LoadSourceOptions = {}): Promise<ResolvedSource> {
  if (await isModelDirectory(source)) return { dir: source, kind: 'directory' };
  return resolveLocalDirectory(source);
}
