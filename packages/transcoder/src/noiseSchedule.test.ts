import { at, createRng } from '@bigr/core';
import { linearNoiseSchedule, marginalProbabilityOne, officialScheduleBuffers, skipKeepProbability, transitionProbabilityOne } from './noiseSchedule.js';
import { loadFixture } from './test/fixtures.js';

/** Float64 reference written from the formulas of docs/algorithm.md §4.1: β̄_t = 1 − 1/(T−t+1), running recursions. */
function reference(T: number): { keep: number[]; k: number[]; b: number[] } {
  const keep = [1];
  const k = [1];
  const b = [0];
  let kt = 1;
  let bt = 0;
  for (let t = 1; t <= T; t++) {
    const beta = 1 - 1 / (T - t + 1);
    kt *= beta;
    bt = beta * bt + 0.5 * (1 - beta);
    keep.push(beta);
    k.push(kt);
    b.push(bt);
  }
  return { keep, k, b };
}

describe('linear Bernoulli noise schedule', () => {
  it.each([1, 2, 7, 100, 256, 1000])('closed form equals the float64 recursion for T = %i', (T) => {
    const s = linearNoiseSchedule(T);
    const ref = reference(T);
    for (let t = 0; t <= T; t++) {
      expect(s.keep[t]).toBeCloseTo(at(ref.keep, t, 'reference keep'), 12);
      expect(s.k[t]).toBeCloseTo(at(ref.k, t, 'reference k'), 12);
      expect(s.b[t]).toBeCloseTo(at(ref.b, t, 'reference b'), 12);
      expect(s.b[t]).toBeCloseTo(0.5 * (1 - at(s.k, t, 'k_t')), 14);
    }
    expect(s.k[T]).toBe(0);
    expect(s.b[T]).toBe(0.5);
  });

  it('matches the sanity values of docs/algorithm.md §12', () => {
    const s = linearNoiseSchedule(256);
    expect(s.k[1]).toBe(0.99609375);
    expect(s.b[1]).toBe(0.001953125);
    expect(s.keep[1]).toBe(0.99609375);
    expect(s.keep[255]).toBe(0.5);
    expect(s.keep[256]).toBe(0);
  });

  it('official float32 buffers equal the fixture scheduler.safetensors', async () => {
    const fx = await loadFixture('scheduler.safetensors');
    const buf = officialScheduleBuffers(256);
    const s = linearNoiseSchedule(256);
    for (const name of ['k_final', 'b_final', 'beta'] as const) {
      expect(Array.from(buf[name])).toEqual(Array.from(fx.f32(name)));
    }
    const cum = fx.f32('cumbeta');
    expect(cum).toHaveLength(257);
    for (const [t, c] of cum.entries()) {
      expect(Math.abs(at(buf.cumbeta, t, 'cumbeta') - c)).toBeLessThanOrEqual(3e-7);
      // k_final[t] = 1 − t/256 and b_final[t] = t/512 exactly (the closed form).
      expect(fx.f32('k_final')[t]).toBe(Math.fround(at(s.k, t, 'k_t')));
      expect(fx.f32('b_final')[t]).toBe(Math.fround(at(s.b, t, 'b_t')));
    }
  });

  it('skip keep probability equals the product of one-step keeps', () => {
    const s = linearNoiseSchedule(64);
    for (const [t, tp] of [
      [64, 1],
      [40, 39],
      [10, 3],
      [63, 0],
      [5, 5],
    ] as const) {
      let prod = 1;
      for (let u = tp + 1; u <= t; u++) prod *= at(s.keep, u, 'keep');
      expect(skipKeepProbability(s, t, tp)).toBeCloseTo(prod, 12);
    }
  });

  it('marginals of q(z_t | z_0) match a Monte Carlo of the one-step chain', () => {
    const T = 256;
    const s = linearNoiseSchedule(T);
    const rng = createRng('schedule-mc');
    const n = 4000;
    const checkpoints = new Set([1, 17, 128, 200, 255, 256]);
    for (const z0 of [0, 1]) {
      const z = new Uint8Array(n).fill(z0);
      for (let t = 1; t <= T; t++) {
        const pKeep1 = transitionProbabilityOne(s, t, 1);
        const pKeep0 = transitionProbabilityOne(s, t, 0);
        const u = rng.uniformsF32(n);
        for (const [i, zi] of z.entries()) z[i] = at(u, i, 'uniform') < (zi ? pKeep1 : pKeep0) ? 1 : 0;
        if (checkpoints.has(t)) {
          let ones = 0;
          for (const zi of z) ones += zi;
          const p = marginalProbabilityOne(s, t, z0);
          const sigma = Math.sqrt((p * (1 - p)) / n) + 1e-12;
          expect(Math.abs(ones / n - p)).toBeLessThanOrEqual(4.5 * sigma + 1e-9);
        }
      }
    }
  });

  it('rejects invalid T and t', () => {
    expect(() => linearNoiseSchedule(0)).toThrow(/positive integer/);
    expect(() => marginalProbabilityOne(linearNoiseSchedule(4), 5, 1)).toThrow(/outside/);
  });
});
