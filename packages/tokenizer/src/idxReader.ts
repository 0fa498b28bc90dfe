import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError, CpuTensor, FormatError, NotFoundError } from '@bigr/core';
import { readBoundedFile } from './boundedRead.js';
import { padImages } from './imageIo.js';

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
 * Parses an IDX file (as used by MNIST / Fashion-MNIST), gzipped or not: magic 00 00 | type | ndims, then ndims
 * big-endian u32 dimensions, then big-endian data. Decompression is capped at `maxBytes`, and the data length
 * must equal the product of the dimensions exactly. Malformed input throws FormatError naming `source`.
 */
export function parseIdx(input: Uint8Array, options: IdxLimits & { source?: string } = {}): IdxArray {
  const source = options.source ?? 'IDX data';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let bytes = input;
  if (isGzip(input)) {
    try {
      bytes = new Uint8Array(gunzipSync(input, { maxOutputLength: maxBytes }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test((err as Error).message)) {
        throw new FormatError(`${source}: decompresses to more than ${maxBytes} bytes; raise maxBytes if the file is trusted.`, { cause: err });
      }
      throw new FormatError(`${source}: gzip data is corrupt or truncated (${(err as Error).message}).`, { cause: err });
    }
  }
  if (bytes.length < 4) throw new FormatError(`${source}: ${bytes.length} bytes is too short for an IDX header (at least 4). The file is truncated or not IDX.`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new FormatError(`${source}: magic starts with ${bytes[0]!.toString(16)} ${bytes[1]!.toString(16)} but IDX files start with 00 00. Is this an IDX file (e.g. train-images-idx3-ubyte)?`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) throw new FormatError(`${source}: unknown IDX element type 0x${bytes[2]!.toString(16)}; expected 08, 09, 0B, 0C, 0D or 0E.`);
  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > 8) throw new FormatError(`${source}: IDX header has ${ndims} dimensions; expected 1 to 8.`);
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) throw new FormatError(`${source}: truncated header (${bytes.length} bytes, ${headerLen} needed for ${ndims} dimensions).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
    if (count * type.size > maxBytes) throw new FormatError(`${source}: dimensions [${shape.join(', ')}…] describe more than ${maxBytes} bytes of data; the header is corrupt or maxBytes too small.`);
  }
  const expected = headerLen + count * type.size;
  if (bytes.length !== expected) {
    throw new FormatError(`${source}: header [${shape.join(', ')}] of ${type.dtype} needs ${expected} bytes but the data has ${bytes.length}. The file is ${bytes.length < expected ? 'truncated' : 'followed by extra bytes'}.`);
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

/** A labelled image set: images [N, C, H, W] float32 in [0, 1] and labels. */
export interface LabelledImages {
  /** Images in [0, 1]. */
  readonly images: CpuTensor<'float32'>;
  /** Class index per image. */
  readonly labels: Int32Array;
  /** Class names, index = label. */
  readonly classNames: readonly string[];
}

/** Fashion-MNIST class names, index = label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

async function findFile(dir: string, base: string): Promise<string> {
  for (const name of [base, `${base}.gz`]) {
    const p = join(dir, name);
    try {
      await access(p);
      return p;
    } catch {
      // try next
    }
  }
  throw new NotFoundError(`Cannot find ${base} or ${base}.gz in ${dir}. Point to the directory holding the (Fashion-)MNIST IDX files.`);
}

/** Options of {@link loadIdxImageSet}. */
export interface LoadIdxImageSetOptions extends IdxLimits {
  /** Keep only the first `limit` images. */
  readonly limit?: number;
  /** Zero padding on each side (2 turns 28×28 into the 32×32 of the `fashion-mnist-32` preset). Default 0. */
  readonly pad?: number;
  /** Class names by label (default {@link FASHION_MNIST_CLASSES}; pass digits for MNIST). */
  readonly classNames?: readonly string[];
}

/**
 * Loads an MNIST-style split from `dir`: `{split}-images-idx3-ubyte[.gz]` and `{split}-labels-idx1-ubyte[.gz]` with
 * split `'train'` or `'t10k'` (alias `'test'`). Images become [N, 1, H, W] in [0, 1] (byte/255), optionally padded.
 */
export async function loadIdxImageSet(dir: string, split: 'train' | 'test' | 't10k', options: LoadIdxImageSetOptions = {}): Promise<LabelledImages> {
  const prefix = split === 'test' ? 't10k' : split;
  if (prefix !== 'train' && prefix !== 't10k') throw new ConfigError(`Unknown split "${String(split)}"; use 'train' or 'test'.`);
  const imgPath = await findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = await findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = await readIdx(imgPath, options);
  const lbl = await readIdx(lblPath, options);
  if (img.dtype !== 'uint8' || img.shape.length !== 3) {
    throw new FormatError(`${imgPath}: expected uint8 images [N, H, W] but found ${img.dtype} [${img.shape.join(', ')}].`);
  }
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1) throw new FormatError(`${lblPath}: expected uint8 labels [N] but found ${lbl.dtype} [${lbl.shape.join(', ')}].`);
  if (lbl.shape[0] !== img.shape[0]) throw new FormatError(`${imgPath} has ${img.shape[0]} images but ${lblPath} has ${lbl.shape[0]} labels; the files do not belong together.`);
  const [total, h, w] = img.shape as [number, number, number];
  const n = options.limit === undefined ? total : Math.min(total, Math.max(0, Math.floor(options.limit)));
  const px = new Float32Array(n * h * w);
  for (let i = 0; i < px.length; i++) px[i] = img.data[i]! / 255;
  const labels = Int32Array.from((lbl.data as Uint8Array).subarray(0, n));
  let images = new CpuTensor<'float32'>(px, [n, 1, h, w]);
  if (options.pad) images = padImages(images, options.pad);
  const classNames = options.classNames ?? FASHION_MNIST_CLASSES;
  const maxLabel = labels.reduce((m, v) => Math.max(m, v), -1);
  if (maxLabel >= classNames.length) throw new FormatError(`${lblPath}: label ${maxLabel} has no class name (${classNames.length} names given); pass options.classNames.`);
  return { images, labels, classNames: [...classNames] };
}
