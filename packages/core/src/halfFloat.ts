/**
 * Conversions between numbers and the 16-bit float formats of safetensors files: IEEE 754 binary16 (`F16`)
 * and bfloat16 (`BF16`). Decoding is exact (every 16-bit value is a float32). Encoding rounds to nearest, ties
 * to even, in a single rounding step from the float64 value (no double rounding through float32); values beyond
 * the largest finite value become ±Infinity and NaN stays NaN.
 */

/** float32 value of the binary16 bit pattern `h` (0..65535). */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 value of the bfloat16 bit pattern `h` (0..65535): the upper half of a float32. */
export function bf16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 7) & 0xff;
  const m = h & 0x7f;
  if (e === 0) return sign * m * 2 ** -133;
  if (e === 255) return m ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + m / 128) * 2 ** (e - 127);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function encode(x: number, expBits: number, mantBits: number): number {
  const signBit = 1 << (expBits + mantBits);
  const maxField = (1 << expBits) - 1;
  if (Number.isNaN(x)) return (maxField << mantBits) | (1 << (mantBits - 1));
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  if (a === Number.POSITIVE_INFINITY) return sign | (maxField << mantBits);
  if (a === 0) return sign;
  const bias = (1 << (expBits - 1)) - 1;
  const emin = 1 - bias;
  let e = Math.floor(Math.log2(a));
  while (2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  if (e < emin) {
    // subnormal range: integer multiples of 2^(emin - mantBits); a carry to 2^mantBits is the smallest normal
    return sign | roundHalfEven(a / 2 ** (emin - mantBits));
  }
  const bits = ((e + bias) << mantBits) + roundHalfEven((a / 2 ** e - 1) * 2 ** mantBits);
  return sign | Math.min(bits, maxField << mantBits);
}

/** binary16 bit pattern nearest to `x` (round half to even; overflow → ±Infinity). */
export function numberToF16Bits(x: number): number {
  return encode(x, 5, 10);
}

/** bfloat16 bit pattern nearest to `x` (round half to even; overflow → ±Infinity). */
export function numberToBf16Bits(x: number): number {
  return encode(x, 8, 7);
}
