/** Float64 reference matrix product with NumPy-style batch broadcasting. */
import { ShapeError, at, dims2 } from '@bigr/core';
import { broadcastShapes } from './elementwise.js';
import { sizeOf, stridesOf, unravel, type F64Array } from './ndarray.js';

/**
 * Product over the last two axes: op(a)·op(b) where op transposes the last two axes when asked. Leading (batch)
 * axes broadcast like NumPy; a lower-rank operand gets leading unit axes.
 */
export function matMul(a: F64Array, b: F64Array, transposeA = false, transposeB = false): F64Array {
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new ShapeError(`reference matMul: operands need rank >= 2, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}].`);
  }
  const [aRows, aCols] = dims2(a.shape.slice(-2), 'reference matMul a (last two axes)');
  const [bRows, bCols] = dims2(b.shape.slice(-2), 'reference matMul b (last two axes)');
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const k2 = transposeB ? bCols : bRows;
  const n = transposeB ? bRows : bCols;
  if (k !== k2) {
    throw new ShapeError(`reference matMul: inner dimensions ${k} and ${k2} differ for [${a.shape.join(', ')}] and [${b.shape.join(', ')}].`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchCount = sizeOf(batch);
  const data = new Float64Array(batchCount * m * n);
  // Offset of the matrix for batch multi-index `idx` in an operand with batch shape `shape` (broadcast dims → 0).
  const matrixOffset = (idx: readonly number[], shape: readonly number[], plane: number): number => {
    const strides = stridesOf(shape);
    let off = 0;
    for (const [i, d] of shape.entries()) off += (d === 1 ? 0 : at(idx, idx.length - shape.length + i)) * at(strides, i);
    return off * plane;
  };
  for (let t = 0; t < batchCount; t++) {
    const idx = unravel(t, batch);
    const oa = matrixOffset(idx, a.shape.slice(0, -2), aRows * aCols);
    const ob = matrixOffset(idx, b.shape.slice(0, -2), bRows * bCols);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = at(a.data, oa + (transposeA ? p * aCols + i : i * aCols + p));
          const bv = at(b.data, ob + (transposeB ? j * bCols + p : p * bCols + j));
          s += av * bv;
        }
        data[t * m * n + i * n + j] = s;
      }
    }
  }
  return { data, shape: [...batch, m, n] };
}
