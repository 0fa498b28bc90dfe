/**
 * `.npz` archives (a ZIP of `.npy` entries, docs/evaluation.md §2.4): reading small arrays whole, streaming large ones
 * (`arr_0` with 50,000×256×256×3 uint8 images) in batches along the first axis, and writing archives readable
 * by `numpy.load`, atomically and with ZIP64 when needed. Entries may be stored (np.savez) or deflated
 * (np.savez_compressed).
 */
import { at, ConfigError, FormatError, NotFoundError, throwIfAborted } from '@bigr/core';
import { ZipArchive, ZipWriter, type ZipEntry, type ZipReadOptions, type ZipWriterOptions } from '@bigr/torch';
import { ByteReader } from './byteReader.js';
import {
  type NpyArray,
  type NpyDType,
  type NpyHeader,
  NPY_ITEM_SIZE,
  NPY_MAX_HEADER_BYTES,
  assertLittleEndianHost,
  checkArray,
  decodeHeader,
  encodeNpyHeader,
  npyHeaderTextLength,
  npyPreambleLength,
  parseNpyHeaderText,
  typedArrayFromBytes,
} from './npy.js';

/** Default bound on the number of arrays (ZIP entries) of an `.npz` archive. */
export const NPZ_MAX_ENTRIES = 100_000;

/**
 * Options for {@link NpzReader.open}: bounds on the ZIP central directory (default 64 MiB) and entry count (default
 * {@link NPZ_MAX_ENTRIES}), and on the `.npy` headers.
 */
export interface NpzReaderOptions extends Pick<ZipReadOptions, 'maxCentralDirectoryBytes' | 'maxEntries'> {
  /** Largest `.npy` header text accepted (default 10,000 bytes). */
  maxHeaderBytes?: number;
}

/** Options for reading a whole array. */
export interface NpzReadOptions {
  /** Refuse arrays larger than this many data bytes (default 2 GiB); use {@link NpzReader.batches} for more. */
  maxBytes?: number;
}

/** An open `.npz` file. */
export class NpzReader {
  readonly #zip: ZipArchive;
  readonly #maxHeader: number;

  private constructor(zip: ZipArchive, maxHeader: number) {
    this.#zip = zip;
    this.#maxHeader = maxHeader;
  }

  /** Opens an `.npz` archive and reads its directory. */
  static async open(path: string, options: NpzReaderOptions = {}): Promise<NpzReader> {
    assertLittleEndianHost();
    const zip = await ZipArchive.open(path, {
      maxCentralDirectoryBytes: options.maxCentralDirectoryBytes,
      maxEntries: options.maxEntries ?? NPZ_MAX_ENTRIES,
    });
    return new NpzReader(zip, options.maxHeaderBytes ?? NPY_MAX_HEADER_BYTES);
  }

  /** Path of the archive. */
  get path(): string {
    return this.#zip.source;
  }

  /** Array names (entry names without the `.npy` suffix), in archive order. */
  get names(): string[] {
    return [...this.#zip.entries.keys()].map((name) => name.replace(/\.npy$/, ''));
  }

  /** Whether an array called `name` exists. */
  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  /** The `.npy` header (dtype, shape) of array `name`, read without loading its data. */
  async header(name: string): Promise<NpyHeader> {
    const entry = this.#entry(name);
    const reader = new ByteReader(this.#zip.stream(entry, { chunkBytes: 64 * 1024 }), `${this.path}: ${entry.name}`);
    try {
      return await this.#readHeader(reader, entry);
    } finally {
      await reader.cancel();
    }
  }

  /** Reads array `name` whole (bounded by {@link NpzReadOptions.maxBytes}). */
  async read(name: string, options: NpzReadOptions = {}): Promise<NpyArray> {
    const entry = this.#entry(name);
    const reader = new ByteReader(this.#zip.stream(entry), `${this.path}: ${entry.name}`);
    try {
      const header = await this.#readHeader(reader, entry);
      const max = options.maxBytes ?? 2 ** 31;
      if (header.dataBytes > max) {
        throw new ConfigError(
          `${this.path}: array ${name} holds ${header.dataBytes} bytes (${header.dtype}, shape (${header.shape.join(', ')})), more than maxBytes = ${max}. ` +
            `Stream it with batches() instead.`,
        );
      }
      const data = typedArrayFromBytes(header.dtype, await reader.read(header.dataBytes), true);
      await this.#finish(reader, entry);
      return { dtype: header.dtype, shape: header.shape, data };
    } finally {
      await reader.cancel();
    }
  }

  /**
   * Streams array `name` in batches of up to `batchRows` rows along its first axis (each batch is an
   * {@link NpyArray} of shape [b, ...rest]); only one batch is in memory at a time. The entry's CRC is checked
   * after the last batch.
   */
  async *batches(name: string, batchRows: number, options: { signal?: AbortSignal } = {}): AsyncGenerator<NpyArray> {
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new ConfigError(`NpzReader.batches: batchRows ${batchRows} must be a positive integer.`);
    const entry = this.#entry(name);
    const reader = new ByteReader(this.#zip.stream(entry), `${this.path}: ${entry.name}`);
    try {
      const header = await this.#readHeader(reader, entry);
      const [rows, ...rest] = header.shape;
      if (rows === undefined) throw new FormatError(`${this.path}: array ${name} is a scalar; it has no rows to stream.`);
      const rowBytes = rest.reduce((a, b) => a * b, 1) * NPY_ITEM_SIZE[header.dtype];
      for (let r = 0; r < rows; r += batchRows) {
        throwIfAborted(options.signal, `reading ${name} from ${this.path}`);
        const b = Math.min(batchRows, rows - r);
        const bytes = await reader.read(b * rowBytes);
        yield { dtype: header.dtype, shape: [b, ...rest], data: typedArrayFromBytes(header.dtype, bytes, true) };
      }
      await this.#finish(reader, entry);
    } finally {
      await reader.cancel();
    }
  }

  /** Closes the archive. */
  async close(): Promise<void> {
    await this.#zip.close();
  }

  #find(name: string): ZipEntry | undefined {
    return this.#zip.get(`${name}.npy`) ?? this.#zip.get(name);
  }

  #entry(name: string): ZipEntry {
    const e = this.#find(name);
    if (!e) throw new NotFoundError(`${this.path} has no array "${name}". Available: ${this.names.join(', ') || '(none)'}.`);
    return e;
  }

  async #readHeader(reader: ByteReader, entry: ZipEntry): Promise<NpyHeader> {
    const what = `${this.path}: ${entry.name}`;
    const first = await reader.read(8);
    const preLen = npyPreambleLength(first, what);
    const pre = new Uint8Array(preLen);
    pre.set(first);
    pre.set(await reader.read(preLen - 8), 8);
    const len = npyHeaderTextLength(pre, this.#maxHeader, what);
    const version = at(first, 6, '.npy version byte');
    const header = parseNpyHeaderText(decodeHeader(await reader.read(len), version), preLen + len, version, what);
    if (header.headerBytes + header.dataBytes !== entry.size) {
      throw new FormatError(
        `${what}: the .npy header promises ${header.dataBytes} data bytes (${header.dtype}, shape (${header.shape.join(', ')})) but the entry holds ` +
          `${entry.size - header.headerBytes}. The file is truncated or corrupt.`,
      );
    }
    return header;
  }

  async #finish(reader: ByteReader, entry: ZipEntry): Promise<void> {
    const left = await reader.drain(); // runs the CRC check in the zip stream
    if (left !== 0) throw new FormatError(`${this.path}: ${entry.name} has ${left} unexpected trailing bytes.`);
  }
}

/** Reads every array of a small `.npz` file into memory. */
export async function readNpz(path: string, options: NpzReaderOptions & NpzReadOptions = {}): Promise<Map<string, NpyArray>> {
  const npz = await NpzReader.open(path, options);
  try {
    const out = new Map<string, NpyArray>();
    for (const name of npz.names) out.set(name, await npz.read(name, options));
    return out;
  } finally {
    await npz.close();
  }
}

/** Writes `.npz` archives (stored entries) entry by entry; arrays can be streamed in chunks. */
export class NpzWriter {
  readonly #zip: ZipWriter;

  private constructor(zip: ZipWriter) {
    this.#zip = zip;
  }

  /** Starts writing `path` atomically (nothing appears at `path` until {@link NpzWriter.close}). */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<NpzWriter> {
    assertLittleEndianHost();
    return new NpzWriter(await ZipWriter.create(path, options));
  }

  /** Adds a whole array as `name.npy`. */
  async add(name: string, array: NpyArray): Promise<void> {
    checkArray(array);
    const header = encodeNpyHeader(array.dtype, array.shape);
    const data = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
    await this.#zip.addEntry(`${name}.npy`, header.length + data.length, [header, data]);
  }

  /**
   * Adds an array of known dtype and shape whose data arrives in chunks (typed arrays of that dtype, in C
   * order), e.g. 50,000 generated images written batch by batch. The chunks must add up to the shape exactly.
   */
  async addStreamed(
    name: string,
    dtype: NpyDType,
    shape: readonly number[],
    chunks: Iterable<ArrayBufferView> | AsyncIterable<ArrayBufferView>,
  ): Promise<void> {
    const header = encodeNpyHeader(dtype, shape);
    const dataBytes = shape.reduce((a, b) => a * b, 1) * NPY_ITEM_SIZE[dtype];
    async function* bytes(): AsyncGenerator<Uint8Array> {
      yield header;
      for await (const c of chunks) {
        if (c.byteLength % NPY_ITEM_SIZE[dtype] !== 0)
          throw new ConfigError(`NpzWriter.addStreamed: a chunk of ${c.byteLength} bytes is not a whole number of ${dtype} elements.`);
        yield new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
      }
    }
    await this.#zip.addEntry(`${name}.npy`, header.length + dataBytes, bytes());
  }

  /** Finishes the archive and moves it into place. */
  async close(): Promise<void> {
    await this.#zip.close();
  }

  /** Discards the partial archive. */
  async abort(): Promise<void> {
    await this.#zip.abort();
  }
}

/** Writes arrays to an `.npz` file atomically (ZIP64 only where needed unless `options.zip64`). */
export async function writeNpz(
  path: string,
  arrays: Readonly<Record<string, NpyArray>> | ReadonlyMap<string, NpyArray>,
  options: ZipWriterOptions = {},
): Promise<void> {
  const writer = await NpzWriter.create(path, options);
  try {
    const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays as Record<string, NpyArray>);
    for (const [name, array] of entries) await writer.add(name, array);
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
