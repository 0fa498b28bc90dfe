import { jsonNestingDepth } from './jsonBounded.js';
import { ConfigError, FormatError } from './errors.js';
import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from './halfFloat.js';
import { required } from './invariants.js';
import { CpuTensor, isTensor, type DType, type NamedTensors, type Tensor } from './tensor.js';

/**
 * Safetensors (Hugging Face) reading and writing.
 *
 * Layout: an unsigned 64-bit little-endian header length N, then N bytes of UTF-8 JSON (an object that maps
 * tensor names to `{dtype, shape, data_offsets: [begin, end]}` plus an optional `__metadata__` string→string
 * map; offsets are relative to the data section), then the data section of little-endian C-order tensor bytes.
 * The tensors must cover the data section exactly, without gaps or overlaps.
 *
 * dtype mapping on read: F32→float32, F64→float64, I32→int32, U8→uint8, BOOL→uint8 (0/1), I64→int32 (an error
 * if a value is outside the int32 range), F16/BF16→float32 (exact). On write: float32→F32, float64→F64,
 * int32→I32, uint8→U8, unless {@link SafetensorsWriteOptions.storeAs} asks for another file dtype.
 */

/** Element types that {@link parseSafetensors} can read. */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

const ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };
const SUPPORTED = Object.keys(ITEM_SIZE) as SafetensorsDType[];
/** dtypes of the format that this reader does not convert. */
const UNSUPPORTED = ['I8', 'I16', 'U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64'];
const TARGET: Readonly<Record<SafetensorsDType, DType>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float32',
  BF16: 'float32',
  I64: 'int32',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'uint8',
};

/** Default bound on the JSON header size (100 MB). */
export const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** One tensor entry of a safetensors header. */
export interface SafetensorsTensorInfo {
  /** Tensor name (key in the header). */
  readonly name: string;
  /** Element type in the file. */
  readonly dtype: SafetensorsDType;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** [begin, end) byte offsets relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Tensor entries in data (file) order. */
  readonly tensors: readonly SafetensorsTensorInfo[];
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Record<string, string>;
  /** JSON header length N in bytes. */
  readonly headerLength: number;
  /** Byte length of the data section. */
  readonly dataLength: number;
}

/** Decoded content of a safetensors file. */
export interface SafetensorsContent {
  /** Tensors by name, in file order. */
  readonly tensors: NamedTensors;
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Record<string, string>;
}

/** Options for reading. */
export interface SafetensorsReadOptions {
  /** Largest accepted JSON header, in bytes. Default {@link DEFAULT_MAX_HEADER_BYTES}. */
  maxHeaderBytes?: number;
  /** Decode only tensors for which this returns true (all are still validated). */
  filter?: (name: string) => boolean;
  /** Name of the source used in error messages (a path). */
  source?: string;
}

/** Options for writing. */
export interface SafetensorsWriteOptions {
  /**
   * File dtype per tensor name, overriding the default for its dtype. Allowed: float32/float64 → F32, F64, F16,
   * BF16 (rounded to nearest even); int32 → I32, I64; uint8 → U8, BOOL (values must be 0/1).
   */
  storeAs?: Readonly<Record<string, SafetensorsDType>>;
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n} bytes (${(n / 1024 / 1024).toFixed(1)} MB)` : `${n} bytes`;
}

/** Validates the 8-byte length prefix against the total size; returns N. */
/** @internal */
export function headerLengthFrom(prefix: Uint8Array, totalSize: number, options: SafetensorsReadOptions, source: string): number {
  if (totalSize < 8) {
    throw new FormatError(
      `${source} is ${totalSize} bytes, shorter than the 8-byte header length of a safetensors file. ` +
        `The file is truncated or not safetensors; re-export or re-download it.`,
    );
  }
  const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new ConfigError(`maxHeaderBytes is ${String(max)}; expected a non-negative integer number of bytes.`);
  }
  const dv = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi >= 2 ** 21 || n > max) {
    throw new FormatError(
      `${source}: the safetensors header length is ${hi >= 2 ** 21 ? `${dv.getBigUint64(0, true)}` : n} bytes, above the limit of ${fmtBytes(max)}. ` +
        `The file is corrupt or not safetensors; if it is genuine, raise the maxHeaderBytes option.`,
    );
  }
  if (8 + n > totalSize) {
    throw new FormatError(
      `${source} is truncated: the header says ${n} header bytes follow the 8-byte prefix, but the file has only ${totalSize} bytes in total. ` +
        `Re-export or re-download it.`,
    );
  }
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function preview(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function nonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Deepest nesting of a valid safetensors header: object → entry → shape array (metadata values are strings). */
const MAX_HEADER_DEPTH = 3;

/** Parses and validates the JSON header bytes. */
/** @internal */
export function parseHeaderJson(headerBytes: Uint8Array, dataLength: number, source: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch (err) {
    throw new FormatError(`${source}: the safetensors header is not valid UTF-8. The file is corrupt; re-export it.`, { cause: err });
  }
  if (!text.startsWith('{')) {
    throw new FormatError(
      `${source}: the safetensors header must start with "{" but starts with ${preview(text.slice(0, 16))}. The file is corrupt or not safetensors.`,
    );
  }
  const depth = jsonNestingDepth(text);
  if (depth > MAX_HEADER_DEPTH) {
    throw new FormatError(
      `${source}: the safetensors header nests ${depth} levels deep; a header is at most ${MAX_HEADER_DEPTH} (name → {dtype, shape, data_offsets}). ` +
        `The file is corrupt or hostile; re-export it.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${source}: the safetensors header is not valid JSON (${(err as Error).message}). The file is corrupt; re-export it.`, {
      cause: err,
    });
  }
  if (!isPlainObject(json)) {
    throw new FormatError(
      `${source}: the safetensors header is ${preview(json)}, but a JSON object mapping tensor names to {dtype, shape, data_offsets} was expected.`,
    );
  }
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (entry === null) continue; // some writers emit null for "no metadata"
      if (!isPlainObject(entry)) {
        throw new FormatError(`${source}: __metadata__ is ${preview(entry)}, but an object of string values was expected.`);
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') {
          throw new FormatError(
            `${source}: __metadata__["${k}"] is ${preview(v)}, but metadata values must be strings. Store numbers and objects as JSON text.`,
          );
        }
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(name, entry, dataLength, source));
  }
  checkCoverage(tensors, dataLength, source);
  return { tensors, metadata, headerLength: headerBytes.length, dataLength };
}

function parseEntry(name: string, entry: unknown, dataLength: number, source: string): SafetensorsTensorInfo {
  const where = `${source}: tensor "${name}"`;
  if (!isPlainObject(entry)) {
    throw new FormatError(`${where} has header entry ${preview(entry)}; expected an object {dtype, shape, data_offsets}.`);
  }
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') {
    throw new FormatError(`${where} has dtype ${preview(dtype)}; expected one of ${SUPPORTED.join(', ')}.`);
  }
  if (!(SUPPORTED as string[]).includes(dtype)) {
    const known = UNSUPPORTED.includes(dtype);
    throw new FormatError(
      `${where} has ${known ? 'unsupported' : 'unknown'} dtype "${dtype}"; supported dtypes are ${SUPPORTED.join(', ')}. ` +
        (known ? 'Convert the tensor (e.g. to F32 or I32) before saving.' : 'The file is corrupt or uses a newer format version.'),
    );
  }
  if (!Array.isArray(shape) || !shape.every(nonNegativeInt)) {
    throw new FormatError(`${where} has shape ${preview(shape)}; expected an array of non-negative integers.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(nonNegativeInt)) {
    throw new FormatError(`${where} has data_offsets ${preview(offsets)}; expected [begin, end] with non-negative integers.`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new FormatError(`${where} has data_offsets [${begin}, ${end}] with begin > end; expected begin <= end.`);
  }
  if (end > dataLength) {
    throw new FormatError(
      `${where} has data_offsets [${begin}, ${end}] outside the data section of ${dataLength} bytes. The file is truncated or its header is corrupt.`,
    );
  }
  const item = ITEM_SIZE[dtype as SafetensorsDType];
  let numel = 1;
  for (const d of shape as number[]) {
    if (d !== 0 && numel > Number.MAX_SAFE_INTEGER / d) {
      throw new FormatError(`${where} has shape [${shape.join(', ')}] whose element count overflows; the header is corrupt.`);
    }
    numel *= d;
  }
  if (numel * item !== end - begin) {
    throw new FormatError(
      `${where} has shape [${shape.join(', ')}] and dtype ${dtype}, so it needs ${numel} × ${item} = ${numel * item} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin} bytes. The header is corrupt.`,
    );
  }
  return { name, dtype: dtype as SafetensorsDType, shape: shape as number[], dataOffsets: [begin, end] };
}

/** Sorts entries by offset and checks that they tile [0, dataLength) exactly. */
function checkCoverage(tensors: SafetensorsTensorInfo[], dataLength: number, source: string): void {
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  let prev: SafetensorsTensorInfo | undefined;
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < cursor) {
      // The cursor only moves past 0 after a tensor, so an overlap always has a predecessor.
      const before = required(prev, 'tensor that ends at the cursor');
      throw new FormatError(
        `${source}: tensor "${t.name}" (data_offsets [${begin}, ${end}]) overlaps tensor "${before.name}" (data_offsets [${before.dataOffsets.join(', ')}]). ` +
          `Each tensor must have its own byte range; re-export the file.`,
      );
    }
    if (begin > cursor) {
      throw new FormatError(
        `${source}: bytes [${cursor}, ${begin}) of the data section belong to no tensor (a hole before "${t.name}"). ` +
          `The safetensors format requires the tensors to cover the data section exactly; re-export the file.`,
      );
    }
    cursor = end;
    prev = t;
  }
  if (cursor !== dataLength) {
    throw new FormatError(
      `${source}: the data section has ${dataLength} bytes but the tensors cover only [0, ${cursor}); ` +
        `${dataLength - cursor} trailing bytes belong to no tensor. Re-export the file.`,
    );
  }
}

/** Destination typed array for an entry plus the raw byte buffer the file bytes go into. */
/** @internal */
export interface Slot {
  readonly tensor: CpuTensor;
  readonly raw: Uint8Array;
  decode(): void;
}

/** @internal */
export function allocate(info: SafetensorsTensorInfo, source: string): Slot {
  const numel = (info.dataOffsets[1] - info.dataOffsets[0]) / ITEM_SIZE[info.dtype];
  const target = TARGET[info.dtype];
  const byteLength = info.dataOffsets[1] - info.dataOffsets[0];
  const direct = info.dtype === 'F32' || info.dtype === 'F64' || info.dtype === 'I32' || info.dtype === 'U8';
  const tensor = CpuTensor.zeros(target, info.shape);
  if (direct && (LITTLE_ENDIAN_HOST || info.dtype === 'U8')) {
    const d = tensor.data;
    return { tensor, raw: new Uint8Array(d.buffer, d.byteOffset, d.byteLength), decode: () => undefined };
  }
  const raw = new Uint8Array(byteLength);
  const dv = new DataView(raw.buffer);
  const out = tensor.data;
  const where = `${source}: tensor "${info.name}"`;
  const decoders: Record<SafetensorsDType, () => void> = {
    F32: () => {
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(4 * i, true);
    },
    F64: () => {
      for (let i = 0; i < numel; i++) out[i] = dv.getFloat64(8 * i, true);
    },
    I32: () => {
      for (let i = 0; i < numel; i++) out[i] = dv.getInt32(4 * i, true);
    },
    U8: () => (out as Uint8Array).set(raw),
    BOOL: () => {
      for (let i = 0; i < numel; i++) {
        const v = required(raw[i], 'BOOL byte');
        if (v > 1) throw new FormatError(`${where} (BOOL) holds byte ${v} at element ${i}; BOOL bytes must be 0 or 1. The file is corrupt.`);
        out[i] = v;
      }
    },
    I64: () => {
      for (let i = 0; i < numel; i++) {
        const lo = dv.getUint32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        if (!((hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000))) {
          throw new FormatError(
            `${where} (I64) holds ${dv.getBigInt64(8 * i, true)} at element ${i}, ` +
              `outside the int32 range [-2147483648, 2147483647] that I64 tensors are converted to. Store it as F64 or reduce the values.`,
          );
        }
        out[i] = lo | 0;
      }
    },
    F16: () => {
      for (let i = 0; i < numel; i++) out[i] = f16BitsToNumber(dv.getUint16(2 * i, true));
    },
    BF16: () => {
      for (let i = 0; i < numel; i++) out[i] = bf16BitsToNumber(dv.getUint16(2 * i, true));
    },
  };
  return { tensor, raw, decode: decoders[info.dtype] };
}

/**
 * Parses a safetensors file held in memory. Every size is validated before anything is allocated; problems are
 * reported as {@link FormatError}s naming the tensor, the bad value, what was expected and the fix.
 */
export function parseSafetensors(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsContent {
  const source = options.source ?? 'safetensors data';
  const n = headerLengthFrom(bytes.subarray(0, 8), bytes.length, options, source);
  const header = parseHeaderJson(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const tensors: NamedTensors = new Map();
  const base = 8 + n;
  for (const info of header.tensors) {
    if (options.filter && !options.filter(info.name)) continue;
    const slot = allocate(info, source);
    slot.raw.set(bytes.subarray(base + info.dataOffsets[0], base + info.dataOffsets[1]));
    slot.decode();
    tensors.set(info.name, slot.tensor);
  }
  return { tensors, metadata: header.metadata };
}

/** Parses only the header of an in-memory safetensors file (validated like {@link parseSafetensors}). */
export function parseSafetensorsHeader(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsHeader {
  const source = options.source ?? 'safetensors data';
  const n = headerLengthFrom(bytes.subarray(0, 8), bytes.length, options, source);
  return parseHeaderJson(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
}
const DEFAULT_FILE_DTYPE: Readonly<Record<DType, SafetensorsDType>> = { float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8' };
const ALLOWED_STORE: Readonly<Record<DType, readonly SafetensorsDType[]>> = {
  float32: ['F32', 'F64', 'F16', 'BF16'],
  float64: ['F64', 'F32', 'F16', 'BF16'],
  int32: ['I32', 'I64'],
  uint8: ['U8', 'BOOL'],
};

/** @internal */
export interface PlannedTensor {
  readonly name: string;
  readonly tensor: Tensor;
  readonly fileDtype: SafetensorsDType;
  readonly begin: number;
  readonly end: number;
}

/** Encodes one tensor into its file bytes (a zero-copy view when possible). */
/** @internal */
export function encodeTensor(p: PlannedTensor): Uint8Array {
  const src = p.tensor.data;
  const n = src.length;
  const same = DEFAULT_FILE_DTYPE[p.tensor.dtype] === p.fileDtype;
  if (same && (LITTLE_ENDIAN_HOST || p.fileDtype === 'U8')) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const out = new Uint8Array(p.end - p.begin);
  const dv = new DataView(out.buffer);
  switch (p.fileDtype) {
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, required(src[i], 'tensor element'), true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, required(src[i], 'tensor element'), true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, required(src[i], 'tensor element'), true);
      break;
    case 'U8':
      out.set(src as Uint8Array);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const v = required(src[i], 'tensor element');
        if (v > 1)
          throw new ConfigError(`Tensor "${p.name}" holds ${v} at element ${i} but is stored as BOOL, which needs 0/1 values. Store it as U8 instead.`);
        out[i] = v;
      }
      break;
    case 'I64':
      for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, BigInt(required(src[i], 'tensor element')), true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, numberToF16Bits(required(src[i], 'tensor element')), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, numberToBf16Bits(required(src[i], 'tensor element')), true);
      break;
  }
  return out;
}

/** Validates inputs and lays out the file: header bytes (with the 8-byte prefix) and planned tensors. */
/** @internal */
export function plan(
  tensors: ReadonlyMap<string, Tensor>,
  metadata: Readonly<Record<string, string>> | undefined,
  options: SafetensorsWriteOptions,
): { head: Uint8Array; planned: PlannedTensor[]; total: number } {
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new ConfigError(`Safetensors metadata is ${preview(metadata)}; expected an object of string values.`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new ConfigError(`Safetensors metadata "${k}" is ${preview(v)}; metadata values must be strings. Use JSON.stringify for numbers and objects.`);
      }
    }
    if (Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const storeAs = options.storeAs ?? {};
  for (const name of Object.keys(storeAs)) {
    if (!tensors.has(name))
      throw new ConfigError(`storeAs names tensor "${name}", which is not among the tensors being written. Fix the name or remove the entry.`);
  }
  const planned: PlannedTensor[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (typeof name !== 'string' || name.length === 0 || name === '__metadata__') {
      throw new ConfigError(`Tensor name ${preview(name)} cannot be stored in safetensors; use a non-empty name other than "__metadata__".`);
    }
    if (!isTensor(tensor)) throw new ConfigError(`Value for tensor "${name}" is not a Tensor (${preview(tensor)}). Pass CpuTensor objects.`);
    const fileDtype = Object.hasOwn(storeAs, name) ? storeAs[name] : DEFAULT_FILE_DTYPE[tensor.dtype];
    if (fileDtype === undefined || !ALLOWED_STORE[tensor.dtype]?.includes(fileDtype)) {
      throw new ConfigError(
        `Tensor "${name}" has dtype ${tensor.dtype}, which cannot be stored as ${preview(fileDtype)}; ` +
          `allowed: ${(ALLOWED_STORE[tensor.dtype] ?? []).join(', ')}.`,
      );
    }
    const bytes = tensor.data.length * ITEM_SIZE[fileDtype];
    planned.push({ name, tensor, fileDtype, begin: offset, end: offset + bytes });
    parts.push(`${JSON.stringify(name)}:{"dtype":"${fileDtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + n).fill(0x20, 8);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, n % 2 ** 32, true);
  dv.setUint32(4, Math.floor(n / 2 ** 32), true);
  head.set(json, 8);
  return { head, planned, total: 8 + n + offset };
}

/**
 * Serialises tensors (in map order) and optional string metadata to safetensors bytes. The JSON header is padded
 * with spaces to a multiple of 8 bytes, so the data section starts 8-byte aligned.
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  const { head, planned, total } = plan(tensors, metadata, options);
  const out = new Uint8Array(total);
  out.set(head, 0);
  for (const p of planned) out.set(encodeTensor(p), head.length + p.begin);
  return out;
}
