import {
  assertBits,
  bitsToFloat32,
  bytesPerToken,
  float32ToBits,
  hammingDistance,
  packBits,
  popcount32,
  tokenHammingDistances,
  tokenIndex,
  tokenIndexToBits,
  unpackBits,
} from './binaryCodes.js';
import { FormatError, ShapeError } from './errors.js';
import { at } from './invariants.js';
import { createRng } from './seededRng.js';
import { CpuTensor } from './tensor.js';

const KS = [1, 7, 8, 9, 16, 24, 32];

function randomBits(seed: number, batch: number, tokens: number, k: number): CpuTensor<'uint8'> {
  const r = createRng(seed);
  const data = new Uint8Array(batch * tokens * k);
  for (let i = 0; i < data.length; i++) data[i] = r.bernoulli(0.5);
  return new CpuTensor(data, [batch, tokens, k]);
}

// Naive references, written bit by bit from the documented layout.
function naivePack(bits: Uint8Array, n: number, k: number): Uint8Array {
  const bpt = Math.ceil(k / 8);
  const out = new Uint8Array(n * bpt);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < k; j++) {
      const byte = t * bpt + Math.floor(j / 8);
      const pos = j % 8;
      out[byte] = at(out, byte) + at(bits, t * k + j) * 2 ** pos;
    }
  }
  return out;
}
function naivePopcount(x: number): number {
  let c = 0;
  for (const ch of (x >>> 0).toString(2)) if (ch === '1') c++;
  return c;
}
function naiveHamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (const [i, ai] of a.entries()) for (let j = 0; j < 8; j++) if (((ai >> j) & 1) !== ((at(b, i) >> j) & 1)) d++;
  return d;
}

describe('packBits / unpackBits', () => {
  it('hand-computed example: K=9, LSB first, padded per token', () => {
    // token 0: bits 0, 3, 8 set → byte0 = 1 + 8 = 9, byte1 = 1; token 1: bit 7 set → byte2 = 128, byte3 = 0
    const bits = new CpuTensor<'uint8'>(new Uint8Array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]), [1, 2, 9]);
    const p = packBits(bits);
    expect(Array.from(p.bytes)).toEqual([9, 1, 128, 0]);
    expect(p).toMatchObject({ batch: 1, tokens: 2, bitsPerToken: 9 });
    expect(bytesPerToken(9)).toBe(2);
  });

  it.each(KS)('matches the naive per-bit packer and round-trips for K=%i', (k) => {
    const bits = randomBits(100 + k, 3, 5, k);
    const p = packBits(bits);
    expect(p.bytes).toEqual(naivePack(bits.data, 15, k));
    const back = unpackBits(p);
    expect(back.shape).toEqual([3, 5, k]);
    expect(back.data).toEqual(bits.data);
  });

  it('validates inputs', () => {
    expect(() => packBits(new CpuTensor<'uint8'>(new Uint8Array([0, 2]), [1, 1, 2]))).toThrow(/value 2 at flat index 1/);
    expect(() => assertBits(new CpuTensor<'uint8'>(new Uint8Array(4), [2, 2]))).toThrow(/rank 3/);
    expect(() => assertBits(CpuTensor.zeros('float32', [1, 1, 1]), 'codes')).toThrow(/codes has dtype float32/);
    expect(() => unpackBits({ bytes: new Uint8Array(3), batch: 1, tokens: 2, bitsPerToken: 9 })).toThrow(FormatError);
    expect(() => unpackBits({ bytes: new Uint8Array([0x80]), batch: 1, tokens: 1, bitsPerToken: 7 })).toThrow(/padding/);
    expect(() => unpackBits({ bytes: new Uint8Array(0), batch: -1, tokens: 0, bitsPerToken: 7 })).toThrow(/batch/);
  });
});

describe('tokenIndex', () => {
  it('hand-computed: r = Σ 2^(k-1) z[k]', () => {
    const bits = new CpuTensor<'uint8'>(new Uint8Array([1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]), [1, 3, 4]);
    expect(Array.from(tokenIndex(bits))).toEqual([1 + 4 + 8, 8, 15]);
  });

  it.each([...KS, 31, 40, 53])('matches a naive float64 sum and inverts for K=%i', (k) => {
    const bits = randomBits(200 + k, 2, 6, k);
    const idx = tokenIndex(bits);
    expect(idx).toBeInstanceOf(k <= 31 ? Int32Array : Float64Array);
    for (let t = 0; t < 12; t++) {
      let r = 0;
      for (let j = 0; j < k; j++) r += 2 ** j * at(bits.data, t * k + j);
      expect(idx[t]).toBe(r);
    }
    expect(tokenIndexToBits(idx, 2, 6, k).data).toEqual(bits.data);
  });

  it('all-ones extremes and limits', () => {
    expect(tokenIndex(new CpuTensor<'uint8'>(new Uint8Array(31).fill(1), [1, 1, 31]))[0]).toBe(2 ** 31 - 1);
    expect(tokenIndex(new CpuTensor<'uint8'>(new Uint8Array(53).fill(1), [1, 1, 53]))[0]).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => tokenIndex(new CpuTensor<'uint8'>(new Uint8Array(54), [1, 1, 54]))).toThrow(ShapeError);
    expect(() => tokenIndexToBits([16], 1, 1, 4)).toThrow(/outside/);
    expect(() => tokenIndexToBits([1, 2], 1, 1, 4)).toThrow(ShapeError);
  });
});

describe('popcount and Hamming distance', () => {
  it('popcount32 matches a string count', () => {
    const r = createRng(3);
    for (const x of [0, 1, 0xffffffff, 0x80000000, 0x55555555, -1]) expect(popcount32(x)).toBe(naivePopcount(x));
    for (let i = 0; i < 2000; i++) {
      const x = r.uint32();
      expect(popcount32(x)).toBe(naivePopcount(x));
    }
  });

  it.each([0, 1, 3, 4, 5, 17, 64, 1001])('hammingDistance matches naive for %i bytes (including unaligned views)', (n) => {
    const r = createRng(n);
    const buf = new Uint8Array(n + 3);
    const buf2 = new Uint8Array(n + 1);
    for (let i = 0; i < buf.length; i++) buf[i] = r.int(256);
    for (let i = 0; i < buf2.length; i++) buf2[i] = r.int(256);
    const a = buf.subarray(3);
    const b = buf2.subarray(1);
    expect(hammingDistance(a, b)).toBe(naiveHamming(a, b));
    expect(hammingDistance(a, a)).toBe(0);
  });

  it('per-token distances equal bit mismatches per token', () => {
    for (const k of KS) {
      const x = randomBits(1, 2, 4, k);
      const y = randomBits(2, 2, 4, k);
      const d = tokenHammingDistances(packBits(x), packBits(y));
      for (let t = 0; t < 8; t++) {
        let e = 0;
        for (let j = 0; j < k; j++) e += x.data[t * k + j] !== y.data[t * k + j] ? 1 : 0;
        expect(d[t]).toBe(e);
      }
    }
    expect(() => hammingDistance(new Uint8Array(2), new Uint8Array(3))).toThrow(ShapeError);
    expect(() => tokenHammingDistances(packBits(randomBits(1, 1, 2, 8)), packBits(randomBits(1, 1, 2, 9)))).toThrow(/geometries differ/);
  });
});

describe('float conversions', () => {
  it('round-trips 0.0/1.0 floats and rejects other values', () => {
    const f = new CpuTensor<'float32'>(new Float32Array([0, 1, 1, 0]), [1, 2, 2]);
    const b = float32ToBits(f);
    expect(Array.from(b.data)).toEqual([0, 1, 1, 0]);
    expect(bitsToFloat32(b).data).toEqual(f.data);
    expect(() => float32ToBits(new CpuTensor<'float32'>(new Float32Array([0.5]), [1]))).toThrow(/0.5 at flat index 0/);
    expect(() => bitsToFloat32(new CpuTensor<'uint8'>(new Uint8Array([3]), [1]))).toThrow(ShapeError);
  });
});
