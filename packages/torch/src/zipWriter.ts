import { ConfigError } from '@bigr/core';
import { crc32 } from 'node:zlib';

/**
 * A streaming writer of stored (uncompressed) ZIP archives laid out like PyTorch's `PyTorchStreamWriter`: each
 * entry's data starts on an `align`-byte boundary (64 by default), reached by padding the local header's extra
 * field (id 0x4246, "FB"); CRC-32 and sizes are in the local headers (no data descriptors); ZIP64 records are
 * written when a size, offset or the entry count needs them (or always, with `zip64: true`).
 */

/** One entry to write. `data` is called once, when the entry is reached, so large content can be produced lazily. */
export interface ZipWriterEntry {
  /** Entry name ('/'-separated, UTF-8). */
  readonly name: string;
  /** Produces the entry's bytes. */
  readonly data: () => Uint8Array;
}

/** Options for {@link storedZipChunks}. */
export interface ZipWriterOptions {
  /** Data alignment in bytes (a power of two ≤ 4096). Default 64, like torch. */
  align?: number;
  /** Write ZIP64 extra fields and end records even when not needed. Default false (only when needed). */
  zip64?: boolean;
}

const U32_MAX = 0xffffffff;

function le(view: DataView, at: number, bytes: number, v: number): void {
  if (bytes === 2) view.setUint16(at, v, true);
  else if (bytes === 4) view.setUint32(at, v, true);
  else {
    view.setUint32(at, v % 2 ** 32, true);
    view.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  }
}

/** Yields the bytes of a stored ZIP archive with the given entries (names must be unique). */
export function* storedZipChunks(entries: Iterable<ZipWriterEntry>, options: ZipWriterOptions = {}): Generator<Uint8Array> {
  const align = options.align ?? 64;
  if (!Number.isInteger(align) || align < 1 || align > 4096 || (align & (align - 1)) !== 0) {
    throw new ConfigError(`ZIP alignment ${align} is invalid; expected a power of two between 1 and 4096.`);
  }
  const force64 = options.zip64 ?? false;
  const encoder = new TextEncoder();
  const central: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  let count = 0;
  for (const entry of entries) {
    if (seen.has(entry.name)) throw new ConfigError(`ZIP entry name "${entry.name}" is used twice; names must be unique.`);
    seen.add(entry.name);
    const name = encoder.encode(entry.name);
    if (name.length > 0xffff) throw new ConfigError(`ZIP entry name of ${name.length} bytes is too long (max 65535).`);
    const data = entry.data();
    const crc = crc32(data) >>> 0;
    const size = data.length;
    const local64 = force64 || size >= U32_MAX;
    const central64 = force64 || size >= U32_MAX || offset >= U32_MAX;
    // Local header: [zip64 sizes] + padding field so that the data starts aligned.
    const z64Local = local64 ? 20 : 0;
    const fixed = offset + 30 + name.length + z64Local + 4;
    const pad = (align - (fixed % align)) % align;
    const extraLength = z64Local + 4 + pad;
    const head = new Uint8Array(30 + name.length + extraLength);
    const hv = new DataView(head.buffer);
    le(hv, 0, 4, 0x04034b50);
    le(hv, 4, 2, local64 ? 45 : 20);
    le(hv, 6, 2, 0x0800); // UTF-8 names
    le(hv, 8, 2, 0); // stored
    le(hv, 10, 2, 0); // time
    le(hv, 12, 2, 0x21); // date 1980-01-01
    le(hv, 14, 4, crc);
    le(hv, 18, 4, local64 ? U32_MAX : size);
    le(hv, 22, 4, local64 ? U32_MAX : size);
    le(hv, 26, 2, name.length);
    le(hv, 28, 2, extraLength);
    head.set(name, 30);
    let x = 30 + name.length;
    if (local64) {
      le(hv, x, 2, 0x0001);
      le(hv, x + 2, 2, 16);
      le(hv, x + 4, 8, size);
      le(hv, x + 12, 8, size);
      x += 20;
    }
    le(hv, x, 2, 0x4246); // 'FB' padding field, as torch writes
    le(hv, x + 2, 2, pad);
    yield head;
    yield data;
    // Central directory record.
    const z64Central = central64 ? 28 : 0;
    const rec = new Uint8Array(46 + name.length + z64Central);
    const rv = new DataView(rec.buffer);
    le(rv, 0, 4, 0x02014b50);
    le(rv, 4, 2, central64 ? 45 : 20);
    le(rv, 6, 2, central64 ? 45 : 20);
    le(rv, 8, 2, 0x0800);
    le(rv, 10, 2, 0);
    le(rv, 12, 2, 0);
    le(rv, 14, 2, 0x21);
    le(rv, 16, 4, crc);
    le(rv, 20, 4, central64 ? U32_MAX : size);
    le(rv, 24, 4, central64 ? U32_MAX : size);
    le(rv, 28, 2, name.length);
    le(rv, 30, 2, z64Central);
    // comment length, disk, attributes: 0
    le(rv, 42, 4, central64 ? U32_MAX : offset);
    rec.set(name, 46);
    if (central64) {
      const y = 46 + name.length;
      le(rv, y, 2, 0x0001);
      le(rv, y + 2, 2, 24);
      le(rv, y + 4, 8, size);
      le(rv, y + 12, 8, size);
      le(rv, y + 20, 8, offset);
    }
    central.push(rec);
    offset += head.length + size;
    count++;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const rec of central) {
    yield rec;
    cdSize += rec.length;
  }
  const need64 = force64 || count >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  if (need64) {
    const z = new Uint8Array(56 + 20);
    const zv = new DataView(z.buffer);
    le(zv, 0, 4, 0x06064b50);
    le(zv, 4, 8, 44); // size of the remaining record
    le(zv, 12, 2, 45);
    le(zv, 14, 2, 45);
    // disk numbers: 0
    le(zv, 24, 8, count);
    le(zv, 32, 8, count);
    le(zv, 40, 8, cdSize);
    le(zv, 48, 8, cdOffset);
    le(zv, 56, 4, 0x07064b50);
    le(zv, 60, 4, 0);
    le(zv, 64, 8, cdOffset + cdSize);
    le(zv, 72, 4, 1);
    yield z;
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  le(ev, 0, 4, 0x06054b50);
  le(ev, 8, 2, need64 ? 0xffff : count);
  le(ev, 10, 2, need64 ? 0xffff : count);
  le(ev, 12, 4, need64 ? U32_MAX : cdSize);
  le(ev, 16, 4, need64 ? U32_MAX : cdOffset);
  yield end;
}
