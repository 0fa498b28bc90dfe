/**
 * Checked reads for the places where the type system cannot see an invariant the code relies on (an index inside
 * a loop bound, a shape of known rank, a key that was just inserted). The project compiles with
 * `noUncheckedIndexedAccess`, so every such read either goes through one of these helpers — which name what was
 * expected when the invariant breaks — or is rewritten so the compiler can see it holds (iteration, destructuring
 * of a checked tuple). See docs/architecture.md ("Invariants").
 */
import { BigrError, ShapeError } from './errors.js';

/** An internal invariant did not hold: a bug in this library, never bad user input (that raises a named error). */
export class InvariantError extends BigrError {}

/** `items[index]`, or an {@link InvariantError} naming `what` when the index is outside the array. */
export function at<T>(items: ArrayLike<T>, index: number, what = 'element'): T {
  const v = items[index];
  if (v === undefined) {
    throw new InvariantError(`${what}: index ${index} is outside [0, ${items.length}) (an internal bug; please report it).`);
  }
  return v;
}

/** `value`, or an {@link InvariantError} naming `what` when it is missing (`undefined` or `null`). */
export function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new InvariantError(`${what} is missing (an internal bug; please report it).`);
  return value;
}

/** `map.get(key)`, or an {@link InvariantError} naming the key and `what` when it is absent. */
export function getOrThrow<K, V>(map: ReadonlyMap<K, V>, key: K, what = 'entry'): V {
  const v = map.get(key);
  if (v === undefined) throw new InvariantError(`${what} "${String(key)}" is missing (an internal bug; please report it).`);
  return v;
}

/** A shape's dimensions as a tuple of length `rank`, or a {@link ShapeError} naming `what` and the shape. */
function dims(shape: readonly number[], rank: number, what: string): number[] {
  if (shape.length !== rank) throw new ShapeError(`${what} must have rank ${rank} but has shape [${shape.join(', ')}].`);
  return shape as number[];
}

/** `[a, b]` of a rank-2 shape ({@link ShapeError} otherwise). */
export function dims2(shape: readonly number[], what = 'value'): [number, number] {
  return dims(shape, 2, what) as [number, number];
}

/** `[a, b, c]` of a rank-3 shape ({@link ShapeError} otherwise). */
export function dims3(shape: readonly number[], what = 'value'): [number, number, number] {
  return dims(shape, 3, what) as [number, number, number];
}

/** `[a, b, c, d]` of a rank-4 shape ({@link ShapeError} otherwise). */
export function dims4(shape: readonly number[], what = 'value'): [number, number, number, number] {
  return dims(shape, 4, what) as [number, number, number, number];
}

/** The last dimension of a shape of rank ≥ 1 ({@link ShapeError} for a scalar shape). */
export function lastDim(shape: readonly number[], what = 'value'): number {
  const d = shape[shape.length - 1];
  if (d === undefined) throw new ShapeError(`${what} must have rank ≥ 1 but is a scalar.`);
  return d;
}
