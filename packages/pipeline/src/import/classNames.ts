import { readFile, stat } from 'node:fs/promises';
import { ConfigError, FormatError, NotFoundError } from '@bigr/core';

/** Largest class-name file accepted (ImageNet's 1000 names take ~30 KB). */
export const MAX_CLASS_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Reads class names, one per line (index = line number, 0-based), e.g. the 1000 ImageNet class names in label
 * order. Lines are trimmed and trailing blank lines ignored; a blank line inside the list is a {@link ConfigError}
 * (it would shift every later index).
 */
export async function readClassNames(path: string): Promise<string[]> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new NotFoundError(`Class-name file ${path} cannot be read (${(err as Error).message}). Check the --classes path.`, { cause: err });
  }
  if (size > MAX_CLASS_FILE_BYTES)
    throw new FormatError(`Class-name file ${path} is ${size} bytes, above the limit of ${MAX_CLASS_FILE_BYTES}; it should hold one short name per line.`);
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0)
    throw new ConfigError(`Class-name file ${path} has a blank line ${blank + 1}; every line up to the last must name one class (line n = class n − 1).`);
  return lines;
}
