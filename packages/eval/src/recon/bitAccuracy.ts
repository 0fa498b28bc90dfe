/**
 * Bit accuracy of reconstructed binary codes: the fraction of bits equal between two code tensors of the same
 * shape (e.g. [batch, tokens, K], docs/algorithm.md §0 layout), holding 0/1 as uint8 or 0.0/1.0 as float32.
 */
import { ShapeError, type Tensor } from '@bigr/core';

/** Result of {@link bitAccuracy}. */
export interface BitAccuracyResult {
  /** Equal bits / all bits. */
  readonly accuracy: number;
  /** Number of equal bits. */
  readonly matches: number;
  /** Number of bits compared. */
  readonly total: number;
}

/** Fraction of equal bits; throws if a value is not 0 or 1. */
export function bitAccuracy(a: Tensor, b: Tensor): BitAccuracyResult {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`bitAccuracy: code tensors have shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]; they must be equal.`);
  }
  const x = a.data;
  const y = b.data;
  let matches = 0;
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if ((u !== 0 && u !== 1) || (v !== 0 && v !== 1)) {
      throw new ShapeError(`bitAccuracy: element ${i} is ${u} vs ${v}; codes must hold only 0 and 1 (threshold probabilities first).`);
    }
    if (u === v) matches++;
  }
  return { accuracy: x.length === 0 ? 1 : matches / x.length, matches, total: x.length };
}
