import { crc32, deflateRawSync } from 'node:zlib';

/**
 * Builders of pickles and ZIP archives byte by byte, independently of the library's writers, so the
 * reader can be tested against hand-made (and deliberately broken) inputs.
 */

/** Pickle opcode bytes by pickletools name. */
export const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e,
  MARK: 0x28,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINSTRING: 0x54,
  SHORT_BINSTRING: 0x55,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  BINBYTES8: 0x8e,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d,
  LIST: 0x6c,
  APPEND: 0x61,
  APPENDS: 0x65,
  EMPTY_DICT: 0x7d,
  DICT: 0x64,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  MEMOIZE: 0x94,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52,
  BUILD: 0x62,
  NEWOBJ: 0x81,
  BINPERSID: 0x51,
  INT: 0x49,
} as const;

/** A tiny pickle assembler: each method appends the bytes of one opcode (with its argument). */
export class Pk {
  readonly parts: number[] = [];

  /** Raw bytes. */
  raw(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }

  /** Opcodes without arguments, by name. */
  op(...names: (keyof typeof OP)[]): this {
    for (const n of names) this.parts.push(OP[n]);
    return this;
  }

  u32(v: number): this {
    return this.raw(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }

  proto(v = 2): this {
    return this.raw(OP.PROTO, v);
  }

  /** BININT1 / BININT2 / BININT, depending on the value. */
  int(v: number): this {
    if (v >= 0 && v < 256) return this.raw(OP.BININT1, v);
    if (v >= 0 && v < 65536) return this.raw(OP.BININT2, v & 0xff, v >> 8);
    return this.raw(OP.BININT).u32(v >>> 0);
  }

  /** LONG1 with explicit little-endian two's complement bytes. */
  long1(bytes: number[]): this {
    return this.raw(OP.LONG1, bytes.length, ...bytes);
  }

  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.raw(OP.BINFLOAT, ...b);
  }

  /** BINUNICODE. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(OP.BINUNICODE)
      .u32(b.length)
      .raw(...b);
  }

  /** SHORT_BINUNICODE. */
  sstr(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(OP.SHORT_BINUNICODE, b.length, ...b);
  }

  /** GLOBAL 'module\nname\n'. */
  global(module: string, name: string): this {
    return this.raw(OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** Tuple of small non-negative ints. */
  ints(values: number[]): this {
    this.op('MARK');
    for (const v of values) this.int(v);
    return this.op('TUPLE');
  }

  /** `('storage', torch.<type>, key, 'cpu', numel)` BINPERSID. */
  storage(type: string, key: string, numel: number): this {
    return this.op('MARK').str('storage').global('torch', type).str(key).str('cpu').int(numel).op('TUPLE', 'BINPERSID');
  }

  /** `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
  tensor(type: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').op('MARK');
    this.storage(type, key, numel).int(offset).ints(shape).ints(stride).op('NEWFALSE');
    return this.global('collections', 'OrderedDict').op('EMPTY_TUPLE', 'REDUCE', 'TUPLE', 'REDUCE');
  }

  /** `OrderedDict()` (leaves it on the stack). */
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').op('EMPTY_TUPLE', 'REDUCE');
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** One entry for {@link buildZip}. */
export interface CraftEntry {
  name: string;
  data: Uint8Array;
  method?: 'stored' | 'deflate';
}

/** Builds a plain ZIP archive (no alignment, no ZIP64), optionally with a trailing archive comment. */
export function buildZip(entries: CraftEntry[], comment = ''): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method === 'deflate' ? 8 : 0;
    const payload = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const lh = new Uint8Array(30 + name.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, payload.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lh.set(name, 30);
    chunks.push(lh, payload);
    const ch = new Uint8Array(46 + name.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, payload.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    ch.set(name, 46);
    central.push(ch);
    offset += lh.length + payload.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const c = enc.encode(comment);
  const end = new Uint8Array(22 + c.length);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  ev.setUint16(20, c.length, true);
  end.set(c, 22);
  const all = [...chunks, ...central, end];
  const out = new Uint8Array(all.reduce((a, x) => a + x.length, 0));
  let at = 0;
  for (const x of all) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** A torch-style archive: `<archive>/data.pkl`, `<archive>/data/<key>` for each storage, `<archive>/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: { archive?: string; method?: 'stored' | 'deflate' } = {},
): Uint8Array {
  const a = options.archive ?? 'archive';
  const m = options.method ?? 'stored';
  return buildZip([
    { name: `${a}/data.pkl`, data: pickle, method: m },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${a}/data/${k}`, data, method: m })),
    { name: `${a}/version`, data: new TextEncoder().encode('3\n'), method: m },
  ]);
}

/** Little-endian bytes of float32 values. */
export function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Little-endian bytes of int64 values (given as bigint). */
export function i64(values: bigint[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values).buffer);
}

/** Little-endian bytes of uint16 values (half-float bit patterns). */
export function u16(values: number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(values).buffer);
}

/** Offsets of the records of a ZIP archive made by {@link buildZip} (for corrupting them in tests). */
export function zipLayout(zip: Uint8Array): { eocd: number; cdOffset: number; cdSize: number } {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = zip.length - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === 0x06054b50) return { eocd: i, cdOffset: dv.getUint32(i + 16, true), cdSize: dv.getUint32(i + 12, true) };
  }
  throw new Error('no EOCD');
}
