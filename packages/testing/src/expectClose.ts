import { AssertionError } from 'node:assert';
import { at } from '@bigr/core';

/** Tolerances of an element-wise closeness check: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  /** Relative tolerance (multiplies |expected|). */
  readonly rtol: number;
  /** Absolute tolerance. */
  readonly atol: number;
}

/** Options of {@link expectClose}. */
export interface ExpectCloseOptions extends Partial<Tolerance> {
  /** What is being compared, for the message (e.g. 'onnx-cpu llama block output'). */
  readonly what?: string;
  /** Shape of the arrays (row-major), to report the worst element as a multi-index. */
  readonly shape?: readonly number[];
}

/** Default tolerances of {@link expectClose}: the conformance criterion |a − e| ≤ 1e-5·(1 + |e|). */
export const DEFAULT_TOLERANCE: Tolerance = Object.freeze({ rtol: 1e-5, atol: 1e-5 });

/** Outcome of {@link compareClose}. */
export interface CloseComparison {
  /** Number of elements compared. */
  readonly count: number;
  /** Elements outside the tolerance (NaN where the other side is not NaN counts as a mismatch). */
  readonly mismatches: number;
  /** Largest |actual − expected| (NaN if a NaN mismatch occurred). */
  readonly maxAbsDiff: number;
  /** Largest |actual − expected| / (atol + rtol·|expected|); ≤ 1 means within tolerance. */
  readonly maxRatio: number;
  /** Index of the element with the largest ratio (−1 when there are no elements). */
  readonly worstIndex: number;
  /** First few mismatching indices. */
  readonly firstMismatches: readonly number[];
}

/**
 * Compares two equally long arrays element-wise with the NumPy `allclose` rule |a − e| ≤ atol + rtol·|e|.
 * Two NaNs, and equal infinities, count as equal. Lengths must match (else throws).
 */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance = DEFAULT_TOLERANCE): CloseComparison {
  if (actual.length !== expected.length) {
    throw new AssertionError({ message: `compareClose: actual has ${actual.length} elements but expected has ${expected.length}.` });
  }
  let mismatches = 0;
  let maxAbsDiff = 0;
  let maxRatio = 0;
  let worstIndex = actual.length > 0 ? 0 : -1;
  const firstMismatches: number[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = at(actual, i, 'actual value');
    const e = at(expected, i, 'expected value');
    let ratio: number;
    let diff: number;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      diff = Number.isNaN(a) && Number.isNaN(e) ? 0 : NaN;
      ratio = diff === 0 ? 0 : Infinity;
    } else if (a === e) {
      diff = 0;
      ratio = 0;
    } else {
      diff = Math.abs(a - e);
      const allowed = tolerance.atol + tolerance.rtol * Math.abs(e);
      ratio = allowed > 0 ? diff / allowed : Infinity;
    }
    if (!(diff <= maxAbsDiff)) maxAbsDiff = diff; // NaN sticks
    if (ratio > maxRatio) {
      maxRatio = ratio;
      worstIndex = i;
    }
    if (ratio > 1) {
      mismatches++;
      if (firstMismatches.length < 5) firstMismatches.push(i);
    }
  }
  return { count: actual.length, mismatches, maxAbsDiff, maxRatio, worstIndex, firstMismatches };
}

function indexLabel(i: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length === 0) return `${i}`;
  const idx: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = at(shape, d);
    idx.unshift(rest % n);
    rest = Math.floor(rest / n);
  }
  return `${i} [${idx.join(', ')}]`;
}

/**
 * Human-readable explanation of a failed {@link compareClose}: how many elements are off, the worst one (index,
 * multi-index when `shape` is given, both values, difference and allowance) and the first few mismatches.
 */
export function describeMismatch(
  c: CloseComparison,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what = 'values',
  shape?: readonly number[],
): string {
  const w = c.worstIndex;
  const a = at(actual, w, 'worst actual value');
  const e = at(expected, w, 'worst expected value');
  const allowed = tolerance.atol + tolerance.rtol * Math.abs(e);
  const others = c.firstMismatches
    .filter((i) => i !== w)
    .map((i) => `#${indexLabel(i, shape)}: ${actual[i]} vs ${expected[i]}`)
    .join('; ');
  return (
    `${what}: ${c.mismatches} of ${c.count} elements differ by more than atol + rtol·|expected| ` +
    `(atol ${tolerance.atol}, rtol ${tolerance.rtol}). Worst at index ${indexLabel(w, shape)}: actual ${a}, expected ${e}, ` +
    `|diff| ${Math.abs(a - e)} > allowed ${allowed} (${c.maxRatio.toPrecision(3)}× the allowance). Max |diff| over all elements ${c.maxAbsDiff}.` +
    (others ? ` Other mismatches: ${others}.` : '')
  );
}

/**
 * Asserts that `actual` and `expected` have equal length and agree element-wise within
 * |actual − expected| ≤ atol + rtol·|expected| (defaults {@link DEFAULT_TOLERANCE}). On failure throws an
 * `AssertionError` naming `what`, the number of mismatches and the worst element (index, values, difference).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: ExpectCloseOptions = {}): void {
  const what = options.what ?? 'values';
  if (actual.length !== expected.length) {
    throw new AssertionError({
      message:
        `${what}: actual has ${actual.length} elements but expected has ${expected.length}` +
        `${options.shape ? ` (shape [${options.shape.join(', ')}])` : ''}.`,
    });
  }
  const tolerance: Tolerance = { rtol: options.rtol ?? DEFAULT_TOLERANCE.rtol, atol: options.atol ?? DEFAULT_TOLERANCE.atol };
  const c = compareClose(actual, expected, tolerance);
  if (c.mismatches > 0) throw new AssertionError({ message: describeMismatch(c, actual, expected, tolerance, what, options.shape) });
}

/**
 * Relative L2 error ‖actual − expected‖₂ / ‖expected‖₂ (the absolute L2 error when `expected` is all zeros): the
 * per-tensor criterion of gradient comparisons, where single tiny elements may differ relatively a lot.
 */
export function relativeL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`relativeL2: lengths differ (${actual.length} vs ${expected.length}).`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = at(expected, i, 'expected value');
    num += (at(actual, i, 'actual value') - e) ** 2;
    den += e ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Largest |actual − expected| over two arrays of the same length (an absolute error, for outputs of known scale). */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`maxAbsDiff: lengths differ (${actual.length} vs ${expected.length}).`);
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(at(actual, i, 'actual value') - at(expected, i, 'expected value')));
  return m;
}

/**
 * Largest |actual − expected| divided by the largest |expected|: an error relative to the output's scale, for outputs
 * whose small elements carry only rounding noise (whole-network forwards against a float64 reference).
 */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`relativeMaxError: lengths differ (${actual.length} vs ${expected.length}).`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = at(expected, i, 'expected value');
    diff = Math.max(diff, Math.abs(at(actual, i, 'actual value') - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return diff / scale;
}
