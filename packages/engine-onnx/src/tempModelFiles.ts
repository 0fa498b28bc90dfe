import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigrError, ConfigError } from '@bigr/core';
import { externalDataPieces, externalInitializers, layoutExternalData } from './externalData.js';
import type { OnnxGraphBuilder } from './graphBuilder.js';

/** File names inside a {@link TempModelFiles} directory. */
export const TEMP_MODEL_FILE = 'model.onnx';
/** External data file name inside a {@link TempModelFiles} directory. */
export const TEMP_DATA_FILE = 'model.onnx.data';

/** A model written with external data to a private temporary directory. */
export interface TempModelFiles {
  /** The directory (created with `mkdtemp`, mode 0700). */
  readonly dir: string;
  /** Path of `model.onnx`. */
  readonly modelPath: string;
  /** Size of `model.onnx.data` in bytes. */
  readonly dataBytes: number;
  /** Removes the directory and its files. Idempotent; rejects only if removal fails. */
  remove(): Promise<void>;
}

async function writePieces(path: string, pieces: Iterable<Uint8Array>): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    for (const piece of pieces) {
      let off = 0;
      while (off < piece.byteLength) off += (await fh.write(piece, off, piece.byteLength - off)).bytesWritten;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Writes the model of `builder` to a fresh directory under `parent` (default the OS temp directory):
 * `model.onnx.data` (initializers of at least `minBytes`, streamed tensor by tensor, 4 KiB / 64 KiB aligned)
 * and then `model.onnx` referring to it. The directory is private and new, so no reader sees partial files;
 * on any failure it is removed and a {@link ConfigError} names the directory and the fix. The files are not
 * fsynced: they only live until onnxruntime has read them.
 */
export async function writeTempModel(builder: OnnxGraphBuilder, minBytes: number, parent: string = tmpdir()): Promise<TempModelFiles> {
  let dir: string;
  try {
    dir = await mkdtemp(join(parent, 'bigr-onnx-'));
  } catch (err) {
    throw new ConfigError(
      `Cannot create a temporary directory in ${parent} for the external data of graph "${builder.graphName}" (${(err as Error).message}). ` +
        `Set tempDirectory to a writable directory on disk.`,
      { cause: err },
    );
  }
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    await rm(dir, { recursive: true, force: true });
    removed = true;
  };
  try {
    const layout = layoutExternalData(externalInitializers(builder, minBytes), TEMP_DATA_FILE);
    const model = builder.serialize({}, layout.locations);
    await writePieces(join(dir, TEMP_DATA_FILE), externalDataPieces(layout));
    await writeFile(join(dir, TEMP_MODEL_FILE), model, { flag: 'wx', mode: 0o600 });
    return { dir, modelPath: join(dir, TEMP_MODEL_FILE), dataBytes: layout.byteLength, remove };
  } catch (err) {
    await remove().catch(() => undefined);
    if (err instanceof BigrError) throw err;
    throw new ConfigError(
      `Cannot write the external data of graph "${builder.graphName}" to ${dir} (${(err as Error).message}). ` +
        `Free disk space, set tempDirectory to a larger disk (not a RAM-backed tmpfs), or use externalDataStorage 'memory'.`,
      { cause: err },
    );
  }
}
