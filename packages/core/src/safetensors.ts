import type { FileHandle } from 'node:fs/promises';
import { atomicWrite } from './atomicWrite.js';
import { openForRead, readExactly } from './fileRead.js';
import { allocate, headerLengthFrom, parseHeaderJson, plan, encodeTensor } from './safetensorsFormat.js';
import type { SafetensorsContent, SafetensorsHeader, SafetensorsReadOptions, SafetensorsWriteOptions } from './safetensorsFormat.js';
import type { NamedTensors, Tensor } from './tensor.js';

// Node-only safetensors file I/O; the format itself (parse/serialise in memory) is in safetensorsFormat.ts.

/** Opens a safetensors file; a missing one throws NotFoundError. */
function openSafetensors(path: string): Promise<FileHandle> {
  return openForRead(path, `Safetensors file ${path} does not exist. Check the path or download/convert the model first.`);
}

async function readHeaderFrom(fh: FileHandle, path: string, options: SafetensorsReadOptions): Promise<SafetensorsHeader> {
  const { size } = await fh.stat();
  const prefix = new Uint8Array(8);
  if (size >= 8) await readExactly(fh, prefix, 0, path);
  const n = headerLengthFrom(prefix, size, options, path);
  const headerBytes = new Uint8Array(n);
  await readExactly(fh, headerBytes, 8, path);
  return parseHeaderJson(headerBytes, size - 8 - n, path);
}

/** Reads and validates the header of a safetensors file without loading tensor data. */
export async function readSafetensorsHeader(path: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsHeader> {
  const fh = await openSafetensors(path);
  try {
    return await readHeaderFrom(fh, options.source ?? path, options);
  } finally {
    await fh.close();
  }
}

/**
 * Reads a safetensors file. The header is read and validated first (bounded by `maxHeaderBytes` and the file
 * size); each tensor is then read straight into its own typed array, so memory use is one copy of the data.
 */
export async function readSafetensors(path: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsContent> {
  const source = options.source ?? path;
  const fh = await openSafetensors(path);
  try {
    const header = await readHeaderFrom(fh, source, options);
    const base = 8 + header.headerLength;
    const tensors: NamedTensors = new Map();
    for (const info of header.tensors) {
      if (options.filter && !options.filter(info.name)) continue;
      const slot = allocate(info, source);
      await readExactly(fh, slot.raw, base + info.dataOffsets[0], source);
      slot.decode();
      tensors.set(info.name, slot.tensor);
    }
    return { tensors, metadata: header.metadata };
  } finally {
    await fh.close();
  }
}

/**
 * Writes tensors to a safetensors file atomically (temp file in the same directory, fsync, rename), streaming
 * tensor by tensor so the file is never held twice in memory.
 */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  const { head, planned } = plan(tensors, metadata, options);
  function* chunks(): Generator<Uint8Array> {
    yield head;
    for (const p of planned) yield encodeTensor(p);
  }
  await atomicWrite(path, chunks());
}
