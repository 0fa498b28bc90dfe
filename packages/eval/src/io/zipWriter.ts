/**
 * A streaming ZIP writer (stored entries, no compression) with ZIP64 support, written atomically: everything
 * goes to a temporary file in the target directory that is fsynced and renamed over the target on
 * {@link ZipWriter.close}; {@link ZipWriter.abort} (or any failure) removes it.
 *
 * Each entry's size must be known up front (true for `.npy` payloads); its CRC-32 is computed while streaming
 * and patched into the local header afterwards, so no data descriptors are needed. ZIP64 extra fields are used
 * for an entry whose size or offset reaches 4 GiB, and a ZIP64 end record when the directory needs it — or
 * everywhere with `forceZip64` (which sets every 32-bit field to its ZIP64 marker; useful to test readers
 * without writing 4 GiB). Timestamps are fixed at 1980-01-01 so output is reproducible.
 */
import { ConfigError, NotFoundError } from '@bigr/core';
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Options for {@link ZipWriter.create}. */
export interface ZipWriterOptions {
  /** Use ZIP64 structures for every entry and the end record even when not needed (default false). */
  forceZip64?: boolean;
}

interface WrittenEntry {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
  zip64: boolean;
}

const U32 = 0xffffffff;

/** Writes a ZIP archive entry by entry. */
export class ZipWriter {
  /** Final path of the archive. */
  readonly path: string;
  readonly #tmp: string;
  readonly #force: boolean;
  #fh: FileHandle | undefined;
  #pos = 0;
  readonly #entries: WrittenEntry[] = [];
  #busy = false;

  private constructor(path: string, tmp: string, fh: FileHandle, force: boolean) {
    this.path = path;
    this.#tmp = tmp;
    this.#fh = fh;
    this.#force = force;
  }

  /** Starts writing `path` (through a temporary file in the same directory). */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      return new ZipWriter(path, tmp, await open(tmp, 'wx', 0o666), options.forceZip64 === true);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`Cannot write ${path}: directory ${dir} does not exist. Create it first.`, { cause: err });
      throw err;
    }
  }

  /**
   * Adds a stored entry of exactly `size` bytes taken from `chunks`. Throws (and leaves the writer unusable,
   * call {@link ZipWriter.abort}) if the chunks do not add up to `size`.
   */
  async addEntry(name: string, size: number, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const fh = this.#open();
    if (this.#busy) throw new ConfigError('ZipWriter: entries must be added one at a time (await the previous addEntry).');
    if (!Number.isSafeInteger(size) || size < 0) throw new ConfigError(`ZipWriter: entry size ${size} must be a non-negative integer.`);
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length > 0xffff) throw new ConfigError(`ZipWriter: entry name is ${nameBytes.length} bytes; at most 65535 are allowed.`);
    if (this.#entries.some((e) => Buffer.from(e.name).equals(Buffer.from(nameBytes)))) throw new ConfigError(`ZipWriter: duplicate entry name ${name}.`);
    this.#busy = true;
    const offset = this.#pos;
    const zip64 = this.#force || size >= U32 || offset >= U32;
    const header = localHeader(nameBytes, size, zip64);
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
    await writeAllAt(fh, crcBytes, offset + 14);
    this.#entries.push({ name: nameBytes, crc, size, offset, zip64 });
    this.#busy = false;
  }

  /** Writes the central directory, fsyncs and renames the temporary file onto the target path. */
  async close(): Promise<void> {
    const fh = this.#open();
    try {
      const cdOffset = this.#pos;
      const parts: Uint8Array[] = [];
      let cdSize = 0;
      for (const e of this.#entries) {
        const c = centralHeader(e);
        parts.push(c);
        cdSize += c.length;
      }
      for (const p of parts) await this.#write(fh, p);
      const needZip64 = this.#force || this.#entries.length >= 0xffff || cdOffset >= U32 || cdSize >= U32 || this.#entries.some((e) => e.zip64);
      await this.#write(fh, endRecords(this.#entries.length, cdSize, cdOffset, this.#pos, needZip64, this.#force));
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

async function writeAllAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}

const DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1;

function localHeader(name: Uint8Array, size: number, zip64: boolean): Uint8Array {
  const extra = zip64 ? 20 : 0;
  const b = new Uint8Array(30 + name.length + extra);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, zip64 ? 45 : 20, true);
  v.setUint16(6, 0x800, true); // UTF-8 names
  v.setUint16(8, 0, true); // stored
  v.setUint16(10, 0, true);
  v.setUint16(12, DOS_DATE_1980, true);
  v.setUint32(14, 0, true); // CRC patched later
  v.setUint32(18, zip64 ? U32 : size, true);
  v.setUint32(22, zip64 ? U32 : size, true);
  v.setUint16(26, name.length, true);
  v.setUint16(28, extra, true);
  b.set(name, 30);
  if (zip64) {
    const q = 30 + name.length;
    v.setUint16(q, 0x0001, true);
    v.setUint16(q + 2, 16, true);
    v.setBigUint64(q + 4, BigInt(size), true);
    v.setBigUint64(q + 12, BigInt(size), true);
  }
  return b;
}

function centralHeader(e: WrittenEntry): Uint8Array {
  const extra = e.zip64 ? 28 : 0;
  const b = new Uint8Array(46 + e.name.length + extra);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, (3 << 8) | 45, true); // made by: Unix, spec 4.5
  v.setUint16(6, e.zip64 ? 45 : 20, true);
  v.setUint16(8, 0x800, true);
  v.setUint16(10, 0, true);
  v.setUint16(12, 0, true);
  v.setUint16(14, DOS_DATE_1980, true);
  v.setUint32(16, e.crc, true);
  v.setUint32(20, e.zip64 ? U32 : e.size, true);
  v.setUint32(24, e.zip64 ? U32 : e.size, true);
  v.setUint16(28, e.name.length, true);
  v.setUint16(30, extra, true);
  v.setUint16(32, 0, true);
  v.setUint16(34, 0, true);
  v.setUint16(36, 0, true);
  v.setUint32(38, (0o100644 << 16) >>> 0, true);
  v.setUint32(42, e.zip64 ? U32 : e.offset, true);
  b.set(e.name, 46);
  if (e.zip64) {
    const q = 46 + e.name.length;
    v.setUint16(q, 0x0001, true);
    v.setUint16(q + 2, 24, true);
    v.setBigUint64(q + 4, BigInt(e.size), true);
    v.setBigUint64(q + 12, BigInt(e.size), true);
    v.setBigUint64(q + 20, BigInt(e.offset), true);
  }
  return b;
}

function endRecords(count: number, cdSize: number, cdOffset: number, zip64RecordOffset: number, zip64: boolean, force: boolean): Uint8Array {
  const b = new Uint8Array((zip64 ? 56 + 20 : 0) + 22);
  const v = new DataView(b.buffer);
  let p = 0;
  if (zip64) {
    v.setUint32(0, 0x06064b50, true);
    v.setBigUint64(4, 44n, true); // size of the remaining record
    v.setUint16(12, (3 << 8) | 45, true);
    v.setUint16(14, 45, true);
    v.setUint32(16, 0, true);
    v.setUint32(20, 0, true);
    v.setBigUint64(24, BigInt(count), true);
    v.setBigUint64(32, BigInt(count), true);
    v.setBigUint64(40, BigInt(cdSize), true);
    v.setBigUint64(48, BigInt(cdOffset), true);
    v.setUint32(56, 0x07064b50, true);
    v.setUint32(60, 0, true);
    v.setBigUint64(64, BigInt(zip64RecordOffset), true);
    v.setUint32(72, 1, true);
    p = 76;
  }
  const mark16 = (x: number) => (force || x >= 0xffff ? 0xffff : x);
  const mark32 = (x: number) => (force || x >= U32 ? U32 : x);
  v.setUint32(p, 0x06054b50, true);
  v.setUint16(p + 4, 0, true);
  v.setUint16(p + 6, 0, true);
  v.setUint16(p + 8, mark16(count), true);
  v.setUint16(p + 10, mark16(count), true);
  v.setUint32(p + 12, mark32(cdSize), true);
  v.setUint32(p + 16, mark32(cdOffset), true);
  v.setUint16(p + 20, 0, true);
  return b;
}
