import { atomicWrite } from '@bigr/core';
import { readBoundedFile } from './boundedRead.js';
import { DEFAULT_MAX_HASH_INDEX_FILE, HashIndex as HashIndexCodes, type HashIndexLimits } from './hashIndexCodes.js';

export type { Neighbours, HashIndexLimits } from './hashIndexCodes.js';

/**
 * A brute-force Hamming index over packed binary codes (see the browser-safe base class in hashIndexCodes.ts for
 * the search and the file format), with Node file I/O: {@link HashIndex.save} and {@link HashIndex.load}.
 */
export class HashIndex extends HashIndexCodes {
  /** Writes the index to `path` atomically (temp file + rename). */
  async save(path: string): Promise<void> {
    await atomicWrite(path, this.serialize());
  }

  /** Loads an index file (bounded by `limits.maxBytes`, default 2 GiB). */
  static async load(path: string, limits: HashIndexLimits = {}): Promise<HashIndex> {
    const bytes = await readBoundedFile(path, limits.maxBytes ?? DEFAULT_MAX_HASH_INDEX_FILE);
    return HashIndex.deserialize(bytes, path);
  }
}
