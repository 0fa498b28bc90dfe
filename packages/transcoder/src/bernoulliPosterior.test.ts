import { at } from '@bigr/core';
import { reversePosterior, reversePosteriorF64, reversePosteriorInto, reverseStepCoefficients } from './bernoulliPosterior.js';
import { linearNoiseSchedule, officialScheduleBuffers } from './noiseSchedule.js';
import { loadFixture } from './test/fixtures.js';

/**
 * Brute force: enumerate every chain z_0 … z_T of the forward process with z_0 ~ Bernoulli(p) and one-step
 * transitions q(z_s = 1 | z_{s−1}) = β̄_s z_{s−1} + ½(1 − β̄_s), and return P(z_{t'} = 1 | z_t = x).
 */
function bruteForce(T: number, t: number, tp: number, x: number, p: number): number {
  let num = 0;
  let den = 0;
  for (let chain = 0; chain < 1 << (T + 1); chain++) {
    const z = (s: number): number => (chain >> s) & 1;
    let prob = z(0) ? p : 1 - p;
    for (let s = 1; s <= T && prob > 0; s++) {
      const keep = 1 - 1 / (T - s + 1);
      const p1 = keep * z(s - 1) + 0.5 * (1 - keep);
      prob *= z(s) ? p1 : 1 - p1;
    }
    if (z(t) !== x) continue;
    den += prob;
    if (z(tp) === 1) num += prob;
  }
  return num / den;
}

describe('Bernoulli reverse posterior', () => {
  it('equals brute-force enumeration of the forward chain (T = 6)', () => {
    const T = 6;
    const s = linearNoiseSchedule(T);
    const buffers = officialScheduleBuffers(T);
    let checked = 0;
    for (let t = 1; t <= T; t++) {
      for (let tp = 0; tp < t; tp++) {
        for (const x of [0, 1]) {
          for (const p of [0, 0.1, 0.37, 0.5, 0.9, 1]) {
            const ref = bruteForce(T, t, tp, x, p);
            expect(reversePosteriorF64(s, t, tp, x, p)).toBeCloseTo(ref, 12);
            expect(Math.abs(reversePosterior(reverseStepCoefficients(buffers, t, tp), x, p) - ref)).toBeLessThan(2e-7);
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(21 * 2 * 6);
  });

  it('reproduces the fixture posterior_grid (official scheduler, T = 256)', async () => {
    const fx = await loadFixture('scheduler.safetensors');
    const pairs = fx.i32('posterior_grid_pairs');
    const ps = fx.f32('posterior_grid_p_x0');
    const grid = fx.f32('posterior_grid');
    const buffers = officialScheduleBuffers(256);
    const s = linearNoiseSchedule(256);
    let maxErr = 0;
    let maxErr64 = 0;
    for (let i = 0; i < pairs.length / 2; i++) {
      const t = at(pairs, 2 * i, 't of a grid pair');
      const tPrev = at(pairs, 2 * i + 1, "t' of a grid pair");
      const coef = reverseStepCoefficients(buffers, t, tPrev);
      for (const x of [1, 0]) {
        const axis = x; // axis 1 of the grid is x_t ∈ {0, 1}
        for (const [j, p] of ps.entries()) {
          const want = at(grid, (i * 2 + axis) * ps.length + j, 'grid posterior');
          maxErr = Math.max(maxErr, Math.abs(reversePosterior(coef, x, p) - want));
          maxErr64 = Math.max(maxErr64, Math.abs(reversePosteriorF64(s, t, tPrev, x, p) - want));
        }
      }
    }
    expect(maxErr).toBeLessThanOrEqual(6e-8);
    expect(maxErr64).toBeLessThanOrEqual(2e-6); // float32 rounding of the official computation
  });

  it('array form equals the scalar form', () => {
    const coef = reverseStepCoefficients(officialScheduleBuffers(256), 200, 100);
    const x = Float32Array.of(0, 1, 1, 0);
    const p = Float32Array.of(0.2, 0.2, 0.9, 1);
    const out = new Float32Array(4);
    reversePosteriorInto(coef, x, p, out);
    for (const [i, xi] of x.entries()) expect(out[i]).toBe(reversePosterior(coef, xi, at(p, i, 'P(z_0 = 1)')));
  });

  it('rejects a step that does not go backwards', () => {
    expect(() => reverseStepCoefficients(officialScheduleBuffers(8), 3, 3)).toThrow(/invalid/);
  });
});
