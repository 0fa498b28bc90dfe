import { CpuTensor, FormatError, ShapeError } from '@bigr/core';
import type { Tensor } from '@bigr/core';
import type * as Ort from 'onnxruntime-node';
import type { OrtModule } from './ortRuntime.js';

/**
 * Wraps a tensor's data in an `ort.Tensor` without copying (float32, int32, uint8 and float64 data are
 * passed by reference).
 */
export function toOrtTensor(ort: OrtModule, t: Tensor): Ort.Tensor {
  const dims = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', t.data as Float32Array, dims);
    case 'int32':
      return new ort.Tensor('int32', t.data as Int32Array, dims);
    case 'uint8':
      return new ort.Tensor('uint8', t.data as Uint8Array, dims);
    case 'float64':
      return new ort.Tensor('float64', t.data as Float64Array, dims);
    default:
      throw new ShapeError(`Unsupported tensor dtype ${String(t.dtype)}; use float32, int32, uint8 or float64.`);
  }
}

/**
 * Wraps an onnxruntime output in a {@link CpuTensor}, reusing its data array (no copy) for float32, int32,
 * uint8 and float64. int64 outputs are narrowed to int32 (values must fit), bool outputs become uint8 0/1.
 */
export function fromOrtTensor(value: Ort.Tensor, name: string): CpuTensor {
  if (value.location !== 'cpu') {
    throw new FormatError(`Output "${name}" lives on ${value.location}, not the CPU; request CPU outputs from onnxruntime.`);
  }
  const dims = value.dims;
  switch (value.type) {
    case 'float32':
    case 'int32':
    case 'uint8':
    case 'float64':
      return new CpuTensor(value.data as Float32Array | Int32Array | Uint8Array | Float64Array, dims);
    case 'bool':
      return new CpuTensor(new Uint8Array((value.data as Uint8Array).buffer, (value.data as Uint8Array).byteOffset, value.size), dims);
    case 'int64': {
      const src = value.data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new FormatError(`Output "${name}" holds int64 value ${v}, which does not fit in int32.`);
        out[i] = Number(v);
      }
      return new CpuTensor(out, dims);
    }
    default:
      throw new FormatError(`Output "${name}" has onnxruntime type ${value.type}; only float32, float64, int32, int64, uint8 and bool outputs are supported.`);
  }
}
