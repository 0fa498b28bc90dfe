import { at } from '@bigr/core';
import { visitedTimesteps } from './visitedTimesteps.js';
import { loadFixture } from './test/fixtures.js';

/**
 * Independent float64 reference of NumPy's linspace(0, 1, S) (arange(S)·step with step = 1/(S−1), endpoint forced
 * to 1) followed by int truncation of ·(T−1), indexing 1…T and reversing (docs/algorithm.md §4.3).
 */
function reference(T: number, S: number): number[] {
  if (S === T) return Array.from({ length: T }, (_, i) => T - i);
  const step = 1 / (S - 1);
  const ys = Array.from({ length: S }, (_, k) => (S === 1 ? 0 : k * step)); // NumPy: div = 0 gives y = arange·delta
  if (S > 1) ys[S - 1] = 1;
  const steps = ys.map((y) => Math.trunc(y * (T - 1)) + 1);
  return steps.reverse();
}

describe('visited timesteps', () => {
  it.each([100, 50, 20, 10, 256])('equal the fixture for S = %i (T = 256)', async (S) => {
    const fx = await loadFixture('scheduler.safetensors');
    const got = Array.from(visitedTimesteps(256, S));
    expect(got).toEqual(Array.from(fx.i32(`visited_t_infer${S}`)));
    expect(got).toEqual(reference(256, S));
  });

  it('matches the examples of docs/algorithm.md §4.3', () => {
    expect(Array.from(visitedTimesteps(256, 10))).toEqual([256, 227, 199, 171, 142, 114, 86, 57, 29, 1]);
    const s100 = Array.from(visitedTimesteps(256, 100));
    expect(s100.slice(0, 5)).toEqual([256, 253, 250, 248, 245]);
    expect(s100.slice(-3)).toEqual([6, 3, 1]);
    for (let k = 0; k < 100; k++) expect(s100[99 - k]).toBe(Math.floor((k * 255) / 99) + 1);
  });

  it('equals the float64 reference for many (T, S), always descending from T to 1', () => {
    for (const T of [1, 2, 3, 10, 64, 255, 256, 1000]) {
      for (let S = 1; S <= Math.min(T, 40); S++) {
        const v = Array.from(visitedTimesteps(T, S));
        expect(v).toEqual(reference(T, S));
        expect(v[v.length - 1]).toBe(1);
        if (S > 1) expect(v[0]).toBe(T);
        for (const [i, t] of v.entries()) if (i > 0) expect(t).toBeLessThan(at(v, i - 1, 'previous visited timestep'));
      }
    }
  });

  it('rejects S > T', () => {
    expect(() => visitedTimesteps(10, 11)).toThrow(/1 <= S <= T/);
  });
});
