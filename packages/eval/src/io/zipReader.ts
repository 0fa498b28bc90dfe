/**
 * A streaming ZIP reader for `.npz` files (EVAL.md §2.4): parses the end-of-central-directory record (with the
 * ZIP64 locator and record when present), the central directory (ZIP64 extra fields for sizes and offsets) and
 * local headers, then streams an entry's bytes from disk — stored entries as-is, deflated entries through
 * zlib's raw inflater — verifying the CRC-32 and size at the end. Nothing larger than the central directory is
 * held in memory, so 10 GB `arr_0` entries can be iterated.
 *
 * Every size read from the file is bounded: the central directory (default ≤ 64 MiB), the entry count
 * (default ≤ 100,000), and entry data (never more than the declared uncompressed size is produced).
 * Encrypted entries, multi-disk archives and compression methods other than stored (0) and deflate (8) are
 * rejected with a {@link FormatError}.
 */
import { FormatError, NotFoundError } from '@bigr/core';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';

/** One file inside a ZIP archive. */
export interface ZipEntry {
  /** Name inside the archive (e.g. `mu.npy`). */
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  /** CRC-32 of the uncompressed data. */
  readonly crc32: number;
  /** Bytes stored in the archive. */
  readonly compressedSize: number;
  /** Bytes after decompression. */
  readonly uncompressedSize: number;
  /** Offset of the local file header. */
  readonly localHeaderOffset: number;
  /** Whether the central directory used ZIP64 fields for this entry. */
  readonly zip64: boolean;
}

/** Limits for {@link ZipReader.open}. */
export interface ZipReaderOptions {
  /** Largest central directory accepted, in bytes (default 64 MiB). */
  maxCentralDirectoryBytes?: number;
  /** Largest number of entries accepted (default 100,000). */
  maxEntries?: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32 = 0xffffffff;
const U16 = 0xffff;

/** An open ZIP archive. Close it with {@link ZipReader.close}. */
export class ZipReader {
  /** Path of the archive. */
  readonly path: string;
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
  /** Whether the archive has a ZIP64 end-of-central-directory record. */
  readonly zip64: boolean;
  readonly #fh: FileHandle;
  readonly #size: number;

  private constructor(path: string, fh: FileHandle, size: number, entries: ZipEntry[], zip64: boolean) {
    this.path = path;
    this.#fh = fh;
    this.#size = size;
    this.entries = entries;
    this.zip64 = zip64;
  }

  /** Opens `path` and reads its central directory. */
  static async open(path: string, options: ZipReaderOptions = {}): Promise<ZipReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`ZIP/.npz file ${path} does not exist. Check the path.`, { cause: err });
      throw err;
    }
    try {
      const size = (await fh.stat()).size;
      const { entries, zip64 } = await readCentralDirectory(fh, size, path, options);
      return new ZipReader(path, fh, size, entries, zip64);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** The entry called `name`, or undefined. */
  entry(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * Streams the uncompressed bytes of `entry`. The CRC-32 and size are checked when the stream is read to its
   * end; stopping early (breaking out of `for await`) releases the resources without the check.
   */
  async *stream(entry: ZipEntry, options: { chunkBytes?: number } = {}): AsyncGenerator<Uint8Array> {
    const dataStart = await this.#dataOffset(entry);
    const what = `${this.path}: entry ${entry.name}`;
    if (dataStart + entry.compressedSize > this.#size) {
      throw new FormatError(`${what} claims ${entry.compressedSize} bytes at offset ${dataStart}, past the end of the ${this.#size}-byte file. The file is truncated.`);
    }
    const highWaterMark = options.chunkBytes ?? 1 << 20;
    let raw: AsyncIterable<Uint8Array>;
    let destroy: () => void = () => undefined;
    const range = readRange(this.#fh, dataStart, entry.compressedSize, highWaterMark, what);
    if (entry.method === 8) {
      const src = Readable.from(range, { objectMode: false });
      const inflate = createInflateRaw({ chunkSize: Math.min(highWaterMark, 1 << 20) });
      src.on('error', (e) => inflate.destroy(e));
      src.pipe(inflate);
      raw = inflate;
      destroy = () => {
        src.unpipe(inflate);
        src.destroy();
        inflate.destroy();
      };
    } else {
      raw = range;
    }
    let produced = 0;
    let crc = 0;
    let finished = false;
    try {
      for await (const chunk of raw) {
        const c = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk as ArrayBuffer);
        produced += c.length;
        if (produced > entry.uncompressedSize) {
          throw new FormatError(`${what} inflates to more than its declared ${entry.uncompressedSize} bytes. The archive is corrupt or hostile.`);
        }
        crc = crc32(c, crc);
        yield c;
      }
      finished = true;
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError(`${what} could not be read: ${(err as Error).message}. The archive is corrupt.`, { cause: err });
    } finally {
      if (!finished) destroy();
    }
    if (produced !== entry.uncompressedSize) {
      throw new FormatError(`${what} has ${produced} bytes but the directory declares ${entry.uncompressedSize}. The archive is truncated or corrupt.`);
    }
    if (crc >>> 0 !== entry.crc32) {
      throw new FormatError(`${what} fails its CRC-32 check (computed ${(crc >>> 0).toString(16)}, stored ${entry.crc32.toString(16)}). The archive is corrupt.`);
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#fh.close();
  }

  async #dataOffset(entry: ZipEntry): Promise<number> {
    const head = await readAt(this.#fh, entry.localHeaderOffset, 30, this.#size, `${this.path}: local header of ${entry.name}`);
    const v = new DataView(head.buffer, head.byteOffset, 30);
    if (v.getUint32(0, true) !== SIG_LOCAL) {
      throw new FormatError(`${this.path}: entry ${entry.name} has no local file header at offset ${entry.localHeaderOffset}. The archive is corrupt.`);
    }
    return entry.localHeaderOffset + 30 + v.getUint16(26, true) + v.getUint16(28, true);
  }
}

/** Positional reads of [start, start + length) in chunks; never closes the handle. */
async function* readRange(fh: FileHandle, start: number, length: number, chunk: number, what: string): AsyncGenerator<Uint8Array> {
  let pos = start;
  const end = start + length;
  while (pos < end) {
    const n = Math.min(chunk, end - pos);
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, pos + got);
      if (bytesRead === 0) throw new FormatError(`${what}: unexpected end of file at offset ${pos + got}; the archive is truncated.`);
      got += bytesRead;
    }
    pos += n;
    yield buf;
  }
}

async function readAt(fh: FileHandle, position: number, length: number, fileSize: number, what: string): Promise<Uint8Array> {
  if (position < 0 || position + length > fileSize) throw new FormatError(`${what}: ${length} bytes at offset ${position} lie outside the ${fileSize}-byte file. The archive is truncated or corrupt.`);
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new FormatError(`${what}: unexpected end of file.`);
    got += bytesRead;
  }
  return buf;
}

function u64(v: DataView, off: number, what: string): number {
  const x = v.getBigUint64(off, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what}: a 64-bit size/offset (${x}) exceeds 2^53; the archive is corrupt or hostile.`);
  return Number(x);
}

async function readCentralDirectory(fh: FileHandle, size: number, path: string, options: ZipReaderOptions): Promise<{ entries: ZipEntry[]; zip64: boolean }> {
  const maxCd = options.maxCentralDirectoryBytes ?? 64 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 100_000;
  if (size < 22) throw new FormatError(`${path} is ${size} bytes long, too short to be a ZIP/.npz archive.`);
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = await readAt(fh, size - tailLen, tailLen, size, path);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let p = tailLen - 22; p >= 0; p--) {
    if (tv.getUint32(p, true) === SIG_EOCD && p + 22 + tv.getUint16(p + 20, true) === tailLen) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new FormatError(`${path} has no ZIP end-of-central-directory record; it is not a ZIP/.npz archive (or it is truncated).`);
  const eocdAbs = size - tailLen + eocd;
  let disk = tv.getUint16(eocd + 4, true);
  let cdDisk = tv.getUint16(eocd + 6, true);
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  let zip64 = false;
  if (eocdAbs >= 20) {
    const loc = await readAt(fh, eocdAbs - 20, 20, size, path);
    const lv = new DataView(loc.buffer);
    if (lv.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      zip64 = true;
      const recOffset = u64(lv, 8, path);
      if (lv.getUint32(16, true) > 1) throw new FormatError(`${path} is a multi-disk ZIP archive; only single-file archives are supported.`);
      const rec = await readAt(fh, recOffset, 56, size, `${path}: ZIP64 end record`);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new FormatError(`${path}: the ZIP64 locator points to offset ${recOffset}, which holds no ZIP64 end record. The archive is corrupt.`);
      disk = rv.getUint32(16, true);
      cdDisk = rv.getUint32(20, true);
      count = u64(rv, 32, path);
      cdSize = u64(rv, 40, path);
      cdOffset = u64(rv, 48, path);
    }
  }
  if (disk !== 0 || cdDisk !== 0) throw new FormatError(`${path} is a multi-disk ZIP archive; only single-file archives are supported.`);
  if (count > maxEntries) throw new FormatError(`${path} declares ${count} entries; at most ${maxEntries} are accepted.`);
  if (cdSize > maxCd) throw new FormatError(`${path} has a ${cdSize}-byte central directory; at most ${maxCd} bytes are accepted.`);
  if (cdOffset + cdSize > size) throw new FormatError(`${path}: the central directory (${cdSize} bytes at ${cdOffset}) extends past the end of the ${size}-byte file. The archive is truncated.`);
  const cd = await readAt(fh, cdOffset, cdSize, size, `${path}: central directory`);
  const cv = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) throw new FormatError(`${path}: central directory entry ${i} is malformed. The archive is corrupt.`);
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let csize = cv.getUint32(p + 20, true);
    let usize = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    const diskStart = cv.getUint16(p + 34, true);
    let offset = cv.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdSize) throw new FormatError(`${path}: central directory entry ${i} overruns the directory. The archive is corrupt.`);
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(cd.subarray(p + 46, p + 46 + nameLen));
    let entryZip64 = false;
    if (usize === U32 || csize === U32 || offset === U32 || diskStart === U16) {
      let q = p + 46 + nameLen;
      const extraEnd = q + extraLen;
      let found = false;
      while (q + 4 <= extraEnd) {
        const id = cv.getUint16(q, true);
        const len = cv.getUint16(q + 2, true);
        if (q + 4 + len > extraEnd) break;
        if (id === 0x0001) {
          found = true;
          let r = q + 4;
          const need = (usize === U32 ? 8 : 0) + (csize === U32 ? 8 : 0) + (offset === U32 ? 8 : 0);
          if (len < need) throw new FormatError(`${path}: entry ${name} has a short ZIP64 extra field (${len} < ${need} bytes).`);
          if (usize === U32) { usize = u64(cv, r, path); r += 8; }
          if (csize === U32) { csize = u64(cv, r, path); r += 8; }
          if (offset === U32) { offset = u64(cv, r, path); r += 8; }
        }
        q += 4 + len;
      }
      if (!found) throw new FormatError(`${path}: entry ${name} uses ZIP64 size markers but has no ZIP64 extra field. The archive is corrupt.`);
      entryZip64 = true;
    }
    if (flags & 0x1) throw new FormatError(`${path}: entry ${name} is encrypted; encrypted archives are not supported.`);
    if (method !== 0 && method !== 8) throw new FormatError(`${path}: entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are supported (np.savez / np.savez_compressed).`);
    if (method === 0 && csize !== usize) throw new FormatError(`${path}: stored entry ${name} has different compressed (${csize}) and uncompressed (${usize}) sizes. The archive is corrupt.`);
    entries.push({ name, method, crc32: crc, compressedSize: csize, uncompressedSize: usize, localHeaderOffset: offset, zip64: entryZip64 });
    p = end;
  }
  return { entries, zip64 };
}
