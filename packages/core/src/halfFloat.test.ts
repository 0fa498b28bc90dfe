import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from './halfFloat.js';
import { at } from './invariants.js';
import { createRng } from './seededRng.js';

// Independent reference: build the float32 bit pattern and reinterpret it.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function fromF32Bits(bits: number): number {
  u32[0] = bits >>> 0;
  return at(f32, 0);
}
function f32Bits(x: number): number {
  f32[0] = x;
  return at(u32, 0);
}

describe('binary16', () => {
  it('hand-computed encodings', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway to 2^16 rounds to even → Infinity
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie → even (0)
      [3 * 2 ** -25, 0x0002], // 1.5 units → tie → 2
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10 → even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0.1, 0x2e66],
      [-0, 0x8000],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [x, h] of cases) expect([x, numberToF16Bits(x)]).toEqual([x, h]);
    expect(Number.isNaN(f16BitsToNumber(numberToF16Bits(Number.NaN)))).toBe(true);
  });

  it('decodes all 65536 patterns like the float32 bit construction, and re-encodes them exactly', () => {
    for (let h = 0; h < 65536; h++) {
      const sign = (h >>> 15) << 31;
      const e = (h >>> 10) & 0x1f;
      const m = h & 0x3ff;
      const v = f16BitsToNumber(h);
      if (e === 31) {
        if (m) expect(Number.isNaN(v)).toBe(true);
        else expect(v).toBe(fromF32Bits(sign | 0x7f800000));
        continue;
      }
      if (e === 0) {
        if (v !== (h & 0x8000 ? -1 : 1) * m * 2 ** -24) throw new Error(`subnormal ${h}`);
      } else if (!Object.is(v, fromF32Bits(sign | ((e - 15 + 127) << 23) | (m << 13)))) {
        throw new Error(`pattern ${h.toString(16)} decoded to ${v}`);
      }
      if (numberToF16Bits(v) !== h) throw new Error(`pattern ${h.toString(16)} re-encoded to ${numberToF16Bits(v).toString(16)}`);
    }
  });

  it('rounds to the nearest representable value (brute force over neighbours)', () => {
    const r = createRng(1);
    for (let i = 0; i < 5000; i++) {
      const x = (r.uniform() - 0.5) * 2 ** (r.int(40) - 24);
      const h = numberToF16Bits(x);
      const v = f16BitsToNumber(h);
      // no other finite binary16 value is strictly closer
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) >= 0x7c00 || n < 0) continue;
        expect(Math.abs(f16BitsToNumber(n) - x)).toBeGreaterThanOrEqual(Math.abs(v - x));
      }
    }
  });
});

describe('bfloat16', () => {
  it('hand-computed encodings', () => {
    expect(numberToBf16Bits(1)).toBe(0x3f80);
    expect(numberToBf16Bits(-2)).toBe(0xc000);
    expect(numberToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(numberToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBf16Bits(3.4e38)).toBe(0x7f80); // beyond max + half ulp → Infinity
    expect(numberToBf16Bits(2 ** -133)).toBe(0x0001);
    expect(bf16BitsToNumber(0x3f80)).toBe(1);
    expect(bf16BitsToNumber(0x7f7f)).toBe(fromF32Bits(0x7f7f0000));
  });

  it('matches the classic float32 bit-trick for random float32 inputs and decodes as the upper half of a float32', () => {
    const r = createRng(2);
    for (let i = 0; i < 20000; i++) {
      const bits = r.uint32();
      const x = fromF32Bits(bits);
      if (Number.isNaN(x)) continue;
      const ref = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
      const got = numberToBf16Bits(x);
      if (got !== ref) throw new Error(`float32 bits ${bits.toString(16)}: got ${got.toString(16)}, want ${ref.toString(16)}`);
    }
    for (let h = 0; h < 65536; h++) {
      const v = bf16BitsToNumber(h);
      const w = fromF32Bits(h << 16);
      if (!(Object.is(v, w) || (Number.isNaN(v) && Number.isNaN(w)))) throw new Error(`bf16 ${h.toString(16)}`);
    }
    expect(f32Bits(1)).toBe(0x3f800000);
  });
});
