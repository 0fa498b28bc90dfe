/**
 * Exact-length reads over an async stream of byte chunks (a zip entry being inflated, a file range), without
 * loading the whole stream.
 */
import { FormatError, required } from '@bigr/core';

/** Pulls exact byte counts from an async iterator of chunks. */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #what: string;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;

  /** Wraps `source`; `what` names the stream in error messages. */
  constructor(source: AsyncIterable<Uint8Array>, what: string) {
    this.#it = source[Symbol.asyncIterator]();
    this.#what = what;
  }

  /** Reads exactly `n` bytes into a new array; throws {@link FormatError} if the stream ends first. */
  async read(n: number): Promise<Uint8Array> {
    while (this.#buffered < n) {
      if (!(await this.#pull())) {
        throw new FormatError(`${this.#what} ended after ${this.#buffered} of ${n} more bytes that were expected; the file is truncated or corrupt.`);
      }
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      // #buffered ≥ n counts bytes held in #chunks, so a chunk is left while filled < n
      const c = required(this.#chunks[0], 'buffered chunk');
      const take = Math.min(c.length, n - filled);
      out.set(c.subarray(0, take), filled);
      filled += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    this.#buffered -= n;
    return out;
  }

  /** Consumes the rest of the stream, returning the number of bytes that were left (0 when at the end). */
  async drain(): Promise<number> {
    let left = this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    while (!this.#ended) {
      const r = await this.#it.next();
      if (r.done) this.#ended = true;
      else left += r.value.length;
    }
    return left;
  }

  /** Stops the underlying stream early (releases file handles / inflaters). */
  async cancel(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.();
    }
  }

  async #pull(): Promise<boolean> {
    if (this.#ended) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#ended = true;
      return false;
    }
    if (r.value.length > 0) {
      this.#chunks.push(r.value);
      this.#buffered += r.value.length;
    }
    return true;
  }
}
