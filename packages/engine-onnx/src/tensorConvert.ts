/**
 * Tensors in and out of onnxruntime, for onnxruntime-node (`OnnxEngine`) and onnxruntime-web (`@bigr/engine-onnx-web`)
 * alike: both runtimes share onnxruntime-common's `Tensor`, so the conversions only name the fields they use and
 * import neither runtime (this module is part of the browser-safe `@bigr/engine-onnx/graph` entry).
 */
import { CpuTensor, FormatError, ShapeError, at } from '@bigr/core';
import type { Tensor } from '@bigr/core';

/** The dtypes handed to onnxruntime without copying. */
export type OrtInputType = 'float32' | 'int32' | 'uint8' | 'float64';

/** The `Tensor` class of an onnxruntime module (`ort.Tensor` of onnxruntime-node or onnxruntime-web). */
export type OrtTensorClass<T> = new (type: OrtInputType, data: Float32Array | Int32Array | Uint8Array | Float64Array, dims: readonly number[]) => T;

/** The fields of an onnxruntime output tensor that {@link fromOrtTensor} reads. */
export interface OrtTensorLike {
  /** onnxruntime element type ('float32', 'int64', 'bool', …). */
  readonly type: string;
  /** Shape. */
  readonly dims: readonly number[];
  /** Element data (a typed array for CPU tensors). */
  readonly data: unknown;
  /** Where the data lives ('cpu' for readable outputs). */
  readonly location: string;
  /** Element count. */
  readonly size: number;
}

/**
 * Wraps a tensor's data in an onnxruntime tensor of `ort` (the module, or anything with its `Tensor` class) without
 * copying (float32, int32, uint8 and float64 data are passed by reference).
 */
export function toOrtTensor<T>(ort: { readonly Tensor: OrtTensorClass<T> }, t: Tensor): T {
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
export function fromOrtTensor(value: OrtTensorLike, name: string): CpuTensor {
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
        const v = at(src, i);
        if (v > 2147483647n || v < -2147483648n) throw new FormatError(`Output "${name}" holds int64 value ${v}, which does not fit in int32.`);
        out[i] = Number(v);
      }
      return new CpuTensor(out, dims);
    }
    default:
      throw new FormatError(`Output "${name}" has onnxruntime type ${value.type}; only float32, float64, int32, int64, uint8 and bool outputs are supported.`);
  }
}
