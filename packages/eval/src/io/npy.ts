/**
 * The NumPy `.npy` format (docs/evaluation.md §2.4): magic `\x93NUMPY`, version (1.0: 2-byte header length; 2.0/3.0:
 * 4-byte), an ASCII/UTF-8 Python-dict header with `descr`, `fortran_order` and `shape`, padded with spaces to a
 * multiple of 64 bytes and ended by `\n`, then raw C-order data.
 *
 * Supported element types: little-endian float32 (`<f4`), float64 (`<f8`), uint8 (`|u1`) and int64 (`<i8`).
 * Big-endian data, object/structured dtypes and `fortran_order: True` are rejected with a {@link FormatError}.
 * Header sizes are bounded (default 10,000 bytes, NumPy's own `max_header_size`).
 */
import { at, ConfigError, FormatError } from '@bigr/core';
import { endianness } from 'node:os';

/** Element types this package reads and writes. */
export type NpyDType = 'float32' | 'float64' | 'uint8' | 'int64';

/** Typed array holding each {@link NpyDType}. */
export interface NpyDataMap {
  float32: Float32Array;
  float64: Float64Array;
  uint8: Uint8Array;
  int64: BigInt64Array;
}

/** An n-dimensional array as stored in `.npy` (C order). */
export interface NpyArray<D extends NpyDType = NpyDType> {
  /** Element type. */
  readonly dtype: D;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** Row-major elements. */
  readonly data: NpyDataMap[D];
}

/** A parsed `.npy` header. */
export interface NpyHeader {
  /** Format version major number (1, 2 or 3). */
  readonly version: number;
  /** Element type. */
  readonly dtype: NpyDType;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Total header size in bytes (magic to the end of the padding) = offset of the data. */
  readonly headerBytes: number;
  /** Number of elements. */
  readonly size: number;
  /** Size of the data in bytes. */
  readonly dataBytes: number;
}

/** NumPy's default `max_header_size`: the largest header text accepted unless overridden. */
export const NPY_MAX_HEADER_BYTES = 10_000;

/** Bytes per element of each dtype. */
export const NPY_ITEM_SIZE: { readonly [D in NpyDType]: number } = { float32: 4, float64: 8, uint8: 1, int64: 8 };

const DESCR: Record<string, NpyDType> = { '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<u1': 'uint8', '<i8': 'int64' };
const DESCR_OUT: { readonly [D in NpyDType]: string } = { float32: '<f4', float64: '<f8', uint8: '|u1', int64: '<i8' };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Throws unless the host is little-endian (typed-array views are used on the raw data). */
export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new ConfigError('The .npy/.npz reader needs a little-endian host; this machine is big-endian.');
}

/**
 * Length of the fixed preamble (magic, version, header-length field) for the version in `first8` (the first 8
 * bytes of the file): 10 for version 1, 12 for versions 2 and 3.
 */
export function npyPreambleLength(first8: Uint8Array, what = '.npy data'): number {
  for (let i = 0; i < 6; i++) {
    if (first8[i] !== MAGIC[i]) throw new FormatError(`${what} does not start with the NumPy magic \\x93NUMPY; it is not a .npy array.`);
  }
  const major = first8[6];
  if (major === 1) return 10;
  if (major === 2 || major === 3) return 12;
  throw new FormatError(`${what} uses .npy format version ${major}.${first8[7]}; versions 1.0, 2.0 and 3.0 are supported.`);
}

/** Header text length from the full preamble (10 or 12 bytes). */
export function npyHeaderTextLength(preamble: Uint8Array, maxHeaderBytes = NPY_MAX_HEADER_BYTES, what = '.npy data'): number {
  const view = new DataView(preamble.buffer, preamble.byteOffset, preamble.byteLength);
  const len = preamble[6] === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (len > maxHeaderBytes) {
    throw new FormatError(
      `${what} declares a ${len}-byte header; at most ${maxHeaderBytes} are accepted (NumPy's max_header_size). Raise maxHeaderBytes only for trusted files.`,
    );
  }
  return len;
}

/** Parses the header dict text into an {@link NpyHeader}; `headerBytes` = preamble + header text length. */
export function parseNpyHeaderText(text: string, headerBytes: number, version: number, what = '.npy data'): NpyHeader {
  const dict = parsePythonDict(text, what);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeValue = dict.get('shape');
  if (typeof descr !== 'string')
    throw new FormatError(
      `${what}: header field 'descr' is missing or not a simple type string (${JSON.stringify(descr)}). Structured dtypes are not supported.`,
    );
  if (typeof fortran !== 'boolean') throw new FormatError(`${what}: header field 'fortran_order' is missing or not True/False.`);
  if (!Array.isArray(shapeValue)) throw new FormatError(`${what}: header field 'shape' is missing or not a tuple.`);
  if (fortran) throw new FormatError(`${what} is stored with fortran_order: True; re-save it in C order (numpy.ascontiguousarray) before loading.`);
  const dtype = DESCR[descr];
  if (!dtype) {
    const hint = descr.startsWith('>')
      ? 'big-endian data is not supported; convert with arr.astype(arr.dtype.newbyteorder("<"))'
      : descr.includes('O')
        ? 'object arrays are not supported (they need pickle)'
        : 'supported are <f4, <f8, |u1 and <i8';
    throw new FormatError(`${what} has dtype descr '${descr}': ${hint}.`);
  }
  let size = 1;
  for (const d of shapeValue) {
    size *= d;
    if (!Number.isSafeInteger(size)) throw new FormatError(`${what}: shape (${shapeValue.join(', ')}) has too many elements.`);
  }
  const dataBytes = size * NPY_ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(dataBytes)) throw new FormatError(`${what}: shape (${shapeValue.join(', ')}) is too large.`);
  return { version, dtype, shape: shapeValue, headerBytes, size, dataBytes };
}

/** Parses the header of an in-memory `.npy` file. */
export function parseNpyHeader(bytes: Uint8Array, options: { maxHeaderBytes?: number; what?: string } = {}): NpyHeader {
  const what = options.what ?? '.npy data';
  if (bytes.length < 10) throw new FormatError(`${what} is ${bytes.length} bytes long, shorter than a .npy preamble.`);
  const pre = npyPreambleLength(bytes.subarray(0, 8), what);
  if (bytes.length < pre) throw new FormatError(`${what} is truncated inside the .npy preamble.`);
  const len = npyHeaderTextLength(bytes.subarray(0, pre), options.maxHeaderBytes, what);
  if (bytes.length < pre + len) throw new FormatError(`${what} is truncated inside the .npy header (needs ${pre + len} bytes, has ${bytes.length}).`);
  const version = at(bytes, 6, '.npy version byte');
  const text = decodeHeader(bytes.subarray(pre, pre + len), version);
  return parseNpyHeaderText(text, pre + len, version, what);
}

/** Decodes header bytes (latin-1 for version 1/2, UTF-8 for version 3). */
export function decodeHeader(bytes: Uint8Array, version: number): string {
  return new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes);
}

/** Parses a whole in-memory `.npy` file (data is copied into a fresh, aligned typed array). */
export function parseNpy(bytes: Uint8Array, options: { maxHeaderBytes?: number; what?: string } = {}): NpyArray {
  assertLittleEndianHost();
  const header = parseNpyHeader(bytes, options);
  const what = options.what ?? '.npy data';
  const end = header.headerBytes + header.dataBytes;
  if (bytes.length !== end) {
    throw new FormatError(
      `${what}: the header promises ${header.dataBytes} data bytes (${header.dtype}, shape (${header.shape.join(', ')})) but ` +
        `${bytes.length - header.headerBytes} are present. The file is truncated or corrupt.`,
    );
  }
  return { dtype: header.dtype, shape: header.shape, data: typedArrayFromBytes(header.dtype, bytes.subarray(header.headerBytes, end)) };
}

/**
 * Views little-endian bytes as a typed array of the given dtype. The bytes are copied into a fresh, aligned
 * buffer unless `adopt` is set and `bytes` exactly spans its own buffer (then the buffer is reused).
 */
export function typedArrayFromBytes<D extends NpyDType>(dtype: D, bytes: Uint8Array, adopt = false): NpyDataMap[D] {
  let copy = bytes;
  if (!adopt || bytes.byteOffset !== 0 || bytes.buffer.byteLength !== bytes.length) {
    copy = new Uint8Array(bytes.length);
    copy.set(bytes);
  }
  const n = bytes.length / NPY_ITEM_SIZE[dtype];
  switch (dtype) {
    case 'float32':
      return new Float32Array(copy.buffer, 0, n) as NpyDataMap[D];
    case 'float64':
      return new Float64Array(copy.buffer, 0, n) as NpyDataMap[D];
    case 'int64':
      return new BigInt64Array(copy.buffer, 0, n) as NpyDataMap[D];
    default:
      return copy as NpyDataMap[D];
  }
}

/** Encodes the `.npy` header (version 1.0 when it fits, else 2.0), padded so the data starts at a multiple of 64. */
export function encodeNpyHeader(dtype: NpyDType, shape: readonly number[]): Uint8Array {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ConfigError(`encodeNpyHeader: dimension ${d} of shape (${shape.join(', ')}) is not a non-negative integer.`);
  }
  const shapeText = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR_OUT[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let pre = 10;
  let total = pre + dict.length + 1;
  let padded = Math.ceil(total / 64) * 64;
  if (padded - pre > 0xffff) {
    pre = 12;
    total = pre + dict.length + 1;
    padded = Math.ceil(total / 64) * 64;
  }
  const text = `${dict}${' '.repeat(padded - total)}\n`;
  const out = new Uint8Array(padded);
  out.set(MAGIC, 0);
  out[6] = pre === 10 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (pre === 10) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

/** Serialises an array to `.npy` bytes. */
export function encodeNpy(array: NpyArray): Uint8Array {
  assertLittleEndianHost();
  checkArray(array);
  const header = encodeNpyHeader(array.dtype, array.shape);
  const data = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

/** Throws unless `array.data` has the element count of its shape and matches its dtype. */
export function checkArray(array: NpyArray): void {
  const size = array.shape.reduce((a, b) => a * b, 1);
  const expectedType = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, int64: BigInt64Array }[array.dtype];
  if (!(array.data instanceof expectedType)) throw new ConfigError(`NpyArray with dtype ${array.dtype} must hold a ${expectedType.name}.`);
  if (array.data.length !== size) {
    throw new ConfigError(`NpyArray has ${array.data.length} elements but shape (${array.shape.join(', ')}) needs ${size}.`);
  }
}

type PyValue = string | boolean | number[] | null;

/** Minimal parser for the header's Python dict literal: string keys; values are strings, booleans or int tuples. */
function parsePythonDict(text: string, what: string): Map<string, PyValue> {
  let i = 0;
  // a declaration (not an arrow) so that the compiler narrows the values after each `fail` call
  function fail(msg: string): never {
    throw new FormatError(`${what}: malformed .npy header (${msg} at character ${i}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  const ws = () => {
    while (i < text.length && /\s/.test(text.charAt(i))) i++;
  };
  const str = (): string => {
    const q = text.charAt(i);
    if (q !== "'" && q !== '"') fail('expected a string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    if (c === '(') {
      i++;
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[i] === ')') {
          i++;
          return dims;
        }
        const m = /^(\d+)L?/.exec(text.slice(i, i + 24));
        if (!m) fail('expected a non-negative integer dimension');
        const v = Number(m[1]);
        if (!Number.isSafeInteger(v)) fail('dimension too large');
        dims.push(v);
        i += m[0].length;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail("expected ',' or ')'");
      }
    }
    if (c === '[') {
      // structured dtype list: skip to reject with a clear message
      return null;
    }
    return fail('unsupported value');
  };
  const out = new Map<string, PyValue>();
  ws();
  if (text[i] !== '{') fail("expected '{'");
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    const v = value();
    if (v === null) {
      out.set(key, null);
      break;
    }
    out.set(key, v);
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  return out;
}
