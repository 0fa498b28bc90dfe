/**
 * Data-only descriptions of the torch objects found in a checkpoint pickle: storages (by persistent id) and
 * tensors (views into storages). Nothing here holds tensor data; {@link readTorchCheckpoint} reads it on demand.
 */

/** Element types of torch storages this package knows about. */
export type TorchDType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'complex64'
  | 'complex128'
  | 'qint8'
  | 'quint8'
  | 'qint32';

/** What one legacy storage class (`torch.FloatStorage`, ...) holds. */
export interface TorchStorageType {
  /** Element type. */
  readonly dtype: TorchDType;
  /** Bytes per element. */
  readonly itemSize: number;
  /** The {@link DType} a tensor of this storage is converted to, or null when conversion is not supported. */
  readonly target: DType | null;
}

/** Legacy storage class names (as pickled by `torch.save`, e.g. `torch.FloatStorage`) → element type. */
export const TORCH_STORAGE_TYPES: Readonly<Record<string, TorchStorageType>> = Object.freeze({
  FloatStorage: { dtype: 'float32', itemSize: 4, target: 'float32' },
  DoubleStorage: { dtype: 'float64', itemSize: 8, target: 'float64' },
  HalfStorage: { dtype: 'float16', itemSize: 2, target: 'float32' },
  BFloat16Storage: { dtype: 'bfloat16', itemSize: 2, target: 'float32' },
  LongStorage: { dtype: 'int64', itemSize: 8, target: 'int32' },
  IntStorage: { dtype: 'int32', itemSize: 4, target: 'int32' },
  ShortStorage: { dtype: 'int16', itemSize: 2, target: 'int32' },
  CharStorage: { dtype: 'int8', itemSize: 1, target: 'int32' },
  ByteStorage: { dtype: 'uint8', itemSize: 1, target: 'uint8' },
  BoolStorage: { dtype: 'bool', itemSize: 1, target: 'uint8' },
  ComplexFloatStorage: { dtype: 'complex64', itemSize: 8, target: null },
  ComplexDoubleStorage: { dtype: 'complex128', itemSize: 16, target: null },
  QInt8Storage: { dtype: 'qint8', itemSize: 1, target: null },
  QUInt8Storage: { dtype: 'quint8', itemSize: 1, target: null },
  QInt32Storage: { dtype: 'qint32', itemSize: 4, target: null },
});

/**
 * A storage referenced by a checkpoint pickle through the persistent id
 * `('storage', torch.<Type>Storage, key, location, numel)`; its bytes are the archive entry `<archive>/data/<key>`.
 * The same key always yields the same object, so tensors sharing a storage share this reference.
 */
export class TorchStorageRef {
  /** Entry key (the file name under `<archive>/data/`). */
  readonly key: string;
  /** Legacy storage class name, e.g. 'FloatStorage'. */
  readonly storageType: string;
  /** Element type. */
  readonly dtype: TorchDType;
  /** Bytes per element. */
  readonly itemSize: number;
  /** Number of elements. */
  readonly numel: number;
  /** Device the storage was saved from, e.g. 'cpu' or 'cuda:0' (ignored: data is always read to the CPU). */
  readonly location: string;

  /** Describes a storage; `numel` must be a non-negative safe integer. */
  constructor(key: string, storageType: string, numel: number, location: string) {
    const t = TORCH_STORAGE_TYPES[storageType];
    if (!t) throw new TypeError(`Unknown torch storage type ${storageType}`);
    this.key = key;
    this.storageType = storageType;
    this.dtype = t.dtype;
    this.itemSize = t.itemSize;
    this.numel = numel;
    this.location = location;
  }

  /** Size of the storage in bytes. */
  get byteLength(): number {
    return this.numel * this.itemSize;
  }
}

/**
 * A tensor as described by `torch._utils._rebuild_tensor_v2`: a strided view (offset, shape, stride, in elements)
 * of a {@link TorchStorageRef}. Bounds are validated when the reference is created.
 */
export class TorchTensorRef {
  /** The storage the view reads from. */
  readonly storage: TorchStorageRef;
  /** First element, in storage elements. */
  readonly offset: number;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Step per dimension, in storage elements. */
  readonly stride: readonly number[];
  /** The saved `requires_grad` flag. */
  readonly requiresGrad: boolean;
  /** Whether it was saved as an `nn.Parameter`. */
  readonly isParameter: boolean;

  /** Describes a view; callers validate bounds (see `checkTensorView`). */
  constructor(storage: TorchStorageRef, offset: number, shape: readonly number[], stride: readonly number[], requiresGrad: boolean, isParameter = false) {
    this.storage = storage;
    this.offset = offset;
    this.shape = Object.freeze([...shape]);
    this.stride = Object.freeze([...stride]);
    this.requiresGrad = requiresGrad;
    this.isParameter = isParameter;
  }

  /** Element type of the storage. */
  get dtype(): TorchDType {
    return this.storage.dtype;
  }

  /** Number of elements of the view. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** True when the view is row-major contiguous (dimensions of size 1 may have any stride). */
  get isContiguous(): boolean {
    let expected = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const size = at(this.shape, d, 'view dimension');
      if (size === 1) continue;
      if (size === 0) return true;
      if (this.stride[d] !== expected) return false;
      expected *= size;
    }
    return true;
  }

  /** A copy flagged as a parameter (what `torch._utils._rebuild_parameter` returns). */
  asParameter(requiresGrad: boolean): TorchTensorRef {
    return new TorchTensorRef(this.storage, this.offset, this.shape, this.stride, requiresGrad, true);
  }
}
import { at, type DType } from '@bigr/core';
