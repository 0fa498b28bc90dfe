import { at, FormatError, required, f16BitsToNumber, type DType, type DataTypeMap } from '@bigr/core';
import { TORCH_STORAGE_TYPES, type TorchTensorRef } from './torchTypes.js';

/**
 * Turns the raw little-endian bytes of a torch storage plus a strided view ({@link TorchTensorRef}) into a
 * row-major typed array of the matching {@link DType}: float32/float16/bfloat16 → float32, float64 → float64,
 * int64 (range-checked)/int32/int16/int8 → int32, uint8 → uint8, bool (0/1-checked) → uint8. Non-contiguous views
 * are gathered element by element; a contiguous view of a whole storage whose dtype needs no conversion is
 * returned as a view of `raw` without copying.
 */

type AnyTyped = DataTypeMap[DType];

/** Where a strided view reads from: calls `run(srcStart, count, step, outStart)` for each innermost row. */
function forEachRun(ref: TorchTensorRef, run: (src: number, count: number, step: number, out: number) => void): void {
  const { shape, stride, offset } = ref;
  const numel = ref.size;
  if (numel === 0) return;
  if (ref.isContiguous) {
    run(offset, numel, 1, 0);
    return;
  }
  // A non-contiguous view has rank ≥ 1 (a scalar is contiguous), and the ref's stride has the shape's rank.
  const nd = shape.length;
  const inner = at(shape, nd - 1, 'innermost dimension of a strided view');
  const step = at(stride, nd - 1, 'innermost stride of a strided view');
  const idx = new Array<number>(nd).fill(0);
  let src = offset;
  let out = 0;
  for (;;) {
    run(src, inner, step, out);
    out += inner;
    let d = nd - 2;
    for (; d >= 0; d--) {
      const i = at(idx, d, 'view index') + 1;
      const size = at(shape, d, 'view dimension');
      const dStride = at(stride, d, 'view stride');
      src += dStride;
      if (i < size) {
        idx[d] = i;
        break;
      }
      src -= dStride * size;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Copies a strided view of `src` into `out` (same element type, no conversion). */
function gatherSame(ref: TorchTensorRef, src: AnyTyped, out: AnyTyped): void {
  // All four typed arrays share this shape; Float32Array stands in for the element type.
  const from = src as unknown as Float32Array;
  const to = out as unknown as Float32Array;
  forEachRun(ref, (s, n, step, o) => {
    if (step === 1) to.set(from.subarray(s, s + n), o);
    else for (let j = 0; j < n; j++) to[o + j] = required(from[s + j * step], 'strided source element');
  });
}

let f16Table: Float32Array | undefined;
function f16ToF32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToNumber(h);
  }
  return f16Table;
}

/** Byte-swaps `raw` in place in units of `itemSize` (only needed on big-endian hosts). */
export function byteSwapInPlace(raw: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i + itemSize <= raw.length; i += itemSize) raw.subarray(i, i + itemSize).reverse();
}

/**
 * Decodes the view `ref` from the bytes `raw` of its storage (`raw.length` must equal the storage's byte length,
 * `raw.byteOffset` must be a multiple of 8). `name` and `source` only label errors.
 */
export function decodeTorchView(raw: Uint8Array, ref: TorchTensorRef, name: string, source: string): AnyTyped {
  const storage = ref.storage;
  // TorchStorage's constructor rejects unknown storage types.
  const type = required(TORCH_STORAGE_TYPES[storage.storageType], `storage type ${storage.storageType}`);
  const where = `${source}: tensor "${name}" (${storage.storageType} "${storage.key}")`;
  if (type.target === null) {
    throw new FormatError(
      `${where} has dtype ${type.dtype}, which cannot be converted to a float32/float64/int32/uint8 tensor. Convert it (e.g. .float()) before saving.`,
    );
  }
  if (raw.length !== storage.byteLength) {
    throw new FormatError(
      `${where}: the storage holds ${raw.length} bytes but ${storage.numel} × ${storage.itemSize} = ${storage.byteLength} are needed. ` +
        `The checkpoint is corrupt.`,
    );
  }
  if (raw.byteOffset % 8 !== 0) raw = raw.slice();
  const buf = raw.buffer;
  const base = raw.byteOffset;
  const n = storage.numel;
  const numel = ref.size;
  const whole = ref.offset === 0 && numel === n && ref.isContiguous;
  switch (type.dtype) {
    case 'float32': {
      const src = new Float32Array(buf, base, n);
      if (whole) return src;
      const out = new Float32Array(numel);
      gatherSame(ref, src, out);
      return out;
    }
    case 'float64': {
      const src = new Float64Array(buf, base, n);
      if (whole) return src;
      const out = new Float64Array(numel);
      gatherSame(ref, src, out);
      return out;
    }
    case 'int32': {
      const src = new Int32Array(buf, base, n);
      if (whole) return src;
      const out = new Int32Array(numel);
      gatherSame(ref, src, out);
      return out;
    }
    case 'uint8':
    case 'bool': {
      const src = new Uint8Array(buf, base, n);
      if (type.dtype === 'bool') {
        forEachRun(ref, (s, cnt, step) => {
          for (let j = 0; j < cnt; j++) {
            const v = required(src[s + j * step], 'bool storage element');
            if (v > 1)
              throw new FormatError(`${where} holds byte ${v} at storage element ${s + j * step}; bool elements must be 0 or 1. The checkpoint is corrupt.`);
          }
        });
      }
      if (whole) return src;
      const out = new Uint8Array(numel);
      gatherSame(ref, src, out);
      return out;
    }
    case 'float16': {
      const src = new Uint16Array(buf, base, n);
      const table = f16ToF32Table();
      const out = new Float32Array(numel);
      forEachRun(ref, (s, cnt, step, o) => {
        for (let j = 0; j < cnt; j++) out[o + j] = required(table[required(src[s + j * step], 'float16 storage element')], 'float16 table entry');
      });
      return out;
    }
    case 'bfloat16': {
      const src = new Uint16Array(buf, base, n);
      const out = new Float32Array(numel);
      const bits = new Uint32Array(out.buffer);
      forEachRun(ref, (s, cnt, step, o) => {
        for (let j = 0; j < cnt; j++) bits[o + j] = required(src[s + j * step], 'bfloat16 storage element') << 16;
      });
      return out;
    }
    case 'int64': {
      const src = new Int32Array(buf, base, 2 * n);
      const out = new Int32Array(numel);
      forEachRun(ref, (s, cnt, step, o) => {
        for (let j = 0; j < cnt; j++) {
          const e = s + j * step;
          const lo = required(src[2 * e], 'int64 storage element (low word)');
          const hi = required(src[2 * e + 1], 'int64 storage element (high word)');
          if (hi !== lo >> 31) {
            const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
            throw new FormatError(
              `${where} (int64) holds ${value} at storage element ${e}, ` +
                `outside the int32 range [-2147483648, 2147483647] that int64 tensors are converted to. Store it as float64 or reduce the values.`,
            );
          }
          out[o + j] = lo;
        }
      });
      return out;
    }
    case 'int16':
    case 'int8': {
      const src = type.dtype === 'int16' ? new Int16Array(buf, base, n) : new Int8Array(buf, base, n);
      const out = new Int32Array(numel);
      forEachRun(ref, (s, cnt, step, o) => {
        for (let j = 0; j < cnt; j++) out[o + j] = required(src[s + j * step], 'integer storage element');
      });
      return out;
    }
    default:
      throw new FormatError(`${where} has unsupported dtype ${type.dtype}.`);
  }
}
