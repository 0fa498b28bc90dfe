import { AbortError, ConfigError } from '@bigr/core';
import { kernelInceptionDistance } from './kernelInceptionDistance.js';
import { Lcg, lcgMatrix } from '../test/lcg.js';
import { mix, referenceValues } from '../test/fixtures.js';

describe('kernelInceptionDistance', () => {
  it('matches the NumPy unbiased MMD² when one subset covers both whole sets', async () => {
    const ref = referenceValues().kid;
    const x = lcgMatrix(ref.x_seed, ref.rows, ref.dim);
    const y = mix(lcgMatrix(ref.y_seed, ref.rows, ref.dim), ref.rows, ref.dim).map((v) => v * 0.5);
    const r = await kernelInceptionDistance(
      { data: x, rows: ref.rows, dim: ref.dim },
      { data: y, rows: ref.rows, dim: ref.dim },
      { rng: new Lcg(1), numSubsets: 1 },
    );
    expect(r.subsetSize).toBe(ref.rows);
    expect(Math.abs(r.mean - ref.mmd2_unbiased)).toBeLessThan(1e-12);
    expect(r.std).toBe(0);
  });

  it('is ~0 (slightly negative on average) for a set against itself, positive for shifted sets, reproducible per seed', async () => {
    const x = { data: lcgMatrix(2, 300, 8), rows: 300, dim: 8 };
    const self = await kernelInceptionDistance(x, x, { rng: new Lcg(3), numSubsets: 20, subsetSize: 50 });
    expect(Math.abs(self.mean)).toBeLessThan(0.02);
    const shifted = { data: x.data.map((v) => v + 0.5), rows: 300, dim: 8 };
    const r = await kernelInceptionDistance(x, shifted, { rng: new Lcg(3), numSubsets: 20, subsetSize: 50 });
    expect(r.mean).toBeGreaterThan(10 * Math.abs(self.mean));
    const again = await kernelInceptionDistance(x, shifted, { rng: new Lcg(3), numSubsets: 20, subsetSize: 50 });
    expect(Array.from(again.values)).toEqual(Array.from(r.values));
    expect(r.std).toBeGreaterThan(0);
  });

  it('validates options and honours AbortSignal', async () => {
    const x = { data: lcgMatrix(2, 10, 3), rows: 10, dim: 3 };
    await expect(kernelInceptionDistance(x, { data: new Float64Array(4), rows: 2, dim: 2 }, { rng: new Lcg(1) })).rejects.toThrow(/dimensions differ/);
    await expect(kernelInceptionDistance(x, x, { rng: new Lcg(1), numSubsets: 0 })).rejects.toThrow(ConfigError);
    await expect(kernelInceptionDistance(x, { data: new Float64Array(3), rows: 1, dim: 3 }, { rng: new Lcg(1) })).rejects.toThrow(/at least 2 rows/);
    const ac = new AbortController();
    ac.abort();
    await expect(kernelInceptionDistance(x, x, { rng: new Lcg(1), signal: ac.signal })).rejects.toThrow(AbortError);
  });
});
