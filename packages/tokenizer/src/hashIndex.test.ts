import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at, CpuTensor, FormatError, NotFoundError, createRng, packBits, popcount32, hammingDistance, type PackedCodes } from '@bigr/core';
import { HashIndex } from './hashIndex.js';

function randomBits(rng: ReturnType<typeof createRng>, batch: number, tokens: number, k: number, p = 0.5): CpuTensor<'uint8'> {
  const d = new Uint8Array(batch * tokens * k);
  for (let i = 0; i < d.length; i++) d[i] = rng.uniform() < p ? 1 : 0;
  return new CpuTensor<'uint8'>(d, [batch, tokens, k]);
}

/** Naive distance on unpacked bits. */
function naiveDistance(a: Uint8Array, ia: number, b: Uint8Array, ib: number, len: number): number {
  let d = 0;
  for (let j = 0; j < len; j++) if (a[ia * len + j] !== b[ib * len + j]) d++;
  return d;
}

describe('popcount and Hamming distance against a naive implementation', () => {
  it('popcount32 counts bits of random words', () => {
    const rng = createRng(1);
    for (let i = 0; i < 2000; i++) {
      const x = rng.int(2 ** 32);
      let n = 0;
      for (let b = 0; b < 32; b++) n += Math.floor(x / 2 ** b) % 2;
      expect(popcount32(x)).toBe(n);
    }
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0)).toBe(0);
  });

  it('HashIndex distances equal naive bit differences (K = 20 with padding bits, K = 16, K = 1)', () => {
    const rng = createRng(2);
    for (const [tokens, k] of [
      [5, 20],
      [16, 16],
      [7, 1],
      [3, 33],
    ] as const) {
      const base = randomBits(rng, 50, tokens, k);
      const q = randomBits(rng, 1, tokens, k);
      const index = new HashIndex(tokens, k, 4);
      index.add(packBits(base));
      const d = index.distances(packBits(q).bytes);
      for (let i = 0; i < 50; i++) expect(d[i]).toBe(naiveDistance(base.data, i, q.data, 0, tokens * k));
      // core's byte-wise hammingDistance agrees
      const pq = packBits(q).bytes;
      expect(hammingDistance(index.code(7), pq)).toBe(d[7]);
    }
  });
});

describe('k-nearest-neighbour search', () => {
  it('returns the same neighbours (and order) as a brute force on unpacked bits', () => {
    const rng = createRng(3);
    const tokens = 8;
    const k = 12;
    const n = 3000;
    // clustered codes so that small distances and ties occur
    const centres = randomBits(rng, 10, tokens, k);
    const data = new Uint8Array(n * tokens * k);
    for (let i = 0; i < n; i++) {
      const c = rng.int(10);
      for (let j = 0; j < tokens * k; j++) data[i * tokens * k + j] = at(centres.data, c * tokens * k + j, 'centre bit') ^ (rng.uniform() < 0.05 ? 1 : 0);
    }
    const bits = new CpuTensor<'uint8'>(data, [n, tokens, k]);
    const index = new HashIndex(tokens, k, 16);
    const ids = Int32Array.from({ length: n }, (_, i) => 1000 + i);
    index.add(packBits(bits), ids);
    expect(index.size).toBe(n);
    const queries = randomBits(rng, 5, tokens, k, 0.5);
    queries.data.set(data.subarray(17 * tokens * k, 18 * tokens * k), 0); // an exact member
    const packedQ = packBits(queries);
    const res = index.searchBatch(packedQ, 25);
    expect(res).toHaveLength(5);
    for (const [q, found] of res.entries()) {
      const all = Array.from({ length: n }, (_, i) => ({ i, d: naiveDistance(data, i, queries.data, q, tokens * k) }));
      all.sort((a, b) => a.d - b.d || a.i - b.i);
      const want = all.slice(0, 25);
      expect(Array.from(found.positions)).toEqual(want.map((w) => w.i));
      expect(Array.from(found.distances)).toEqual(want.map((w) => w.d));
      expect(Array.from(found.ids)).toEqual(want.map((w) => 1000 + w.i));
    }
    expect(res[0]?.distances[0]).toBe(0);
    expect(res[0]?.positions[0]).toBe(17);
    // k larger than the index
    const small = new HashIndex(tokens, k);
    small.add(packBits(new CpuTensor<'uint8'>(data.slice(0, 3 * tokens * k), [3, tokens, k])));
    expect(small.search(packedQ.bytes.subarray(0, index.bytesPerCode), 10).positions.length).toBe(3);
  });

  it('rejects codes of another geometry with a clear message', () => {
    const index = new HashIndex(4, 8);
    const other: PackedCodes = packBits(new CpuTensor<'uint8'>(new Uint8Array(2 * 4 * 9), [2, 4, 9]));
    expect(() => index.add(other)).toThrow(/4 tokens × 8 bits.*4 × 9/);
    expect(() => index.search(new Uint8Array(3), 1)).toThrow(/query has 3 bytes but codes have 4/);
    expect(() => index.search(new Uint8Array(4), 0)).toThrow(/k must be a positive integer/);
  });
});

describe('index files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-hash-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function sampleIndex(): HashIndex {
    const rng = createRng(4);
    const index = new HashIndex(6, 10);
    index.add(
      packBits(randomBits(rng, 40, 6, 10)),
      Int32Array.from({ length: 40 }, (_, i) => i * 3 - 7),
    );
    return index;
  }

  it('round-trips through save/load (atomic write leaves no temp file)', async () => {
    const index = sampleIndex();
    const path = join(dir, 'codes.bhx');
    await index.save(path);
    const back = await HashIndex.load(path);
    expect(back.size).toBe(40);
    expect([back.tokens, back.bitsPerToken]).toEqual([6, 10]);
    for (let i = 0; i < 40; i++) {
      expect(Array.from(back.code(i))).toEqual(Array.from(index.code(i)));
      expect(back.id(i)).toBe(i * 3 - 7);
    }
    const q = index.code(5);
    expect(Array.from(back.search(q, 5).positions)).toEqual(Array.from(index.search(q, 5).positions));
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives clear errors on malformed files', async () => {
    const good = sampleIndex().serialize();
    const bad =
      (mutate: (b: Uint8Array) => Uint8Array): (() => HashIndex) =>
      () =>
        HashIndex.deserialize(mutate(good.slice()), 'idx.bhx');
    expect(bad((b) => b.subarray(0, 10))).toThrow(/fewer than the 40-byte header/);
    expect(bad((b) => b.subarray(0, b.length - 1))).toThrow(/truncated or corrupt/);
    /** Overwrites the given bytes (offset → value) of the file. */
    const patched =
      (bytes: Record<number, number>) =>
      (b: Uint8Array): Uint8Array => {
        for (const [offset, value] of Object.entries(bytes)) b[Number(offset)] = value;
        return b;
      };
    expect(bad(patched({ 0: 0x41 }))).toThrow(/not a BiGR hash index/);
    expect(bad(patched({ 8: 9 }))).toThrow(/version 9 is not supported/);
    expect(bad(patched({ 20: 0xff, 21: 0xff, 22: 0xff, 23: 0x7f }))).toThrow(/announces 2147483647 codes/);
    expect(bad(patched({ 12: 0 }))).toThrow(/geometry 0 tokens/);
    expect(bad(patched({ 50: at(good, 50, 'body byte') ^ 1 }))).toThrow(/checksum mismatch/);
    expect(bad(patched({ 24: 1 }))).toThrow(/unknown flags/);
    for (const f of [bad((b) => b.subarray(0, 3))]) expect(f).toThrow(FormatError);
    // padding bits set (K = 10 → 6 unused bits in the second byte), with a recomputed checksum
    const { crc32 } = await import('node:zlib');
    const withPad = good.slice();
    withPad[40 + 1] = at(withPad, 40 + 1, 'code byte') | 0x80;
    new DataView(withPad.buffer).setUint32(32, crc32(withPad.subarray(40)), true);
    expect(() => HashIndex.deserialize(withPad)).toThrow(/non-zero padding bits/);

    await writeFile(join(dir, 'junk.bhx'), new Uint8Array([1, 2, 3]));
    await expect(HashIndex.load(join(dir, 'junk.bhx'))).rejects.toThrow(/junk\.bhx: file has 3 bytes/);
    await expect(HashIndex.load(join(dir, 'missing.bhx'))).rejects.toThrow(NotFoundError);
    await expect(HashIndex.load(join(dir, 'junk.bhx'), { maxBytes: 2 })).rejects.toThrow(/above the limit of 2/);
    expect((await readFile(join(dir, 'junk.bhx'))).length).toBe(3);
  });
});
