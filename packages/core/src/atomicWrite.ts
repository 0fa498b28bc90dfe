import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { NotFoundError } from './errors.js';

/** What {@link atomicWrite} can write: text (UTF-8), bytes, or a (possibly async) sequence of byte chunks. */
export type AtomicWriteContent = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options for {@link atomicWrite}. */
export interface AtomicWriteOptions {
  /** File mode of a newly created file (before umask). Default 0o666. */
  mode?: number;
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename durable on POSIX file systems; not supported everywhere (e.g. Windows), so best effort.
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // ignore: durability of the directory entry is a bonus, the file content is already synced
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes a file atomically: the content goes to a temporary file in the same directory
 * (`.<name>.<pid>.<random>.tmp`), which is fsynced and then renamed over `path`. Readers see either the old
 * file or the complete new one, never a partial write. On any failure (including an error thrown by an
 * iterable `content`) the temporary file is removed, the old file is left untouched and the error is rethrown.
 */
export async function atomicWrite(path: string, content: AtomicWriteContent, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx', options.mode ?? 0o666);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`Cannot write ${path}: directory ${dir} does not exist. Create it first (e.g. mkdir -p).`, { cause: err });
    }
    throw err;
  }
  try {
    if (typeof content === 'string') await writeAll(fh, new TextEncoder().encode(content));
    else if (content instanceof Uint8Array) await writeAll(fh, content);
    else if (Symbol.asyncIterator in content) for await (const chunk of content) await writeAll(fh, chunk);
    else for (const chunk of content) await writeAll(fh, chunk);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}
