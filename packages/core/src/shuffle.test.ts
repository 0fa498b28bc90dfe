import { at } from './invariants.js';
import { createRng } from './seededRng.js';
import { permutation, shuffleInPlace } from './shuffle.js';

describe('shuffle', () => {
  it('is the last-to-first Fisher–Yates with one rng.int(i + 1) per position', () => {
    const rng = createRng(3);
    const draws = createRng(3);
    const expected = [0, 1, 2, 3, 4, 5, 6];
    for (let i = expected.length - 1; i > 0; i--) {
      const j = draws.int(i + 1);
      [expected[i], expected[j]] = [at(expected, j), at(expected, i)];
    }
    expect(Array.from(permutation(7, rng))).toEqual(expected);
  });

  it('gives every permutation of 3 items about equally often', () => {
    const rng = createRng('uniform');
    const counts = new Map<string, number>();
    for (let k = 0; k < 6000; k++) {
      const key = shuffleInPlace(['a', 'b', 'c'], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });
});
