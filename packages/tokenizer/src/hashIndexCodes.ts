import { bytesPerToken, ConfigError, crc32, FormatError, popcount32, ShapeError, required, type PackedCodes } from '@bigr/core';

/** Result of a k-nearest-neighbour query: best first, ties broken by insertion order. */
export interface Neighbours {
  /** Positions in the index. */
  readonly positions: Int32Array;
  /** The ids stored with those entries. */
  readonly ids: Int32Array;
  /** Hamming distances (number of differing bits). */
  readonly distances: Int32Array;
}

/** Limits for {@link HashIndex.load} / {@link HashIndex.deserialize}. */
export interface HashIndexLimits {
  /** Largest accepted file, in bytes (default 2 GiB). */
  readonly maxBytes?: number;
}

const MAGIC = 'BIGRHASH';
const VERSION = 1;
const HEADER_BYTES = 40;
const MAX_CODE_BYTES = 1 << 20;
/** Default bound of an index file read by `HashIndex.load` (2 GiB). */
export const DEFAULT_MAX_HASH_INDEX_FILE = 2 * 1024 * 1024 * 1024;

/**
 * A brute-force Hamming index over packed binary codes (one code per image: its N tokens × K bits in the
 * `PackedCodes` byte layout). Codes are held as 32-bit words; a query XORs and popcounts every stored code, which
 * scans 100k codes of 1024 bits in a few milliseconds.
 *
 * File format (little-endian), from {@link HashIndex.serialize} (in Node, `HashIndex.save` writes it atomically):
 * `"BIGRHASH"` | u32 version (1) | u32 tokens | u32 bitsPerToken | u32 count | u32 flags (0) | u32 reserved (0) |
 * u32 CRC-32 of everything after the header | u32 reserved (0) | count × bytesPerCode code bytes | count × i32 ids.
 */
export class HashIndex {
  /** Tokens per code. */
  readonly tokens: number;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Bytes per code: tokens·ceil(K/8). */
  readonly bytesPerCode: number;
  readonly #words: number;
  #codes: Uint32Array;
  #ids: Int32Array;
  #count = 0;

  /** An empty index for codes of `tokens` tokens of `bitsPerToken` bits. */
  constructor(tokens: number, bitsPerToken: number, capacity = 1024) {
    for (const [n, v] of [
      ['tokens', tokens],
      ['bitsPerToken', bitsPerToken],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`HashIndex: ${n} must be a positive integer, got ${v}.`);
    }
    this.tokens = tokens;
    this.bitsPerToken = bitsPerToken;
    this.bytesPerCode = tokens * bytesPerToken(bitsPerToken);
    if (this.bytesPerCode > MAX_CODE_BYTES) throw new ConfigError(`HashIndex: codes of ${this.bytesPerCode} bytes exceed the limit of ${MAX_CODE_BYTES}.`);
    this.#words = Math.ceil(this.bytesPerCode / 4);
    const cap = Math.max(1, Math.floor(capacity));
    this.#codes = new Uint32Array(cap * this.#words);
    this.#ids = new Int32Array(cap);
  }

  /** Number of stored codes. */
  get size(): number {
    return this.#count;
  }

  #reserve(n: number): void {
    const need = this.#count + n;
    if (need <= this.#ids.length) return;
    const cap = Math.max(need, this.#ids.length * 2);
    const codes = new Uint32Array(cap * this.#words);
    codes.set(this.#codes.subarray(0, this.#count * this.#words));
    const ids = new Int32Array(cap);
    ids.set(this.#ids.subarray(0, this.#count));
    this.#codes = codes;
    this.#ids = ids;
  }

  #checkCodes(codes: PackedCodes): number {
    if (codes.tokens !== this.tokens || codes.bitsPerToken !== this.bitsPerToken) {
      throw new ShapeError(
        `HashIndex holds codes of ${this.tokens} tokens × ${this.bitsPerToken} bits, but the given codes have ${codes.tokens} × ${codes.bitsPerToken}. ` +
          `Hash with the same tokenizer and image size.`,
      );
    }
    if (codes.bytes.length !== codes.batch * this.bytesPerCode) {
      throw new ShapeError(`HashIndex: packed codes have ${codes.bytes.length} bytes but batch ${codes.batch} × ${this.bytesPerCode} were expected.`);
    }
    return codes.batch;
  }

  /** Packs the bytes of one code into words at `dst[offset…]`. */
  #toWords(bytes: Uint8Array, byteOffset: number, dst: Uint32Array, offset: number): void {
    const n = this.bytesPerCode;
    for (let w = 0; w < this.#words; w++) {
      const b = byteOffset + w * 4;
      const end = Math.min(4, n - w * 4);
      let v = 0;
      for (let j = 0; j < end; j++) v |= required(bytes[b + j], 'code byte') << (8 * j);
      dst[offset + w] = v >>> 0;
    }
  }

  /**
   * Appends codes (one per image of `codes.batch`) with optional ids (default: their positions). Returns the
   * position of the first added code.
   */
  add(codes: PackedCodes, ids?: ArrayLike<number>): number {
    const n = this.#checkCodes(codes);
    if (ids !== undefined && ids.length !== n) throw new ShapeError(`HashIndex.add: ${ids.length} ids for ${n} codes; give one id per code.`);
    this.#reserve(n);
    const first = this.#count;
    for (let i = 0; i < n; i++) {
      this.#toWords(codes.bytes, i * this.bytesPerCode, this.#codes, (first + i) * this.#words);
      const id = ids === undefined ? first + i : required(ids[i], 'code id');
      if (!Number.isInteger(id) || id < -(2 ** 31) || id >= 2 ** 31) throw new ConfigError(`HashIndex.add: id ${id} is not a 32-bit integer.`);
      this.#ids[first + i] = id;
    }
    this.#count += n;
    return first;
  }

  /** The packed bytes of the code at `position`. */
  code(position: number): Uint8Array {
    if (!Number.isInteger(position) || position < 0 || position >= this.#count)
      throw new ConfigError(`HashIndex: position ${position} is outside [0, ${this.#count}).`);
    const out = new Uint8Array(this.bytesPerCode);
    const base = position * this.#words;
    for (let i = 0; i < this.bytesPerCode; i++) out[i] = (required(this.#codes[base + (i >> 2)], 'stored code word') >>> (8 * (i & 3))) & 0xff;
    return out;
  }

  /** The id stored at `position`. */
  id(position: number): number {
    if (!Number.isInteger(position) || position < 0 || position >= this.#count)
      throw new ConfigError(`HashIndex: position ${position} is outside [0, ${this.#count}).`);
    return required(this.#ids[position], 'stored id');
  }

  /** Hamming distances from one query code to every stored code, in position order. */
  distances(query: Uint8Array): Int32Array {
    if (query.length !== this.bytesPerCode) {
      throw new ShapeError(
        `HashIndex: query has ${query.length} bytes but codes have ${this.bytesPerCode} (${this.tokens} tokens × ceil(${this.bitsPerToken}/8)).`,
      );
    }
    const words = this.#words;
    const q = new Uint32Array(words);
    this.#toWords(query, 0, q, 0);
    const out = new Int32Array(this.#count);
    const codes = this.#codes;
    for (let i = 0, base = 0; i < this.#count; i++, base += words) {
      let d = 0;
      for (let w = 0; w < words; w++) d += popcount32(required(codes[base + w], 'stored code word') ^ required(q[w], 'query word'));
      out[i] = d;
    }
    return out;
  }

  /**
   * The `k` nearest stored codes to `query` (packed bytes of one code) by Hamming distance, nearest first; equal
   * distances are ordered by position. Exact (brute force): O(size · words) popcounts plus a counting selection.
   */
  search(query: Uint8Array, k: number): Neighbours {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`HashIndex.search: k must be a positive integer, got ${k}.`);
    const dist = this.distances(query);
    const kk = Math.min(k, this.#count);
    const maxD = this.#words * 32;
    const hist = new Int32Array(maxD + 2);
    for (let i = 0; i < dist.length; i++) {
      const d = required(dist[i], 'distance');
      hist[d] = required(hist[d], 'distance histogram bin') + 1;
    }
    // the smallest distance `cut` whose bin reaches kk; the bins sum to size ≥ kk, so it is at most maxD
    let cut = 0;
    let below = 0;
    for (; cut < hist.length; cut++) {
      const count = required(hist[cut], 'distance histogram bin');
      if (below + count >= kk) break;
      below += count;
    }
    // all with distance < cut, plus the first (kk − below) with distance == cut in position order
    const starts = new Int32Array(cut);
    for (let d = 1; d < cut; d++) starts[d] = required(starts[d - 1], 'bin start') + required(hist[d - 1], 'distance histogram bin');
    const positions = new Int32Array(kk);
    let takenAtCut = 0;
    for (let i = 0; i < dist.length; i++) {
      const d = required(dist[i], 'distance');
      if (d < cut) {
        const slot = required(starts[d], 'bin start');
        positions[slot] = i;
        starts[d] = slot + 1;
      } else if (d === cut && takenAtCut < kk - below) positions[below + takenAtCut++] = i;
    }
    const distances = new Int32Array(kk);
    const ids = new Int32Array(kk);
    for (let j = 0; j < kk; j++) {
      const position = required(positions[j], 'position');
      distances[j] = required(dist[position], 'distance');
      ids[j] = required(this.#ids[position], 'stored id');
    }
    return { positions, ids, distances };
  }

  /** {@link HashIndex.search} for every image of `queries`. */
  searchBatch(queries: PackedCodes, k: number): Neighbours[] {
    const n = this.#checkCodes(queries);
    const out: Neighbours[] = [];
    for (let i = 0; i < n; i++) out.push(this.search(queries.bytes.subarray(i * this.bytesPerCode, (i + 1) * this.bytesPerCode), k));
    return out;
  }

  /** The index in the file format described on the class. */
  serialize(): Uint8Array {
    const n = this.#count;
    const body = new Uint8Array(n * this.bytesPerCode + n * 4);
    for (let i = 0; i < n; i++) body.set(this.code(i), i * this.bytesPerCode);
    const idView = new DataView(body.buffer, n * this.bytesPerCode);
    for (let i = 0; i < n; i++) idView.setInt32(i * 4, required(this.#ids[i], 'stored id'), true);
    const out = new Uint8Array(HEADER_BYTES + body.length);
    const h = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
    h.setUint32(8, VERSION, true);
    h.setUint32(12, this.tokens, true);
    h.setUint32(16, this.bitsPerToken, true);
    h.setUint32(20, n, true);
    h.setUint32(24, 0, true);
    h.setUint32(28, 0, true);
    h.setUint32(32, crc32(body), true);
    h.setUint32(36, 0, true);
    out.set(body, HEADER_BYTES);
    return out;
  }

  /**
   * Parses an index file. Every size is checked against the file length before allocation; a wrong magic,
   * version, geometry, length or checksum throws FormatError naming the problem.
   */
  static deserialize<I extends HashIndex>(
    this: new (
      tokens: number,
      bitsPerToken: number,
      capacity?: number,
    ) => I,
    bytes: Uint8Array,
    source = 'hash index',
  ): I {
    if (bytes.length < HEADER_BYTES) {
      throw new FormatError(`${source}: file has ${bytes.length} bytes, fewer than the ${HEADER_BYTES}-byte header. It is truncated or not a BiGR hash index.`);
    }
    const magic = String.fromCharCode(...bytes.subarray(0, 8));
    if (magic !== MAGIC)
      throw new FormatError(
        `${source}: magic is ${JSON.stringify(magic)} but "${MAGIC}" was expected; this is not a BiGR hash index (create one with HashIndex.save).`,
      );
    const h = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = h.getUint32(8, true);
    if (version !== VERSION)
      throw new FormatError(`${source}: format version ${version} is not supported (expected ${VERSION}). Rebuild the index with this version.`);
    const tokens = h.getUint32(12, true);
    const bits = h.getUint32(16, true);
    const count = h.getUint32(20, true);
    if (h.getUint32(24, true) !== 0) throw new FormatError(`${source}: unknown flags ${h.getUint32(24, true)}; expected 0.`);
    if (tokens < 1 || bits < 1 || tokens * bytesPerToken(bits) > MAX_CODE_BYTES) {
      throw new FormatError(`${source}: code geometry ${tokens} tokens × ${bits} bits is invalid (each code must be 1…${MAX_CODE_BYTES} bytes).`);
    }
    const bpc = tokens * bytesPerToken(bits);
    const expected = HEADER_BYTES + count * (bpc + 4);
    if (bytes.length !== expected) {
      throw new FormatError(
        `${source}: header announces ${count} codes of ${bpc} bytes (file of ${expected} bytes) but the file has ${bytes.length} bytes. ` +
          `It is truncated or corrupt.`,
      );
    }
    const body = bytes.subarray(HEADER_BYTES);
    const crc = crc32(body);
    if (crc !== h.getUint32(32, true)) {
      throw new FormatError(`${source}: checksum mismatch (stored ${h.getUint32(32, true).toString(16)}, computed ${crc.toString(16)}); the file is corrupt.`);
    }
    const index = new this(tokens, bits, Math.max(1, count));
    const padMask = bits % 8 === 0 ? 0 : 0xff & ~((1 << (bits % 8)) - 1);
    const bpt = bytesPerToken(bits);
    if (padMask) {
      for (let t = 0; t < count * tokens; t++) {
        if (required(body[t * bpt + bpt - 1], 'last byte of a token') & padMask)
          throw new FormatError(`${source}: token ${t} has non-zero padding bits; the codes do not have ${bits} bits per token.`);
      }
    }
    const ids = new Int32Array(count);
    const idView = new DataView(body.buffer, body.byteOffset + count * bpc, count * 4);
    for (let i = 0; i < count; i++) ids[i] = idView.getInt32(i * 4, true);
    index.add({ bytes: body.subarray(0, count * bpc), batch: count, tokens, bitsPerToken: bits }, ids);
    return index;
  }
}
