import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { atomicWrite } from '@bigr/core';
import { sidecarPath } from './outputs.js';
import { CLI_VERSION } from './version.js';

/** Writes JSON atomically (temp file + fsync + rename), so a crash never leaves a half-written file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await atomicWrite(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** sha256 (hex, first 16 chars) of a file: identifies the model an output came from. */
export async function fileHash(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
    .slice(0, 16);
}

/** Writes the sidecar `<output>.json` (e.g. `grid.png.json`) next to an output: seed, resolved config, model hash and versions. */
export async function writeSidecar(
  outputPath: string,
  info: { command: string; seed?: number; config: unknown; modelHash?: string; extra?: Record<string, unknown> },
): Promise<string> {
  const path = sidecarPath(outputPath);
  await writeJsonAtomic(path, {
    command: info.command,
    output: outputPath,
    seed: info.seed,
    config: info.config,
    modelHash: info.modelHash,
    versions: { bigr: CLI_VERSION, node: process.version },
    createdAt: new Date().toISOString(),
    ...info.extra,
  });
  return path;
}
