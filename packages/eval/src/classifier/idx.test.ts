import { gzipSync } from 'node:zlib';
import { FormatError } from '@bigr/core';
import { parseIdxUbyte } from './idx.js';

function idx(dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head.set([0, 0, 8, dims.length]);
  const dv = new DataView(head.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return Uint8Array.from([...head, ...data]);
}

describe('IDX reader', () => {
  test('reads plain and gzipped unsigned-byte arrays', () => {
    const raw = idx([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
      const a = parseIdxUbyte(bytes);
      expect(a.shape).toEqual([2, 2, 3]);
      expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }
    expect(parseIdxUbyte(idx([3], [7, 8, 9])).shape).toEqual([3]);
  });

  test('rejects truncation, trailing bytes, wrong magic or type, and oversize data', () => {
    expect(() => parseIdxUbyte(idx([2, 3], [1, 2, 3, 4, 5]))).toThrow(/need 6 data bytes after the 12-byte header, but 5 are present/);
    expect(() => parseIdxUbyte(idx([2], [1, 2, 3]))).toThrow(FormatError);
    expect(() => parseIdxUbyte(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0))).toThrow(/IDX magic/);
    expect(() => parseIdxUbyte(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0))).toThrow(/element type 0x0d/);
    expect(() => parseIdxUbyte(Uint8Array.of(0, 0, 8, 2, 0, 0))).toThrow(/truncated inside its 2 dimension sizes/);
    const big = idx([100], new Array(100).fill(0));
    expect(() => parseIdxUbyte(big, { maxBytes: 50 })).toThrow(/above the 50-byte limit/);
    expect(() => parseIdxUbyte(new Uint8Array(gzipSync(big)), { maxBytes: 50 })).toThrow(/gzip decompression failed/);
    const huge = idx([65536, 65536], []);
    expect(() => parseIdxUbyte(huge)).toThrow(/need 4294967296 data bytes/);
  });
});
