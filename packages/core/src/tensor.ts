import { ShapeError } from './errors.js';

/** Element types that cross package boundaries. Bits are stored as `uint8` 0/1 (or `float32` 0.0/1.0 inside models). */
export type DType = 'float32' | 'float64' | 'int32' | 'uint8';

/** Maps a {@link DType} to the typed array that holds its elements. */
export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  uint8: Uint8Array;
}

/** Brand used instead of `instanceof`, so tensors survive duplicate installs of @bigr/core and jest realms. */
export const TENSOR_BRAND: unique symbol = Symbol.for('bigr.tensor') as never;

/**
 * The structural tensor interface every @bigr package speaks. Any object with these members is a tensor:
 * a third party can hand its own implementation to our tokenizer or sampler.
 */
export interface Tensor<D extends DType = DType> {
  readonly [TENSOR_BRAND]: true;
  /** Element type. */
  readonly dtype: D;
  /** Dimensions, outermost first (row-major / C order). */
  readonly shape: readonly number[];
  /** Row-major element data. Throws after {@link Tensor.dispose}. */
  readonly data: DataTypeMap[D];
  /** Number of elements (product of the shape). */
  readonly size: number;
  /** Whether {@link Tensor.dispose} was called. */
  readonly disposed: boolean;
  /** Releases the data; later access throws. Idempotent. */
  dispose(): void;
}

/** Typed array constructors by dtype. */
export const TYPED_ARRAY: { [D in DType]: new (n: number) => DataTypeMap[D] } = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
};

/** Product of a shape's dimensions; validates that every dimension is a non-negative integer. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`Invalid shape [${shape.join(', ')}]: dimension ${d} is not a non-negative integer. Use whole numbers >= 0.`);
    }
    n *= d;
  }
  return n;
}

function dtypeOfArray(data: ArrayLike<number>): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  throw new ShapeError(`Unsupported array type ${Object.prototype.toString.call(data)}; expected Float32Array, Float64Array, Int32Array or Uint8Array.`);
}

/** Plain CPU tensor over a typed array. The default {@link Tensor} implementation. */
export class CpuTensor<D extends DType = DType> implements Tensor<D> {
  readonly [TENSOR_BRAND] = true as const;
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly size: number;
  #data: DataTypeMap[D] | null;

  /** Wraps `data` (not copied) with the given shape; the element count must match. */
  constructor(data: DataTypeMap[D], shape: readonly number[]) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(
        `Tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}. Pass data whose length is the product of the shape.`,
      );
    }
    this.dtype = dtypeOfArray(data) as D;
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.#data = data;
  }

  /** Row-major element data. */
  get data(): DataTypeMap[D] {
    if (this.#data === null) throw new ShapeError('This tensor was disposed; its data is no longer available. Keep a reference only while it is in use.');
    return this.#data;
  }

  /** Whether the tensor was disposed. */
  get disposed(): boolean {
    return this.#data === null;
  }

  /** Releases the data. */
  dispose(): void {
    this.#data = null;
  }

  /** A zero-filled tensor. */
  static zeros<D extends DType>(dtype: D, shape: readonly number[]): CpuTensor<D> {
    return new CpuTensor(new TYPED_ARRAY[dtype](shapeSize(shape)) as DataTypeMap[D], shape);
  }

  /** Builds a float32 tensor from numbers. */
  static fromArray(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): CpuTensor {
    const data = new TYPED_ARRAY[dtype](values.length);
    data.set(values);
    return new CpuTensor(data, shape);
  }

  /** Same data viewed with another shape of equal size (no copy). */
  reshape(shape: readonly number[]): CpuTensor<D> {
    return new CpuTensor(this.data, shape);
  }
}

/** True when `x` structurally is a {@link Tensor} (brand check, realm-safe). */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[TENSOR_BRAND] === true;
}

/** Copies any {@link Tensor} into a {@link CpuTensor} (same dtype). */
export function toCpuTensor<D extends DType>(t: Tensor<D>): CpuTensor<D> {
  if (t instanceof CpuTensor) return t;
  return new CpuTensor(t.data.slice() as DataTypeMap[D], t.shape);
}

/** Throws a {@link ShapeError} unless `t.shape` equals `expected` (use -1 for "any"). */
export function assertShape(t: { shape: readonly number[] }, expected: readonly number[], what: string): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) {
    throw new ShapeError(`${what} has shape [${t.shape.join(', ')}] but [${expected.map((d) => (d === -1 ? '*' : d)).join(', ')}] was expected.`);
  }
}

/** Named tensors, e.g. a model's parameters keyed by official state-dict names. */
export type NamedTensors = Map<string, CpuTensor>;
