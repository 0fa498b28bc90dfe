import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { CLI_VERSION } from './version.js';

/** Writes JSON atomically (temp file + rename), so a crash never leaves a half-written file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/** sha256 (hex, first 16 chars) of a file: identifies the model an output came from. */
export async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16);
}

/** Writes `<output>.json` next to an output: seed, resolved config, model hash and versions. */
export async function writeSidecar(outputPath: string, info: { command: string; seed?: number; config: unknown; modelHash?: string; extra?: Record<string, unknown> }): Promise<string> {
  const path = outputPath.replace(/\.[a-z0-9]+$/i, '') + '.json';
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
