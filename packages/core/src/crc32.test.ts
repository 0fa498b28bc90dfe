import { crc32 as zlibCrc32 } from 'node:zlib';
import { createRng } from './seededRng.js';
import { crc32 } from './crc32.js';

describe('crc32', () => {
  it('matches the published check value and node:zlib on random data, including continuation', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const rng = createRng(3);
    for (const n of [1, 7, 1000, 65537]) {
      const bytes = new Uint8Array(n).map(() => Math.floor(rng.uniform() * 256));
      expect(crc32(bytes)).toBe(zlibCrc32(bytes) >>> 0);
      const half = n >> 1;
      expect(crc32(bytes.subarray(half), crc32(bytes.subarray(0, half)))).toBe(zlibCrc32(bytes) >>> 0);
    }
  });
});
