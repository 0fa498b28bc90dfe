import { ConfigError, FormatError, openForRead, readExactly, type NotFoundError } from '@bigr/core';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';

/**
 * A bounded, random-access ZIP reader (the container of `torch.save` files since torch 1.6, and of numpy `.npz`).
 *
 * Only the central directory is read into memory (bounded by {@link ZipReadOptions.maxCentralDirectoryBytes});
 * entry data is read on demand with positioned reads, whole ({@link ZipArchive.read}), by range
 * ({@link ZipArchive.readRange}) or streamed in chunks ({@link ZipArchive.stream}), so multi-gigabyte archives and
 * entries never have to fit in memory.
 * Supported: stored (method 0, what torch writes, 64-byte aligned through local extra-field padding) and deflated
 * (method 8) entries, ZIP64 end records and ZIP64 extra fields, archive comments. Not supported (each a
 * {@link FormatError}): multi-disk archives, encryption, other compression methods. Every offset and size is
 * checked against the file size and the central directory position before it is used; CRC-32 is verified on
 * every full entry read unless disabled.
 */

/** One file of a ZIP archive, as described by its central-directory record. */
export interface ZipEntry {
  /** Entry name (path inside the archive, '/'-separated). */
  readonly name: string;
  /** Compression method. */
  readonly method: 'stored' | 'deflate';
  /** Bytes the entry occupies in the file (after compression). */
  readonly compressedSize: number;
  /** Bytes of the entry's content (after decompression). */
  readonly size: number;
  /** CRC-32 of the content, as recorded in the central directory. */
  readonly crc32: number;
  /** File offset of the entry's local header. */
  readonly localHeaderOffset: number;
  /** Whether the central directory gave this entry's sizes or offset in a ZIP64 extra field. */
  readonly zip64: boolean;
}

/** Bounds and naming for {@link ZipArchive.open}. */
export interface ZipReadOptions {
  /** Largest accepted central directory, in bytes. Default {@link DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES}. */
  maxCentralDirectoryBytes?: number;
  /** Largest accepted number of entries. Default {@link DEFAULT_MAX_ZIP_ENTRIES}. */
  maxEntries?: number;
  /** Name of the source used in error messages (defaults to the path). */
  source?: string;
}

/** Options for {@link ZipArchive.read}. */
export interface ZipEntryReadOptions {
  /** Refuse entries whose content is larger than this many bytes (a {@link FormatError} naming the limit). */
  maxBytes?: number;
  /** Check the content against the recorded CRC-32. Default true. */
  verifyCrc?: boolean;
}

/** Options for {@link ZipArchive.stream}. */
export interface ZipStreamOptions {
  /** Bytes read from the file per chunk (and the largest inflated chunk). Default 1 MiB. */
  chunkBytes?: number;
  /** Check the content against the recorded CRC-32 once the stream has been read to its end. Default true. */
  verifyCrc?: boolean;
}

/** Default bound on the central directory (64 MB, room for about a million entries). */
export const DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;
/** Default bound on the number of entries. */
export const DEFAULT_MAX_ZIP_ENTRIES = 1_000_000;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** Deflate cannot expand data by more than about 1032:1; anything claiming more is corrupt or a bomb. */
const MAX_DEFLATE_RATIO = 1100;
/** Default chunk of {@link ZipArchive.stream}. */
const STREAM_CHUNK = 1 << 20;

function u64(dv: DataView, at: number, what: string, source: string): number {
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  if (hi >= 2 ** 21) {
    throw new FormatError(`${source}: ZIP field ${what} is ${dv.getBigUint64(at, true)}, beyond any real file size. The archive is corrupt.`);
  }
  return hi * 2 ** 32 + lo;
}

function positiveLimit(v: number | undefined, fallback: number, name: string): number {
  const x = v ?? fallback;
  if (!Number.isSafeInteger(x) || x < 0) throw new ConfigError(`${name} is ${String(x)}; expected a non-negative integer.`);
  return x;
}

interface RawEnd {
  entries: number;
  cdSize: number;
  cdOffset: number;
  /** Where the end records start: the central directory must end at or before this offset. */
  endStart: number;
  /** Whether a ZIP64 end record is present. */
  zip64: boolean;
}

/** A ZIP archive opened for random access. Call {@link ZipArchive.close} when done. */
export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** File size in bytes. */
  readonly fileSize: number;
  /** Name used in error messages. */
  readonly source: string;
  /** Offset of the central directory (entry data must lie before it). */
  readonly centralDirectoryOffset: number;
  /** Whether the archive has a ZIP64 end-of-central-directory record. */
  readonly zip64: boolean;
  readonly #fh: FileHandle;
  readonly #owned: boolean;
  readonly #dataOffsets = new Map<string, number>();

  private constructor(fh: FileHandle, owned: boolean, source: string, fileSize: number, end: RawEnd, entries: Map<string, ZipEntry>) {
    this.#fh = fh;
    this.#owned = owned;
    this.source = source;
    this.fileSize = fileSize;
    this.centralDirectoryOffset = end.cdOffset;
    this.zip64 = end.zip64;
    this.entries = entries;
  }

  /** Opens the archive at `path` and reads its central directory. Throws {@link NotFoundError} when missing. */
  static async open(path: string, options: ZipReadOptions = {}): Promise<ZipArchive> {
    const fh = await openForRead(path, `File ${path} does not exist. Check the path or download the checkpoint first.`);
    try {
      return await ZipArchive.fromHandle(fh, { ...options, source: options.source ?? path }, true);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Reads the central directory through an already open handle. When `owned` is false (the default),
   * {@link ZipArchive.close} leaves the handle open.
   */
  static async fromHandle(fh: FileHandle, options: ZipReadOptions = {}, owned = false): Promise<ZipArchive> {
    const source = options.source ?? 'ZIP archive';
    const maxCd = positiveLimit(options.maxCentralDirectoryBytes, DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES, 'maxCentralDirectoryBytes');
    const maxEntries = positiveLimit(options.maxEntries, DEFAULT_MAX_ZIP_ENTRIES, 'maxEntries');
    const { size } = await fh.stat();
    const end = await readEnd(fh, size, source);
    if (end.cdSize > maxCd) {
      throw new FormatError(
        `${source}: the ZIP central directory is ${end.cdSize} bytes, above the limit of ${maxCd}. ` +
          `The archive is corrupt, or raise maxCentralDirectoryBytes if it is genuine.`,
      );
    }
    if (end.entries > maxEntries) {
      throw new FormatError(
        `${source}: the ZIP archive declares ${end.entries} entries, above the limit of ${maxEntries}. Raise maxEntries if the archive is genuine.`,
      );
    }
    if (end.cdOffset + end.cdSize > end.endStart) {
      throw new FormatError(
        `${source}: the ZIP central directory [${end.cdOffset}, ${end.cdOffset + end.cdSize}) runs past the end record at offset ${end.endStart} ` +
          `(file size ${size}). ` +
          'The archive is truncated or its end record is corrupt; re-download or re-save it.',
      );
    }
    if (end.entries * CENTRAL_SIZE > end.cdSize) {
      throw new FormatError(`${source}: ${end.entries} entries cannot fit in a central directory of ${end.cdSize} bytes. The archive is corrupt.`);
    }
    const cd = new Uint8Array(end.cdSize);
    await readExactly(fh, cd, end.cdOffset, source);
    const entries = parseCentralDirectory(cd, end, source);
    return new ZipArchive(fh, owned, source, size, end, entries);
  }

  /** The entry called `name`, or undefined. */
  get(name: string): ZipEntry | undefined {
    return this.entries.get(name);
  }

  /** File offset of the first content byte of `entry` (reads and validates its local header once). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const cached = this.#dataOffsets.get(entry.name);
    if (cached !== undefined) return cached;
    const head = new Uint8Array(LOCAL_SIZE);
    await readExactly(this.#fh, head, entry.localHeaderOffset, this.source);
    const dv = new DataView(head.buffer);
    const where = `${this.source}: ZIP entry "${entry.name}"`;
    if (dv.getUint32(0, true) !== SIG_LOCAL) {
      throw new FormatError(
        `${where} has no local header at offset ${entry.localHeaderOffset} (found 0x${dv.getUint32(0, true).toString(16)}). ` +
          `The central directory offsets are corrupt.`,
      );
    }
    const flags = dv.getUint16(6, true);
    if (flags & 1) throw new FormatError(`${where} is encrypted; encrypted archives are not supported. Re-save it without encryption.`);
    const method = dv.getUint16(8, true);
    if (method !== (entry.method === 'stored' ? 0 : 8)) {
      throw new FormatError(
        `${where}: its local header says compression method ${method} but the central directory says ${entry.method}. The archive is corrupt.`,
      );
    }
    const nameLength = dv.getUint16(26, true);
    const extraLength = dv.getUint16(28, true);
    const start = entry.localHeaderOffset + LOCAL_SIZE + nameLength + extraLength;
    if (start + entry.compressedSize > this.centralDirectoryOffset) {
      throw new FormatError(
        `${where}: its data [${start}, ${start + entry.compressedSize}) runs past the central directory at offset ${this.centralDirectoryOffset} ` +
          `(file size ${this.fileSize}). ` +
          'The archive is truncated or corrupt; re-download or re-save it.',
      );
    }
    const nameBytes = new Uint8Array(nameLength);
    await readExactly(this.#fh, nameBytes, entry.localHeaderOffset + LOCAL_SIZE, this.source);
    const localName = new TextDecoder('utf-8', { fatal: false }).decode(nameBytes);
    if (localName !== entry.name) {
      throw new FormatError(`${where}: the local header at offset ${entry.localHeaderOffset} names "${localName}" instead. The central directory is corrupt.`);
    }
    this.#dataOffsets.set(entry.name, start);
    return start;
  }

  /**
   * Reads the whole content of an entry (decompressing deflated entries) into a fresh, 8-byte aligned
   * `Uint8Array` that owns its buffer.
   */
  async read(entryOrName: ZipEntry | string, options: ZipEntryReadOptions = {}): Promise<Uint8Array> {
    const entry = typeof entryOrName === 'string' ? this.#require(entryOrName) : entryOrName;
    const where = `${this.source}: ZIP entry "${entry.name}"`;
    if (options.maxBytes !== undefined && entry.size > options.maxBytes) {
      throw new FormatError(
        `${where} is ${entry.size} bytes, above the limit of ${options.maxBytes}. The file is corrupt or hostile; raise the limit if it is genuine.`,
      );
    }
    const start = await this.dataOffset(entry);
    let out: Uint8Array;
    if (entry.method === 'stored') {
      out = new Uint8Array(entry.size);
      await readExactly(this.#fh, out, start, this.source);
    } else {
      const packed = new Uint8Array(entry.compressedSize);
      await readExactly(this.#fh, packed, start, this.source);
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(packed, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        throw new FormatError(
          `${where} does not inflate to its declared ${entry.size} bytes (${(err as Error).message}). The archive is corrupt; re-save it.`,
          { cause: err },
        );
      }
      if (inflated.length !== entry.size) {
        throw new FormatError(`${where} inflates to ${inflated.length} bytes but its header declares ${entry.size}. The archive is corrupt; re-save it.`);
      }
      out = new Uint8Array(entry.size);
      out.set(inflated);
    }
    if (options.verifyCrc ?? true) checkCrc(crc32(out) >>> 0, entry, where);
    return out;
  }

  /**
   * Streams the content of an entry (inflating deflated entries on the fly) in chunks of at most
   * {@link ZipStreamOptions.chunkBytes}, so entries larger than memory can be processed. Only what is read is held.
   * The size (never more than the declared size is produced) and, unless disabled, the CRC-32 are checked when the
   * stream is read to its end; stopping early (leaving a `for await` loop) releases the resources without the checks.
   */
  async *stream(entryOrName: ZipEntry | string, options: ZipStreamOptions = {}): AsyncGenerator<Uint8Array> {
    const entry = typeof entryOrName === 'string' ? this.#require(entryOrName) : entryOrName;
    const where = `${this.source}: ZIP entry "${entry.name}"`;
    const chunkBytes = positiveLimit(options.chunkBytes, STREAM_CHUNK, 'chunkBytes');
    if (chunkBytes === 0) throw new ConfigError('chunkBytes is 0; expected a positive integer.');
    const start = await this.dataOffset(entry);
    const range = readChunks(this.#fh, start, entry.compressedSize, chunkBytes, this.source);
    let content: AsyncIterable<Uint8Array> = range;
    let release = (): void => undefined;
    if (entry.method === 'deflate') {
      const packed = Readable.from(range, { objectMode: false });
      const inflate = createInflateRaw({ chunkSize: Math.max(64, Math.min(chunkBytes, STREAM_CHUNK)) });
      packed.on('error', (e) => inflate.destroy(e));
      packed.pipe(inflate);
      content = inflate;
      release = () => {
        packed.unpipe(inflate);
        packed.destroy();
        inflate.destroy();
      };
    }
    let produced = 0;
    let crc = 0;
    let finished = false;
    try {
      for await (const chunk of content) {
        produced += chunk.length;
        if (produced > entry.size) {
          throw new FormatError(`${where} inflates to more than its declared ${entry.size} bytes. The archive is corrupt or hostile.`);
        }
        crc = crc32(chunk, crc);
        yield chunk;
      }
      finished = true;
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError(`${where} could not be read: ${(err as Error).message}. The archive is corrupt; re-save it.`, { cause: err });
    } finally {
      if (!finished) release();
    }
    if (produced !== entry.size) {
      throw new FormatError(`${where} holds ${produced} bytes but its header declares ${entry.size}. The archive is truncated or corrupt; re-save it.`);
    }
    if (options.verifyCrc ?? true) checkCrc(crc >>> 0, entry, where);
  }

  /** Reads `length` content bytes starting at `offset` of a stored (uncompressed) entry, without CRC check. */
  async readRange(entryOrName: ZipEntry | string, offset: number, length: number): Promise<Uint8Array> {
    const entry = typeof entryOrName === 'string' ? this.#require(entryOrName) : entryOrName;
    if (entry.method !== 'stored') {
      throw new ConfigError(`readRange needs a stored ZIP entry, but "${entry.name}" is deflated. Use read() to decompress the whole entry.`);
    }
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > entry.size) {
      throw new ConfigError(`readRange(${offset}, ${length}) is outside entry "${entry.name}" of ${entry.size} bytes. Pass a range inside the entry.`);
    }
    const out = new Uint8Array(length);
    await readExactly(this.#fh, out, (await this.dataOffset(entry)) + offset, this.source);
    return out;
  }

  /** Closes the file handle (when this archive opened it). Idempotent. */
  async close(): Promise<void> {
    if (this.#owned) await this.#fh.close().catch(() => undefined);
  }

  #require(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new FormatError(`${this.source}: the ZIP archive has no entry "${name}". The file is incomplete or not the expected kind of archive.`);
    return e;
  }
}

function checkCrc(actual: number, entry: ZipEntry, where: string): void {
  if (actual !== entry.crc32) {
    throw new FormatError(
      `${where} fails its CRC-32 check (computed 0x${actual.toString(16).padStart(8, '0')}, recorded 0x${entry.crc32.toString(16).padStart(8, '0')}). ` +
        `The file is corrupt; re-download it.`,
    );
  }
}

/** Positioned reads of [start, start + length) in fresh chunks of at most `chunk` bytes; never closes the handle. */
async function* readChunks(fh: FileHandle, start: number, length: number, chunk: number, source: string): AsyncGenerator<Uint8Array> {
  for (let pos = start; pos < start + length; ) {
    const buf = new Uint8Array(Math.min(chunk, start + length - pos));
    await readExactly(fh, buf, pos, source);
    pos += buf.length;
    yield buf;
  }
}

/** Finds and validates the end-of-central-directory record (and the ZIP64 one when present). */
async function readEnd(fh: FileHandle, size: number, source: string): Promise<RawEnd> {
  if (size < EOCD_SIZE) {
    throw new FormatError(
      `${source} is ${size} bytes, too short to be a ZIP archive (at least ${EOCD_SIZE} bytes). The file is truncated or not a ZIP archive.`,
    );
  }
  const tailLength = Math.min(size, EOCD_SIZE + 0xffff + LOCATOR_SIZE);
  const tailStart = size - tailLength;
  const tail = new Uint8Array(tailLength);
  await readExactly(fh, tail, tailStart, source);
  const dv = new DataView(tail.buffer);
  let at = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + dv.getUint16(i + 20, true) <= tailLength) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    throw new FormatError(
      `${source} has no ZIP end-of-central-directory record in its last ${tailLength} bytes. ` +
        `The file is truncated (an interrupted download or save) or is not a ZIP archive; re-download or re-save it.`,
    );
  }
  const diskNumber = dv.getUint16(at + 4, true);
  const cdDisk = dv.getUint16(at + 6, true);
  let entries = dv.getUint16(at + 10, true);
  let cdSize = dv.getUint32(at + 12, true);
  let cdOffset = dv.getUint32(at + 16, true);
  let endStart = tailStart + at;
  let zip64 = false;
  const locAt = at - LOCATOR_SIZE;
  if (locAt >= 0 && dv.getUint32(locAt, true) === SIG_ZIP64_LOCATOR) {
    const z64Offset = u64(dv, locAt + 8, 'ZIP64 end record offset', source);
    const locatorPos = tailStart + locAt;
    if (z64Offset + ZIP64_EOCD_SIZE > locatorPos) {
      throw new FormatError(
        `${source}: the ZIP64 end record offset ${z64Offset} is past the ZIP64 locator at ${locatorPos}. The archive is corrupt or truncated.`,
      );
    }
    const rec = new Uint8Array(ZIP64_EOCD_SIZE);
    await readExactly(fh, rec, z64Offset, source);
    const zdv = new DataView(rec.buffer);
    if (zdv.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new FormatError(`${source}: no ZIP64 end record at offset ${z64Offset} (found 0x${zdv.getUint32(0, true).toString(16)}). The archive is corrupt.`);
    }
    if (zdv.getUint32(16, true) !== 0 || zdv.getUint32(20, true) !== 0) {
      throw new FormatError(`${source} is a multi-disk (split) ZIP archive, which is not supported. Join the parts into one file.`);
    }
    entries = u64(zdv, 32, 'entry count', source);
    cdSize = u64(zdv, 40, 'central directory size', source);
    cdOffset = u64(zdv, 48, 'central directory offset', source);
    endStart = z64Offset;
    zip64 = true;
  } else {
    if (diskNumber !== 0 || cdDisk !== 0) {
      throw new FormatError(`${source} is a multi-disk (split) ZIP archive (disk ${diskNumber}), which is not supported. Join the parts into one file.`);
    }
    if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw new FormatError(`${source}: the ZIP end record needs ZIP64 values but no ZIP64 locator precedes it. The archive is corrupt or truncated.`);
    }
  }
  return { entries, cdSize, cdOffset, endStart, zip64 };
}

function parseCentralDirectory(cd: Uint8Array, end: RawEnd, source: string): Map<string, ZipEntry> {
  const dv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < end.entries; i++) {
    if (p + CENTRAL_SIZE > cd.length) {
      throw new FormatError(`${source}: the ZIP central directory ends inside record ${i} of ${end.entries}. The archive is corrupt or truncated.`);
    }
    if (dv.getUint32(p, true) !== SIG_CENTRAL) {
      throw new FormatError(
        `${source}: ZIP central directory record ${i} at offset ${end.cdOffset + p} has signature 0x${dv.getUint32(p, true).toString(16)} instead of ` +
          `0x${SIG_CENTRAL.toString(16)}. The central directory offset is wrong; the archive is corrupt.`,
      );
    }
    const flags = dv.getUint16(p + 8, true);
    const methodCode = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const disk = dv.getUint16(p + 34, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    const recordEnd = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (recordEnd > cd.length) {
      throw new FormatError(`${source}: ZIP central directory record ${i} runs past the end of the central directory. The archive is corrupt.`);
    }
    let name: string;
    try {
      name = decoder.decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLength));
    } catch (err) {
      throw new FormatError(`${source}: the name of ZIP entry ${i} is not valid UTF-8. The archive is corrupt.`, { cause: err });
    }
    const where = `${source}: ZIP entry "${name}"`;
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
    const extraStart = p + CENTRAL_SIZE + nameLength;
    const needSize = size === 0xffffffff;
    const needCompressed = compressedSize === 0xffffffff;
    const needOffset = localHeaderOffset === 0xffffffff;
    const zip64 = needSize || needCompressed || needOffset;
    if (zip64) {
      let q = extraStart;
      let found = false;
      while (q + 4 <= extraStart + extraLength) {
        const id = dv.getUint16(q, true);
        const len = dv.getUint16(q + 2, true);
        if (q + 4 + len > extraStart + extraLength) break;
        if (id === 0x0001) {
          let r = q + 4;
          const take = (what: string): number => {
            if (r + 8 > q + 4 + len) throw new FormatError(`${where}: its ZIP64 extra field is too short to hold the ${what}. The archive is corrupt.`);
            const v = u64(dv, r, what, source);
            r += 8;
            return v;
          };
          if (needSize) size = take('uncompressed size');
          if (needCompressed) compressedSize = take('compressed size');
          if (needOffset) localHeaderOffset = take('local header offset');
          found = true;
          break;
        }
        q += 4 + len;
      }
      if (!found) throw new FormatError(`${where} has saturated 32-bit sizes/offsets but no ZIP64 extra field. The archive is corrupt.`);
    }
    if (disk !== 0) throw new FormatError(`${where} starts on disk ${disk}; multi-disk archives are not supported.`);
    if (flags & 1) throw new FormatError(`${where} is encrypted; encrypted archives are not supported. Re-save it without encryption.`);
    if (methodCode !== 0 && methodCode !== 8) {
      throw new FormatError(
        `${where} uses compression method ${methodCode}; only stored (0) and deflate (8) are supported. Re-save the archive with one of them.`,
      );
    }
    const method = methodCode === 0 ? 'stored' : 'deflate';
    if (method === 'stored' && compressedSize !== size) {
      throw new FormatError(
        `${where} is stored (uncompressed) but its compressed size ${compressedSize} differs from its size ${size}. The archive is corrupt.`,
      );
    }
    if (method === 'deflate' && size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw new FormatError(
        `${where} claims ${size} bytes from ${compressedSize} compressed bytes, beyond what deflate can produce. The archive is corrupt or hostile.`,
      );
    }
    if (localHeaderOffset + LOCAL_SIZE + nameLength + compressedSize > end.cdOffset) {
      throw new FormatError(
        `${where}: local header at offset ${localHeaderOffset} plus ${compressedSize} data bytes extends beyond the entry data area, ` +
          `which ends at the central directory (offset ${end.cdOffset}). ` +
          'The archive is truncated or its central directory is corrupt; re-download or re-save it.',
      );
    }
    if (entries.has(name)) throw new FormatError(`${source}: the ZIP archive has two entries named "${name}". The archive is corrupt or hostile.`);
    entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset, zip64 });
    p = recordEnd;
  }
  return entries;
}
