import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { FormatError } from './errors.js';
import { readBoundedFile } from './boundedRead.js';

/** Element types of the IDX format (type byte 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E). */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A decoded IDX array (values converted from big-endian to host order). */
export interface IdxArray {
  /** Element type in the file. */
  readonly dtype: IdxDType;
  /** Dimensions from the header. */
  readonly shape: readonly number[];
  /** Values, row-major. */
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Limits for reading IDX files. */
export interface IdxLimits {
  /** Largest accepted file size and decompressed size, in bytes (default 512 MiB). */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const TYPES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** True when the bytes start with the gzip signature 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The total size (header + data, in bytes) an IDX file declares, read by decompressing only a small prefix of the
 * gzip stream (at most ~4 MB of output). Returns maxBytes when the prefix is too short to tell (parseIdx then
 * reports the exact problem).
 */
function declaredIdxBytes(input: Uint8Array, source: string, maxBytes: number): number {
  let head: Uint8Array;
  try {
    head = new Uint8Array(
      gunzipSync(input.subarray(0, Math.min(input.length, 4096)), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 }),
    );
  } catch {
    return maxBytes;
  }
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0) return maxBytes;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const type = TYPES[view.getUint8(2)];
  const ndims = view.getUint8(3);
  if (!type || ndims < 1 || ndims > 8 || head.length < 4 + 4 * ndims) return maxBytes;
  let total = type.size;
  for (let i = 0; i < ndims; i++) total *= view.getUint32(4 + 4 * i, false);
  const declared = 4 + 4 * ndims + total;
  if (declared > maxBytes) {
    throw new FormatError(
      `${source}: the IDX header declares ${declared} bytes of data, above the limit of ${maxBytes}; the header is corrupt or maxBytes too small.`,
    );
  }
  return declared;
}

/**
 * Parses an IDX file (as used by MNIST / Fashion-MNIST), gzipped or not: magic 00 00 | type | ndims, then ndims
 * big-endian u32 dimensions, then big-endian data. Decompression is capped at `maxBytes`, and the data length
 * must equal the product of the dimensions exactly. Malformed input throws FormatError naming `source`.
 */
export function parseIdx(input: Uint8Array, options: IdxLimits & { source?: string } = {}): IdxArray {
  const source = options.source ?? 'IDX data';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = input;
  if (isGzip(input)) {
    // Bound the decompressed size by the dimensions the header declares (a gzip bomb declares small dimensions or
    // none that fit), read from a partial decompression of the first bytes, and by maxBytes.
    const limit = Math.min(maxBytes, declaredIdxBytes(input, source, maxBytes));
    try {
      bytes = new Uint8Array(gunzipSync(input, { maxOutputLength: limit + 1 }));
      if (bytes.length > limit) throw Object.assign(new RangeError('maxOutputLength'), { code: 'ERR_BUFFER_TOO_LARGE' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test((err as Error).message)) {
        throw new FormatError(
          `${source}: decompresses to more than ${limit} bytes, the size its IDX header declares (limit ${maxBytes}); the file is corrupt or a gzip bomb. ` +
            `Re-download it, or raise maxBytes if the file is trusted.`,
          { cause: err },
        );
      }
      throw new FormatError(`${source}: gzip data is corrupt or truncated (${(err as Error).message}).`, { cause: err });
    }
  }
  if (bytes.length < 4)
    throw new FormatError(`${source}: ${bytes.length} bytes is too short for an IDX header (at least 4). The file is truncated or not IDX.`);
  // DataView reads are bounds-checked; the four magic bytes exist after the length check above.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== 0 || view.getUint8(1) !== 0) {
    throw new FormatError(
      `${source}: magic starts with ${view.getUint8(0).toString(16)} ${view.getUint8(1).toString(16)} but IDX files start with 00 00. ` +
        `Is this an IDX file (e.g. train-images-idx3-ubyte)?`,
    );
  }
  const type = TYPES[view.getUint8(2)];
  if (!type) throw new FormatError(`${source}: unknown IDX element type 0x${view.getUint8(2).toString(16)}; expected 08, 09, 0B, 0C, 0D or 0E.`);
  const ndims = view.getUint8(3);
  if (ndims < 1 || ndims > 8) throw new FormatError(`${source}: IDX header has ${ndims} dimensions; expected 1 to 8.`);
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw new FormatError(`${source}: truncated header (${bytes.length} bytes, ${headerLen} needed for ${ndims} dimensions).`);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
    if (count * type.size > maxBytes)
      throw new FormatError(
        `${source}: dimensions [${shape.join(', ')}…] describe more than ${maxBytes} bytes of data; the header is corrupt or maxBytes too small.`,
      );
  }
  const expected = headerLen + count * type.size;
  if (bytes.length !== expected) {
    throw new FormatError(
      `${source}: header [${shape.join(', ')}] of ${type.dtype} needs ${expected} bytes but the data has ${bytes.length}. ` +
        `The file is ${bytes.length < expected ? 'truncated' : 'followed by extra bytes'}.`,
    );
  }
  let data: IdxArray['data'];
  switch (type.dtype) {
    case 'uint8':
      data = bytes.slice(headerLen);
      break;
    case 'int8':
      data = new Int8Array(bytes.slice(headerLen).buffer);
      break;
    case 'int16':
      data = Int16Array.from({ length: count }, (_, i) => view.getInt16(headerLen + 2 * i, false));
      break;
    case 'int32':
      data = Int32Array.from({ length: count }, (_, i) => view.getInt32(headerLen + 4 * i, false));
      break;
    case 'float32':
      data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(headerLen + 4 * i, false));
      break;
    case 'float64':
      data = Float64Array.from({ length: count }, (_, i) => view.getFloat64(headerLen + 8 * i, false));
      break;
  }
  return { dtype: type.dtype, shape, data };
}

/** Reads and parses an IDX file (see {@link parseIdx}). */
export async function readIdx(path: string, options: IdxLimits = {}): Promise<IdxArray> {
  const bytes = await readBoundedFile(path, options.maxBytes ?? DEFAULT_MAX_BYTES);
  return parseIdx(bytes, { ...options, source: path });
}
