/**
 * File opening, existence checks and exact positioned reads shared by the file parsers (safetensors, ZIP archives,
 * torch checkpoints) and the packages that look for files (tokenizer, pipeline, CLI); not meant for applications.
 */
import { access, open, type FileHandle } from 'node:fs/promises';
import { FormatError, NotFoundError } from './errors.js';

/** Largest single positioned read (node limits one read to 2 GiB - 1). */
const READ_CHUNK = 1 << 30;

/** Opens `path` for reading; a missing file throws {@link NotFoundError} with `notFoundMessage`. */
export async function openForRead(path: string, notFoundMessage: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(notFoundMessage, { cause: err });
    throw err;
  }
}

/**
 * Reads exactly `into.length` bytes at `position`, in chunks of at most 1 GiB; a file that ends early throws a
 * {@link FormatError} naming `source`.
 */
export async function readExactly(fh: FileHandle, into: Uint8Array, position: number, source: string): Promise<void> {
  let off = 0;
  while (off < into.length) {
    const want = Math.min(into.length - off, READ_CHUNK);
    const { bytesRead } = await fh.read(into, off, want, position + off);
    if (bytesRead === 0) {
      throw new FormatError(
        `${source} is truncated: expected ${into.length} bytes at offset ${position}, but the file ended after ${off}. Was it modified while being read?`,
      );
    }
    off += bytesRead;
  }
}

/** True when `path` exists (anything `access` can reach: a file, a directory or a link to one). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
