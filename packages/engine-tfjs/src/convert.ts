import * as tf from '@tensorflow/tfjs';
import { CpuTensor, ShapeError, type Tensor } from '@bigr/core';

/**
 * Uploads a {@link Tensor} to the current tfjs backend. float32 stays float32, float64 is rounded to float32,
 * int32 stays int32 and uint8 becomes int32 (tfjs has no uint8 dtype).
 */
export function toTfTensor(t: Tensor): tf.Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return tf.tensor(t.data as Float32Array, shape, 'float32');
    case 'float64':
      return tf.tensor(Float32Array.from(t.data as Float64Array), shape, 'float32');
    case 'int32':
      return tf.tensor(t.data as Int32Array, shape, 'int32');
    case 'uint8':
      return tf.tensor(Int32Array.from(t.data as Uint8Array), shape, 'int32');
    default:
      throw new ShapeError(`Cannot upload a tensor of dtype ${String(t.dtype)} to tfjs; expected float32, float64, int32 or uint8.`);
  }
}

/**
 * Downloads a tfjs tensor into a new {@link CpuTensor} (always a copy, so later changes to either side do not
 * affect the other). float32 → float32, int32 → int32, bool → uint8 (0/1).
 */
export function fromTfTensor(t: tf.Tensor): CpuTensor {
  const shape = [...t.shape];
  const data = t.dataSync();
  switch (t.dtype) {
    case 'float32':
      return new CpuTensor(Float32Array.from(data as Float32Array), shape);
    case 'int32':
      return new CpuTensor(Int32Array.from(data as Int32Array), shape);
    case 'bool':
      return new CpuTensor(Uint8Array.from(data as Uint8Array), shape);
    default:
      throw new ShapeError(`Cannot download a tfjs tensor of dtype ${t.dtype}; only float32, int32 and bool are supported.`);
  }
}
