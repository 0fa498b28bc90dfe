import { FormatError, ShapeError } from './errors.js';
import { dims3, required } from './invariants.js';
import { CpuTensor, type Tensor } from './tensor.js';

/**
 * Binary latent codes as a `uint8` tensor of shape [batch, tokens, K] holding only 0 and 1. Token n of an
 * image is latent position row·w + col and bit k is latent channel k (docs/algorithm.md §0, token layout).
 */
export type BitTensor = CpuTensor<'uint8'>;

/**
 * Bits packed 8 per byte. Bit order: each token is padded to whole bytes, `ceil(K/8)` bytes per token, and bit
 * k of token n (n counted over batch·tokens, row-major) is stored in byte `n·ceil(K/8) + floor(k/8)` at bit
 * position `k % 8`, least significant bit first. Padding bits are zero.
 */
export interface PackedCodes {
  /** Packed bytes, `batch · tokens · ceil(bitsPerToken / 8)` long. */
  readonly bytes: Uint8Array;
  /** Number of images. */
  readonly batch: number;
  /** Tokens per image (h·w). */
  readonly tokens: number;
  /** Bits per token (K). */
  readonly bitsPerToken: number;
}

/** Largest K accepted by {@link tokenIndex}: indices up to 2^53 − 1 are exact in float64. */
export const MAX_TOKEN_INDEX_BITS = 53;

/** Bytes one token occupies in {@link PackedCodes}: `ceil(K / 8)`. */
export function bytesPerToken(bitsPerToken: number): number {
  return Math.ceil(bitsPerToken / 8);
}

/**
 * Throws unless `t` is a `uint8` tensor of rank 3 ([batch, tokens, K]) whose values are all 0 or 1.
 * `what` names the tensor in the error message.
 */
export function assertBits(t: Tensor, what = 'bits'): asserts t is Tensor<'uint8'> {
  if (t.dtype !== 'uint8') {
    throw new ShapeError(`${what} has dtype ${t.dtype} but uint8 was expected. Convert 0.0/1.0 floats with float32ToBits().`);
  }
  if (t.shape.length !== 3) {
    throw new ShapeError(
      `${what} has shape [${t.shape.join(', ')}] but [batch, tokens, K] (rank 3) was expected. Reshape (B,K,h,w) latents to (B, h·w, K) first.`,
    );
  }
  const data = t.data as Uint8Array;
  for (let i = 0; i < data.length; i++) {
    const v = required(data[i], 'bit');
    if (v > 1) throw new ShapeError(`${what} holds value ${v} at flat index ${i}; bits must be 0 or 1. Threshold or binarise the codes first.`);
  }
}

function checkPackedGeometry(batch: number, tokens: number, bitsPerToken: number, what: string): void {
  for (const [name, v] of [
    ['batch', batch],
    ['tokens', tokens],
    ['bitsPerToken', bitsPerToken],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new FormatError(`${what}: ${name} is ${String(v)}; expected a non-negative integer.`);
    }
  }
}

/** Packs a [batch, tokens, K] bit tensor into bytes (see {@link PackedCodes} for the bit order). */
export function packBits(bits: Tensor<'uint8'>): PackedCodes {
  assertBits(bits);
  const [batch, tokens, k] = dims3(bits.shape, 'bits');
  const bpt = bytesPerToken(k);
  const n = batch * tokens;
  const bytes = new Uint8Array(n * bpt);
  const src = bits.data;
  for (let t = 0; t < n; t++) {
    const s = t * k;
    const d = t * bpt;
    // Byte j >>> 3 collects bits j & ~7 … (j & ~7) + 7 (values 0/1 by assertBits) and is stored after its last bit.
    let byte = 0;
    for (let j = 0; j < k; j++) {
      byte |= required(src[s + j], 'bit') << (j & 7);
      if ((j & 7) === 7 || j === k - 1) {
        bytes[d + (j >>> 3)] = byte;
        byte = 0;
      }
    }
  }
  return { bytes, batch, tokens, bitsPerToken: k };
}

/**
 * Unpacks {@link PackedCodes} into a [batch, tokens, K] bit tensor. Throws {@link FormatError} when the byte
 * count does not match the geometry or a padding bit is set.
 */
export function unpackBits(packed: PackedCodes): BitTensor {
  const { bytes, batch, tokens, bitsPerToken: k } = packed;
  checkPackedGeometry(batch, tokens, k, 'Packed codes');
  const bpt = bytesPerToken(k);
  const n = batch * tokens;
  if (bytes.length !== n * bpt) {
    throw new FormatError(
      `Packed codes have ${bytes.length} bytes but batch ${batch} × tokens ${tokens} × ceil(${k}/8) = ${n * bpt} were expected. ` +
        `Pass the bytes produced by packBits with the same geometry.`,
    );
  }
  const out = new Uint8Array(n * k);
  const padMask = k % 8 === 0 ? 0 : 0xff & ~((1 << (k % 8)) - 1);
  for (let t = 0; t < n; t++) {
    const s = t * bpt;
    const d = t * k;
    for (let j = 0; j < k; j++) out[d + j] = (required(bytes[s + (j >>> 3)], 'packed byte') >>> (j & 7)) & 1;
    if (padMask && required(bytes[s + bpt - 1], 'packed byte') & padMask) {
      throw new FormatError(
        `Packed codes: token ${t} has non-zero padding bits in byte ${s + bpt - 1} (value ${bytes[s + bpt - 1]}, K = ${k}). ` +
          `The data was not written by packBits or K is wrong.`,
      );
    }
  }
  return new CpuTensor(out, [batch, tokens, k]);
}

/**
 * Token index r = Σ_{k=1..K} 2^{k−1} z[k] (paper Eq. 2): bit k (0-based) has weight 2^k. Returns one index per
 * token, row-major over [batch, tokens]: an `Int32Array` when K ≤ 31, otherwise a `Float64Array` of exact
 * integers (K ≤ {@link MAX_TOKEN_INDEX_BITS}). BiGR itself works on bits, not indices (docs/algorithm.md §0).
 */
export function tokenIndex(bits: Tensor<'uint8'>): Int32Array | Float64Array {
  assertBits(bits);
  const [batch, tokens, k] = dims3(bits.shape, 'bits');
  if (k > MAX_TOKEN_INDEX_BITS) {
    throw new ShapeError(
      `tokenIndex: K = ${k} bits per token gives indices beyond 2^53, which float64 cannot hold exactly. ` +
        `Use K ≤ ${MAX_TOKEN_INDEX_BITS} or work on the bits directly.`,
    );
  }
  const n = batch * tokens;
  const src = bits.data;
  if (k <= 31) {
    const out = new Int32Array(n);
    for (let t = 0; t < n; t++) {
      let r = 0;
      for (let j = k - 1; j >= 0; j--) r = (r << 1) | required(src[t * k + j], 'bit');
      out[t] = r;
    }
    return out;
  }
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let r = 0;
    for (let j = k - 1; j >= 0; j--) r = r * 2 + required(src[t * k + j], 'bit');
    out[t] = r;
  }
  return out;
}

/**
 * Inverse of {@link tokenIndex}: indices (row-major over [batch, tokens]) to a [batch, tokens, K] bit tensor.
 * Throws {@link ShapeError} when an index is not an integer in [0, 2^K).
 */
export function tokenIndexToBits(indices: ArrayLike<number>, batch: number, tokens: number, bitsPerToken: number): BitTensor {
  const k = bitsPerToken;
  if (!Number.isSafeInteger(k) || k < 0 || k > MAX_TOKEN_INDEX_BITS) {
    throw new ShapeError(`tokenIndexToBits: K = ${String(k)}; expected an integer in [0, ${MAX_TOKEN_INDEX_BITS}].`);
  }
  if (indices.length !== batch * tokens) {
    throw new ShapeError(`tokenIndexToBits: ${indices.length} indices given but batch ${batch} × tokens ${tokens} = ${batch * tokens} expected.`);
  }
  const out = new Uint8Array(indices.length * k);
  const limit = 2 ** k;
  for (let t = 0; t < indices.length; t++) {
    let r = indices[t];
    if (r === undefined || !Number.isInteger(r) || r < 0 || r >= limit) {
      throw new ShapeError(`tokenIndexToBits: index ${r} at position ${t} is outside [0, 2^${k}). Pass integer token indices for K = ${k}.`);
    }
    for (let j = 0; j < k; j++) {
      out[t * k + j] = r % 2;
      r = Math.floor(r / 2);
    }
  }
  return new CpuTensor(out, [batch, tokens, k]);
}

/** Number of set bits of the 32-bit word `x` (SWAR). */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Number of differing bits between two equally long byte arrays (e.g. {@link PackedCodes.bytes}). Works on 32-bit
 * words with {@link popcount32}.
 */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) {
    throw new ShapeError(`hammingDistance: arrays have ${a.length} and ${b.length} bytes; they must be equally long. Compare codes of the same geometry.`);
  }
  let d = 0;
  const n4 = a.length - (a.length % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    const x = word(a, i) ^ word(b, i);
    d += popcount32(x);
  }
  for (; i < a.length; i++) d += popcount32(required(a[i], 'byte') ^ required(b[i], 'byte'));
  return d;
}

/** Little-endian 32-bit word of bytes i … i+3 (the caller keeps i + 3 inside the array). */
function word(bytes: Uint8Array, i: number): number {
  return required(bytes[i], 'byte') | (required(bytes[i + 1], 'byte') << 8) | (required(bytes[i + 2], 'byte') << 16) | (required(bytes[i + 3], 'byte') << 24);
}

/** Per-token Hamming distances between two packed code sets of the same geometry, row-major over [batch, tokens]. */
export function tokenHammingDistances(a: PackedCodes, b: PackedCodes): Int32Array {
  if (a.batch !== b.batch || a.tokens !== b.tokens || a.bitsPerToken !== b.bitsPerToken) {
    throw new ShapeError(
      `tokenHammingDistances: geometries differ ([${a.batch}, ${a.tokens}, ${a.bitsPerToken}] vs [${b.batch}, ${b.tokens}, ${b.bitsPerToken}]). ` +
        `Compare codes of the same batch, tokens and K.`,
    );
  }
  const bpt = bytesPerToken(a.bitsPerToken);
  const n = a.batch * a.tokens;
  if (a.bytes.length !== n * bpt || b.bytes.length !== n * bpt) {
    throw new FormatError(
      `tokenHammingDistances: expected ${n * bpt} bytes per code set but got ${a.bytes.length} and ${b.bytes.length}. Use bytes from packBits.`,
    );
  }
  const out = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    let d = 0;
    for (let j = t * bpt; j < (t + 1) * bpt; j++) d += popcount32(required(a.bytes[j], 'byte') ^ required(b.bytes[j], 'byte'));
    out[t] = d;
  }
  return out;
}

/** Converts 0.0/1.0 float bits (as models use them) to a uint8 bit tensor; any other value is a {@link ShapeError}. */
export function float32ToBits(t: Tensor<'float32'>): BitTensor {
  if (t.dtype !== 'float32') throw new ShapeError(`float32ToBits: tensor has dtype ${t.dtype}; float32 0.0/1.0 values were expected.`);
  const src = t.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = required(src[i], 'float bit');
    if (v !== 0 && v !== 1) {
      throw new ShapeError(`float32ToBits: value ${v} at flat index ${i} is not 0 or 1. Binarise (e.g. threshold or Bernoulli-sample) first.`);
    }
    out[i] = v;
  }
  return new CpuTensor(out, t.shape);
}

/** Converts a uint8 0/1 bit tensor to float32 0.0/1.0 of the same shape. */
export function bitsToFloat32(t: Tensor<'uint8'>): CpuTensor<'float32'> {
  if (t.dtype !== 'uint8') throw new ShapeError(`bitsToFloat32: tensor has dtype ${t.dtype}; uint8 0/1 bits were expected.`);
  const src = t.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = required(src[i], 'bit');
    if (v > 1) throw new ShapeError(`bitsToFloat32: value ${v} at flat index ${i} is not 0 or 1.`);
    out[i] = v;
  }
  return new CpuTensor(out, t.shape);
}
