import { ConfigError, atomicWrite, isTensor, numberToBf16Bits, numberToF16Bits, required, type DType, type Tensor } from '@bigr/core';
import { storedZipChunks, type ZipWriterEntry } from './zipWriter.js';

/**
 * Writing state dicts in the `torch.save` zip format, for fixtures and for users who hand weights back to PyTorch.
 *
 * The file is a stored ZIP (64-byte aligned data, like torch) holding `<archive>/data.pkl` (pickle protocol 2),
 * `<archive>/byteorder` ("little"), one `<archive>/data/<n>` entry per storage and `<archive>/version` ("3\n").
 * The pickle is a `collections.OrderedDict` of tensors rebuilt with `torch._utils._rebuild_tensor_v2` (contiguous,
 * offset 0, `requires_grad=False`), optionally wrapped as `{wrapKey: state_dict, "args": argparse.Namespace(...)}`
 * like BiGR training checkpoints. `torch.load(path)` (torch ≥ 1.6) accepts it; without `args` also with
 * `weights_only=True` (argparse.Namespace is not on torch's weights-only allow-list).
 */

/** Element types a tensor can be stored as in a torch file. */
export type TorchStoreDType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A value of the `args` Namespace. Integers (Number.isInteger) are written as Python int, other numbers as float. */
export type TorchArgValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

/** Options for {@link writeTorchStateDict}. */
export interface TorchWriteOptions {
  /** Wrap the state dict as `{wrapKey: state_dict}` (BiGR uses 'ema'). Default: the state dict is the root. */
  wrapKey?: 'ema' | 'model';
  /** Container layout; only 'zip-stored' (torch's own) exists. */
  layout?: 'zip-stored';
  /** Top-level folder inside the ZIP. Default 'archive' (what torch ≥ 2 writes). */
  archiveName?: string;
  /**
   * File dtype per tensor name. Allowed: float32/float64 tensors → float32, float64, float16, bfloat16 (rounded to
   * nearest even); int32 → int32, int64, int16, int8 (range-checked); uint8 → uint8, bool (0/1). Default: the
   * tensor's own dtype.
   */
  storeAs?: Readonly<Record<string, TorchStoreDType>>;
  /** Fields of an `argparse.Namespace` stored under "args" next to the state dict (requires `wrapKey`). */
  args?: Readonly<Record<string, TorchArgValue>>;
  /** Tensors whose `data` is the same typed array object (and stored dtype) share one storage. Default true. */
  shareStorages?: boolean;
  /** Force ZIP64 records (they are written automatically when needed). Default false. */
  zip64?: boolean;
}

const STORAGE_CLASS: Readonly<Record<TorchStoreDType, string>> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};
const ITEM: Readonly<Record<TorchStoreDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};
const ALLOWED: Readonly<Record<DType, readonly TorchStoreDType[]>> = {
  float32: ['float32', 'float64', 'float16', 'bfloat16'],
  float64: ['float64', 'float32', 'float16', 'bfloat16'],
  int32: ['int32', 'int64', 'int16', 'int8'],
  uint8: ['uint8', 'bool'],
};
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Minimal protocol-2 pickle emitter (only what a state dict needs). */
class PickleEmitter {
  #parts: number[] = [];
  readonly #enc = new TextEncoder();

  byte(...b: number[]): this {
    for (const x of b) this.#parts.push(x);
    return this;
  }

  #u32(v: number): void {
    this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  int(v: number): this {
    if (!Number.isSafeInteger(v)) throw new ConfigError(`Cannot pickle ${v} as an int; expected a safe integer.`);
    if (v >= 0 && v < 256) return this.byte(0x4b, v);
    if (v >= 0 && v < 65536) return this.byte(0x4d, v & 0xff, v >>> 8);
    if (v >= -(2 ** 31) && v < 2 ** 31) {
      this.byte(0x4a);
      this.#u32(v >>> 0);
      return this;
    }
    // LONG1: little-endian two's complement, minimal length
    let big = BigInt(v);
    const bytes: number[] = [];
    for (;;) {
      const b = Number(big & 0xffn);
      bytes.push(b);
      big >>= 8n;
      if ((big === 0n && (b & 0x80) === 0) || (big === -1n && (b & 0x80) !== 0)) break;
    }
    return this.byte(0x8a, bytes.length, ...bytes);
  }

  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.byte(0x47, ...b);
  }

  str(s: string): this {
    const b = this.#enc.encode(s);
    this.byte(0x58);
    this.#u32(b.length);
    for (const x of b) this.#parts.push(x);
    return this;
  }

  bool(v: boolean): this {
    return this.byte(v ? 0x88 : 0x89);
  }

  none(): this {
    return this.byte(0x4e);
  }

  global(module: string, name: string): this {
    this.byte(0x63);
    for (const x of this.#enc.encode(`${module}\n${name}\n`)) this.#parts.push(x);
    return this;
  }

  mark(): this {
    return this.byte(0x28);
  }

  tuple(items: readonly number[]): this {
    if (items.length === 0) return this.byte(0x29);
    if (items.length > 3) this.mark();
    for (const v of items) this.int(v);
    return this.byte(items.length <= 3 ? 0x84 + items.length : 0x74);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

interface Storage {
  key: string;
  dtype: TorchStoreDType;
  tensor: Tensor;
  name: string;
}

function checkInt(name: string, i: number, v: number, lo: number, hi: number, dt: string): void {
  if (v < lo || v > hi) throw new ConfigError(`Tensor "${name}" holds ${v} at element ${i}, outside the ${dt} range [${lo}, ${hi}]. Store it as a wider type.`);
}

/** Encodes a tensor's elements as little-endian bytes of `dtype`. */
function encodeStorage(s: Storage): Uint8Array {
  const src = s.tensor.data;
  const n = src.length;
  const natural =
    (s.dtype === 'float32' && s.tensor.dtype === 'float32') ||
    (s.dtype === 'float64' && s.tensor.dtype === 'float64') ||
    (s.dtype === 'int32' && s.tensor.dtype === 'int32') ||
    (s.dtype === 'uint8' && s.tensor.dtype === 'uint8');
  if (natural && (LITTLE_ENDIAN_HOST || s.dtype === 'uint8')) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const out = new Uint8Array(n * ITEM[s.dtype]);
  const dv = new DataView(out.buffer);
  // Element i goes to byte offset i × (item size). An indexed loop, as the kernels of docs/architecture.md "Invariants".
  const item = (i: number): number => required(src[i], 'tensor element');
  switch (s.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, item(i), true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, item(i), true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, numberToF16Bits(item(i)), true);
      break;
    case 'bfloat16':
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, numberToBf16Bits(item(i)), true);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, BigInt(item(i)), true);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, item(i), true);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) {
        const v = item(i);
        checkInt(s.name, i, v, -32768, 32767, 'int16');
        dv.setInt16(2 * i, v, true);
      }
      break;
    case 'int8':
      for (let i = 0; i < n; i++) {
        const v = item(i);
        checkInt(s.name, i, v, -128, 127, 'int8');
        dv.setInt8(i, v);
      }
      break;
    case 'uint8':
      out.set(src as Uint8Array);
      break;
    case 'bool':
      for (let i = 0; i < n; i++) {
        const v = item(i);
        if (v !== 0 && v !== 1)
          throw new ConfigError(`Tensor "${s.name}" holds ${v} at element ${i} but is stored as bool, which needs 0/1 values. Store it as uint8 instead.`);
        out[i] = v;
      }
      break;
  }
  return out;
}

function emitArg(p: PickleEmitter, key: string, v: TorchArgValue): void {
  const scalar = (x: string | number | boolean | null): void => {
    if (x === null) p.none();
    else if (typeof x === 'boolean') p.bool(x);
    else if (typeof x === 'string') p.str(x);
    else if (typeof x === 'number' && Number.isSafeInteger(x)) p.int(x);
    else if (typeof x === 'number') p.float(x);
    else throw new ConfigError(`args.${key} holds ${String(x)}; expected strings, numbers, booleans, null or arrays of them.`);
  };
  if (Array.isArray(v)) {
    p.byte(0x5d); // EMPTY_LIST
    if (v.length > 0) {
      p.mark();
      for (const x of v) scalar(x);
      p.byte(0x65); // APPENDS
    }
  } else scalar(v as string | number | boolean | null);
}

/** Validates inputs and plans storages: returns the pickle bytes and the storages in key order. */
function plan(tensors: ReadonlyMap<string, Tensor>, options: TorchWriteOptions): { pickle: Uint8Array; storages: Storage[]; archive: string } {
  const archive = options.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(archive) || archive === '.' || archive === '..') {
    throw new ConfigError(`archiveName ${JSON.stringify(archive)} is invalid; use letters, digits, '_', '.', '-' (e.g. 'archive').`);
  }
  if (options.layout !== undefined && options.layout !== 'zip-stored') {
    throw new ConfigError(`layout ${JSON.stringify(options.layout)} is not supported; the only layout is 'zip-stored' (torch's own).`);
  }
  if (options.wrapKey !== undefined && options.wrapKey !== 'ema' && options.wrapKey !== 'model') {
    throw new ConfigError(`wrapKey ${JSON.stringify(options.wrapKey)} is invalid; expected 'ema' or 'model'.`);
  }
  if (options.args !== undefined && options.wrapKey === undefined) {
    throw new ConfigError(`args can only be stored next to a wrapped state dict; set wrapKey ('ema' or 'model') too.`);
  }
  const storeAs = options.storeAs ?? {};
  for (const n of Object.keys(storeAs)) {
    if (!tensors.has(n)) throw new ConfigError(`storeAs names tensor "${n}", which is not among the tensors being written. Fix the name or remove the entry.`);
  }
  const share = options.shareStorages ?? true;
  const byData = new Map<object, Map<TorchStoreDType, Storage>>();
  const storages: Storage[] = [];
  const p = new PickleEmitter().byte(0x80, 2);
  if (options.wrapKey !== undefined) p.byte(0x7d).mark().str(options.wrapKey); // EMPTY_DICT, MARK, key
  p.global('collections', 'OrderedDict').byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  let inBatch = 0;
  for (const [tname, tensor] of tensors) {
    if (typeof tname !== 'string' || tname.length === 0) throw new ConfigError(`Tensor name ${JSON.stringify(tname)} is invalid; use a non-empty string.`);
    if (!isTensor(tensor)) throw new ConfigError(`Value for tensor "${tname}" is not a Tensor. Pass CpuTensor objects.`);
    // Only own keys of storeAs count (a tensor named "constructor" must not pick up Object.prototype's); absent means keep the dtype.
    const dtype: TorchStoreDType = (Object.hasOwn(storeAs, tname) ? storeAs[tname] : undefined) ?? tensor.dtype;
    if (!ALLOWED[tensor.dtype]?.includes(dtype)) {
      throw new ConfigError(
        `Tensor "${tname}" has dtype ${tensor.dtype}, which cannot be stored as ${JSON.stringify(dtype)}; ` +
          `allowed: ${(ALLOWED[tensor.dtype] ?? []).join(', ')}.`,
      );
    }
    const data = tensor.data;
    if (data.length !== tensor.size)
      throw new ConfigError(`Tensor "${tname}" has ${data.length} elements but shape [${tensor.shape.join(', ')}]. Pass a consistent tensor.`);
    let storage = share ? byData.get(data)?.get(dtype) : undefined;
    if (!storage) {
      storage = { key: String(storages.length), dtype, tensor, name: tname };
      storages.push(storage);
      if (share) {
        let m = byData.get(data);
        if (!m) {
          m = new Map();
          byData.set(data, m);
        }
        m.set(dtype, storage);
      }
    }
    if (inBatch === 0) p.mark();
    // Row-major strides, innermost dimension first.
    const stride: number[] = [];
    let acc = 1;
    for (const size of [...tensor.shape].reverse()) {
      stride.unshift(acc);
      acc *= size;
    }
    p.str(tname).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', STORAGE_CLASS[dtype]).str(storage.key).str('cpu').int(data.length).byte(0x74).byte(0x51); // TUPLE, BINPERSID
    p.int(0).tuple(tensor.shape).tuple(stride).bool(false);
    p.global('collections', 'OrderedDict').byte(0x29, 0x52); // backward_hooks = OrderedDict()
    p.byte(0x74, 0x52); // TUPLE, REDUCE
    if (++inBatch === 1000) {
      p.byte(0x75); // SETITEMS
      inBatch = 0;
    }
  }
  if (inBatch > 0) p.byte(0x75);
  if (options.wrapKey !== undefined) {
    if (options.args !== undefined) {
      p.str('args').global('argparse', 'Namespace').byte(0x29, 0x81); // EMPTY_TUPLE, NEWOBJ
      p.byte(0x7d); // EMPTY_DICT
      const entries = Object.entries(options.args);
      if (entries.length > 0) {
        p.mark();
        for (const [k, v] of entries) {
          p.str(k);
          emitArg(p, k, v);
        }
        p.byte(0x75);
      }
      p.byte(0x62); // BUILD
    }
    p.byte(0x75); // SETITEMS of the wrapper dict
  }
  p.byte(0x2e); // STOP
  return { pickle: p.bytes(), storages, archive };
}

/** Yields the bytes of a torch checkpoint holding `tensors` (see {@link writeTorchStateDict}). */
export function* torchStateDictChunks(tensors: ReadonlyMap<string, Tensor>, options: TorchWriteOptions = {}): Generator<Uint8Array> {
  const { pickle, storages, archive } = plan(tensors, options);
  function* entries(): Generator<ZipWriterEntry> {
    yield { name: `${archive}/data.pkl`, data: () => pickle };
    yield { name: `${archive}/byteorder`, data: () => new TextEncoder().encode('little') };
    for (const s of storages) yield { name: `${archive}/data/${s.key}`, data: () => encodeStorage(s) };
    yield { name: `${archive}/version`, data: () => new TextEncoder().encode('3\n') };
  }
  yield* storedZipChunks(entries(), { zip64: options.zip64 ?? false });
}

/** The bytes of a torch checkpoint holding `tensors`, in memory (see {@link writeTorchStateDict}). */
export function serializeTorchStateDict(tensors: ReadonlyMap<string, Tensor>, options: TorchWriteOptions = {}): Uint8Array {
  const chunks = [...torchStateDictChunks(tensors, options)];
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Writes `tensors` (in map order) as a `torch.save`-compatible checkpoint, atomically (temp file + rename) and
 * streaming storage by storage. With `wrapKey` the root is `{wrapKey: state_dict[, "args": Namespace]}`, the
 * layout of BiGR checkpoints (docs/algorithm.md §10.1); otherwise the root is the state dict (like B-AE `.th` files).
 */
export async function writeTorchStateDict(path: string, tensors: ReadonlyMap<string, Tensor>, options: TorchWriteOptions = {}): Promise<void> {
  const chunks = torchStateDictChunks(tensors, options);
  const first = chunks.next(); // validates the inputs before the temp file is created
  await atomicWrite(
    path,
    coalesce(
      (function* () {
        if (!first.done) yield first.value;
        yield* chunks;
      })(),
    ),
  );
}

/** Merges runs of small chunks (ZIP headers, small tensors) into writes of up to 1 MB; large chunks pass through. */
function* coalesce(chunks: Iterable<Uint8Array>, target = 1 << 20): Generator<Uint8Array> {
  let buf = new Uint8Array(target);
  let used = 0;
  for (const c of chunks) {
    if (c.length >= target / 4) {
      if (used > 0) yield buf.slice(0, used);
      used = 0;
      yield c;
      continue;
    }
    if (used + c.length > target) {
      yield buf.slice(0, used);
      buf = new Uint8Array(target);
      used = 0;
    }
    buf.set(c, used);
    used += c.length;
  }
  if (used > 0) yield buf.slice(0, used);
}
