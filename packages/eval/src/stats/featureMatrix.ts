/**
 * Feature matrices: N×d float rows (samples are rows, features are columns — docs/evaluation.md §2.2 orientation),
 * as a {@link Tensor} of shape [N, d] or a bare typed array with an explicit dimension.
 */
import { dims2, ShapeError, type DType, type Tensor } from '@bigr/core';

/**
 * A feature tensor of shape [N, d]; its dtype must be float32 or float64 (checked at run time, so tensors typed
 * with the general {@link DType} union are accepted).
 */
export type FeatureTensor = Tensor;

/** Rows of features as accepted by the metric functions. */
export interface FeatureRows {
  /** Row-major N×d values. */
  readonly data: Float32Array | Float64Array;
  /** Number of rows N. */
  readonly rows: number;
  /** Feature dimension d. */
  readonly dim: number;
}

/** Normalises a [N, d] float tensor (or {@link FeatureRows}) to {@link FeatureRows}, validating shape and dtype. */
export function toFeatureRows(x: FeatureTensor | FeatureRows, what: string): FeatureRows {
  if ('rows' in x && 'dim' in x) {
    if (x.data.length !== x.rows * x.dim) {
      throw new ShapeError(`${what}: ${x.data.length} values cannot form ${x.rows}×${x.dim} rows. Pass data of length rows·dim.`);
    }
    return x;
  }
  const t = x as Tensor;
  if (t.dtype !== 'float32' && t.dtype !== 'float64') {
    throw new ShapeError(`${what} has dtype ${t.dtype}; features must be float32 or float64.`);
  }
  if (t.shape.length !== 2) {
    throw new ShapeError(`${what} has shape [${t.shape.join(', ')}] but [N, d] was expected (rows are samples, columns are features).`);
  }
  const [rows, dim] = dims2(t.shape, what);
  return { data: t.data as Float32Array | Float64Array, rows, dim };
}
