import { ConfigError } from './errors.js';
import { clipGradNorm, gradNorm } from './gradClip.js';
import { createRng } from './seededRng.js';

function naiveNorm(gs: number[][]): number {
  let s = 0;
  for (const g of gs) for (const x of g) s += x * x;
  return Math.sqrt(s);
}

describe('clipGradNorm', () => {
  it('hand-computed: [3, 4] has norm 5; clipped to 1 gives [0.6, 0.8] (up to the 1e-6 epsilon)', () => {
    const g = new Float32Array([3, 4]);
    expect(clipGradNorm(new Map([['w', g]]), 1)).toBe(5);
    expect(g[0]).toBeCloseTo(0.6, 6);
    expect(g[1]).toBeCloseTo(0.8, 6);
    expect(g[0]).toBe(Math.fround(3 * (1 / (5 + 1e-6))));
  });

  it('matches a naive implementation on random gradients, above and below the threshold', () => {
    const rng = createRng('clip');
    for (const maxNorm of [0.5, 1, 1000]) {
      const raw = [17, 1, 64].map((n) => Array.from(rng.normalsF32(n)));
      const grads = new Map(raw.map((g, i) => [`p${i}`, Float32Array.from(g)]));
      const norm = naiveNorm(raw);
      expect(gradNorm(grads)).toBeCloseTo(norm, 10);
      const returned = clipGradNorm(grads, maxNorm);
      expect(returned).toBeCloseTo(norm, 10);
      // torch's coefficient is a float32 tensor: max_norm / (float32(norm) + 1e-6).
      const coef = Math.min(1, Math.fround(maxNorm / Math.fround(Math.fround(norm) + Math.fround(1e-6))));
      raw.forEach((g, i) => {
        expect(grads.get(`p${i}`)).toEqual(Float32Array.from(g, (x) => x * coef));
      });
      if (maxNorm < norm) expect(gradNorm(grads)).toBeCloseTo(maxNorm, 4);
    }
  });

  it('accepts arrays, handles non-finite norms and validates maxNorm', () => {
    const a = new Float32Array([1, Number.POSITIVE_INFINITY]);
    expect(clipGradNorm([a], 1)).toBe(Number.POSITIVE_INFINITY);
    expect(a[0]).toBe(1); // untouched
    expect(() => clipGradNorm([a], 1, { errorIfNonfinite: true })).toThrow(/Infinity/);
    expect(() => clipGradNorm([a], 0)).toThrow(ConfigError);
    expect(gradNorm([])).toBe(0);
    expect(clipGradNorm([new Float32Array(3)], 1)).toBe(0);
  });
});
