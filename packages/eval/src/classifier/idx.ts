import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { ConfigError, FormatError, NotFoundError } from '@bigr/core';

/**
 * A decoded IDX array of unsigned bytes (the MNIST / Fashion-MNIST file format). (@bigr/tokenizer has its own
 * reader; @bigr/eval depends only on @bigr/core, hence this small one.)
 */
export interface IdxUbyteArray {
  /** Dimensions, outermost first (images: [n, 28, 28]; labels: [n]). */
  readonly shape: readonly number[];
  /** Row-major values. */
  readonly data: Uint8Array;
}

/** Default bound on the decoded size of an IDX file (64 MB; Fashion-MNIST training images are 47 MB). */
export const DEFAULT_MAX_IDX_BYTES = 64 * 1024 * 1024;

/**
 * Parses an IDX file (optionally gzipped, detected by the 1f 8b magic). Layout: two zero bytes, a type byte
 * (only 0x08 = unsigned byte is accepted), the rank r, r big-endian uint32 dimensions, then the data. The
 * decompressed size is bounded by `maxBytes` and must match the header exactly.
 */
export function parseIdxUbyte(bytes: Uint8Array, options: { maxBytes?: number; source?: string } = {}): IdxUbyteArray {
  const source = options.source ?? 'IDX data';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IDX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 4) throw new ConfigError(`parseIdxUbyte maxBytes is ${maxBytes}; expected an integer >= 4.`);
  let raw = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (err) {
      throw new FormatError(`${source}: gzip decompression failed (${(err as Error).message}); the file is corrupt or larger than ${maxBytes} bytes (raise maxBytes).`, { cause: err });
    }
  }
  if (raw.length > maxBytes) throw new FormatError(`${source} is ${raw.length} bytes, above the ${maxBytes}-byte limit; raise maxBytes if it is genuine.`);
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) {
    throw new FormatError(`${source} does not start with the IDX magic 00 00 <type> <rank>; it is not an IDX file.`);
  }
  if (raw[2] !== 0x08) {
    throw new FormatError(`${source} has IDX element type 0x${raw[2]!.toString(16).padStart(2, '0')}; only unsigned bytes (0x08) are supported.`);
  }
  const rank = raw[3]!;
  if (rank < 1 || rank > 4) throw new FormatError(`${source} has IDX rank ${rank}; expected 1 to 4 dimensions.`);
  const head = 4 + 4 * rank;
  if (raw.length < head) throw new FormatError(`${source} is truncated inside its ${rank} dimension sizes (${raw.length} bytes).`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  if (count > maxBytes || head + count !== raw.length) {
    throw new FormatError(`${source}: dimensions [${shape.join(', ')}] need ${count} data bytes after the ${head}-byte header, but ${raw.length - head} are present. The file is truncated or corrupt.`);
  }
  return { shape, data: raw.slice(head) };
}

/** Reads and parses an IDX file (`.gz` or plain); see {@link parseIdxUbyte}. */
export async function readIdxUbyteFile(path: string, options: { maxBytes?: number } = {}): Promise<IdxUbyteArray> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IDX_BYTES;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`IDX file ${path} does not exist; check the dataset directory.`, { cause: err });
    throw err;
  }
  if (size > maxBytes) throw new FormatError(`${path} is ${size} bytes, above the ${maxBytes}-byte limit; raise maxBytes if it is genuine.`);
  return parseIdxUbyte(await readFile(path), { maxBytes, source: path });
}
