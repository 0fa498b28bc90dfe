import type { Rng } from './rng.js';

/**
 * Fisher–Yates shuffle in place, from the last position to the first with one `rng.int(i + 1)` per position (the
 * order of Python's `random.shuffle`), so a seed fixes the result on every engine and platform. Returns `items`.
 */
export function shuffleInPlace<A extends { length: number; [i: number]: unknown }>(items: A, rng: Rng): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A uniformly random permutation of 0…n−1 ({@link shuffleInPlace} of the identity). */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, rng);
}
