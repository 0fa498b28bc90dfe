import { readFile, stat } from 'node:fs/promises';
import { FormatError, NotFoundError } from './errors.js';

/**
 * Reads a whole file after checking its size against `maxBytes` (parsers must bound every size they read);
 * NotFoundError / FormatError with the path on failure.
 */
export async function readBoundedFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FormatError(`${path} is not a regular file (it is a directory or device). Pass the path of a file.`);
    size = s.size;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new NotFoundError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`, {
      cause: err,
    });
  }
  if (size > maxBytes) throw new FormatError(`${path} is ${size} bytes, above the limit of ${maxBytes}. Raise maxBytes if the file is trusted.`);
  return new Uint8Array(await readFile(path));
}
