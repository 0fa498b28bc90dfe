/**
 * Writing stored (uncompressed) ZIP archives laid out like PyTorch's `PyTorchStreamWriter`: each entry's data starts on
 * an `align`-byte boundary (64 by default), reached by padding the local header's extra field (id 0x4246, "FB"); CRC-32
 * and sizes are in the local headers (no data descriptors); ZIP64 records are written when a size, offset or the entry
 * count needs them (or always, with `zip64: true`, to test readers without writing 4 GiB). Timestamps are fixed at
 * 1980-01-01 so the output is reproducible. Two front ends share the layout: {@link storedZipChunks} yields the bytes of
 * entries held in memory (torch checkpoints), {@link ZipWriter} streams entries of known size into a file atomically
 * (large `.npz` archives of `@bigr/eval`).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ConfigError, NotFoundError } from '@bigr/core';

/** One entry to write. `data` is called once, when the entry is reached, so large content can be produced lazily. */
export interface ZipWriterEntry {
  /** Entry name ('/'-separated, UTF-8). */
  readonly name: string;
  /** Produces the entry's bytes. */
  readonly data: () => Uint8Array;
}

/** Options of the ZIP writers ({@link storedZipChunks}, {@link ZipWriter.create}). */
export interface ZipWriterOptions {
  /** Data alignment in bytes (a power of two ≤ 4096). Default 64, like torch. */
  align?: number;
  /** Write ZIP64 extra fields and end records even when not needed. Default false (only when needed). */
  zip64?: boolean;
}

const U32_MAX = 0xffffffff;
const DOS_DATE_1980 = 0x21;

function le(view: DataView, at: number, bytes: number, v: number): void {
  if (bytes === 2) view.setUint16(at, v, true);
  else if (bytes === 4) view.setUint32(at, v, true);
  else {
    view.setUint32(at, v % 2 ** 32, true);
    view.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  }
}

/** An entry whose local header is written and whose central directory record waits for its CRC-32. */
interface OpenEntry {
  readonly name: Uint8Array;
  readonly size: number;
  readonly offset: number;
}

/** Offset of the CRC-32 field in a local header (patched there when the CRC is known only after the data). */
const LOCAL_CRC_OFFSET = 14;

/** The byte layout of a stored ZIP archive, entry by entry: local headers, central directory, end records. */
class StoredZipLayout {
  readonly #align: number;
  readonly #force64: boolean;
  readonly #central: Uint8Array[] = [];
  readonly #names = new Set<string>();
  readonly #encoder = new TextEncoder();
  #offset = 0;

  constructor(options: ZipWriterOptions) {
    const align = options.align ?? 64;
    if (!Number.isInteger(align) || align < 1 || align > 4096 || (align & (align - 1)) !== 0) {
      throw new ConfigError(`ZIP alignment ${align} is invalid; expected a power of two between 1 and 4096.`);
    }
    this.#align = align;
    this.#force64 = options.zip64 ?? false;
  }

  /**
   * The local header of an entry of `size` bytes whose data follows it. `crc` may be 0 and patched later, at the
   * entry's `offset` + {@link LOCAL_CRC_OFFSET}.
   */
  localHeader(nameText: string, size: number, crc: number): { entry: OpenEntry; header: Uint8Array } {
    if (!Number.isSafeInteger(size) || size < 0) throw new ConfigError(`ZIP entry "${nameText}": size ${size} must be a non-negative integer.`);
    if (this.#names.has(nameText)) throw new ConfigError(`ZIP entry name "${nameText}" is used twice; names must be unique.`);
    const name = this.#encoder.encode(nameText);
    if (name.length > 0xffff) throw new ConfigError(`ZIP entry name of ${name.length} bytes is too long (max 65535).`);
    this.#names.add(nameText);
    const offset = this.#offset;
    const local64 = this.#force64 || size >= U32_MAX;
    // Local header: [zip64 sizes] + padding field so that the data starts aligned.
    const z64Local = local64 ? 20 : 0;
    const pad = (this.#align - ((offset + 30 + name.length + z64Local + 4) % this.#align)) % this.#align;
    const extraLength = z64Local + 4 + pad;
    const header = new Uint8Array(30 + name.length + extraLength);
    const hv = new DataView(header.buffer);
    le(hv, 0, 4, 0x04034b50);
    le(hv, 4, 2, local64 ? 45 : 20);
    le(hv, 6, 2, 0x0800); // UTF-8 names
    le(hv, 8, 2, 0); // stored
    le(hv, 10, 2, 0); // time
    le(hv, 12, 2, DOS_DATE_1980);
    le(hv, LOCAL_CRC_OFFSET, 4, crc);
    le(hv, 18, 4, local64 ? U32_MAX : size);
    le(hv, 22, 4, local64 ? U32_MAX : size);
    le(hv, 26, 2, name.length);
    le(hv, 28, 2, extraLength);
    header.set(name, 30);
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
    this.#offset += header.length + size;
    return { entry: { name, size, offset }, header };
  }

  /** Records the central directory record of `entry`, whose data has CRC-32 `crc`. */
  close(entry: OpenEntry, crc: number): void {
    const { name, size, offset } = entry;
    const central64 = this.#force64 || size >= U32_MAX || offset >= U32_MAX;
    const z64Central = central64 ? 28 : 0;
    const rec = new Uint8Array(46 + name.length + z64Central);
    const rv = new DataView(rec.buffer);
    le(rv, 0, 4, 0x02014b50);
    le(rv, 4, 2, central64 ? 45 : 20);
    le(rv, 6, 2, central64 ? 45 : 20);
    le(rv, 8, 2, 0x0800);
    le(rv, 10, 2, 0);
    le(rv, 12, 2, 0);
    le(rv, 14, 2, DOS_DATE_1980);
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
    this.#central.push(rec);
  }

  /** The central directory and the end records, which follow the last entry's data. */
  *end(): Generator<Uint8Array> {
    const count = this.#central.length;
    const cdOffset = this.#offset;
    let cdSize = 0;
    for (const rec of this.#central) {
      yield rec;
      cdSize += rec.length;
    }
    const need64 = this.#force64 || count >= 0xffff || cdOffset >= U32_MAX || cdSize >= U32_MAX;
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
}

/** Yields the bytes of a stored ZIP archive with the given entries (names must be unique). */
export function* storedZipChunks(entries: Iterable<ZipWriterEntry>, options: ZipWriterOptions = {}): Generator<Uint8Array> {
  const layout = new StoredZipLayout(options);
  for (const item of entries) {
    const data = item.data();
    const crc = crc32(data) >>> 0;
    const { entry, header } = layout.localHeader(item.name, data.length, crc);
    yield header;
    yield data;
    layout.close(entry, crc);
  }
  yield* layout.end();
}

async function writeAllAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}

/**
 * Writes a ZIP archive (the layout of {@link storedZipChunks}) to a file entry by entry, streaming each entry's data,
 * atomically: everything goes to a temporary file in the target directory that is fsynced and renamed over the target
 * on {@link ZipWriter.close}; {@link ZipWriter.abort} (or any failure of `close`) removes it. Each entry's size must be
 * known up front; its CRC-32 is computed while streaming and patched into the local header afterwards.
 */
export class ZipWriter {
  /** Final path of the archive. */
  readonly path: string;
  readonly #tmp: string;
  readonly #layout: StoredZipLayout;
  #fh: FileHandle | undefined;
  #pos = 0;
  #busy = false;

  private constructor(path: string, tmp: string, fh: FileHandle, layout: StoredZipLayout) {
    this.path = path;
    this.#tmp = tmp;
    this.#fh = fh;
    this.#layout = layout;
  }

  /** Starts writing `path` (through a temporary file in the same directory). */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    const layout = new StoredZipLayout(options);
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      return new ZipWriter(path, tmp, await open(tmp, 'wx', 0o666), layout);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`Cannot write ${path}: directory ${dir} does not exist. Create it first.`, { cause: err });
      throw err;
    }
  }

  /**
   * Adds a stored entry of exactly `size` bytes taken from `chunks`. Throws (and leaves the writer unusable, call
   * {@link ZipWriter.abort}) if the chunks do not add up to `size`.
   */
  async addEntry(name: string, size: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const fh = this.#open();
    if (this.#busy) throw new ConfigError('ZipWriter: entries must be added one at a time (await the previous addEntry).');
    const { entry, header } = this.#layout.localHeader(name, size, 0);
    this.#busy = true;
    await this.#write(fh, header);
    let crc = 0;
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) throw new ConfigError(`ZipWriter: entry ${name} received more than its declared ${size} bytes.`);
      crc = crc32(chunk, crc);
      await this.#write(fh, chunk);
    }
    if (written !== size) throw new ConfigError(`ZipWriter: entry ${name} received ${written} bytes but ${size} were declared.`);
    crc >>>= 0;
    const crcBytes = new Uint8Array(4);
    new DataView(crcBytes.buffer).setUint32(0, crc, true);
    await writeAllAt(fh, crcBytes, entry.offset + LOCAL_CRC_OFFSET);
    this.#layout.close(entry, crc);
    this.#busy = false;
  }

  /** Writes the central directory, fsyncs and renames the temporary file onto the target path. */
  async close(): Promise<void> {
    const fh = this.#open();
    try {
      for (const part of this.#layout.end()) await this.#write(fh, part);
      await fh.sync();
      await fh.close();
      this.#fh = undefined;
      await rename(this.#tmp, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Discards the partial archive (idempotent). */
  async abort(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => undefined);
    await unlink(this.#tmp).catch(() => undefined);
  }

  #open(): FileHandle {
    if (!this.#fh) throw new ConfigError(`ZipWriter for ${this.path} is already closed or aborted.`);
    return this.#fh;
  }

  async #write(fh: FileHandle, data: Uint8Array): Promise<void> {
    await writeAllAt(fh, data, this.#pos);
    this.#pos += data.length;
  }
}
