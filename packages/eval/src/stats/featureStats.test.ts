import { CpuTensor, ConfigError, ShapeError } from '@bigr/core';
import { FeatureStats } from './featureStats.js';
import { gemmNT } from '../linalg/gemm.js';
import { lcgMatrix, maxAbsDiff, naiveCov } from '../test/lcg.js';

const d = 9;
const rows = 57;
const x = lcgMatrix(4, rows, d).map((v, i) => v * (1 + (i % d)) + 1000); // large offset: tests centring

function chunk(from: number, to: number) {
  return { data: x.subarray(from * d, to * d), rows: to - from, dim: d };
}

describe('FeatureStats', () => {
  const ref = naiveCov(x, rows, d);

  it('matches the two-pass numpy.cov (ddof = 1) for any batching', () => {
    for (const batch of [1, 5, 57]) {
      const s = new FeatureStats(d);
      for (let r = 0; r < rows; r += batch) s.add(chunk(r, Math.min(rows, r + batch)));
      expect(s.count).toBe(rows);
      expect(maxAbsDiff(s.mean(), ref.mu)).toBeLessThan(1e-10);
      expect(maxAbsDiff(s.covariance(), ref.sigma)).toBeLessThan(1e-10);
    }
  });

  it('merging split statistics equals the whole (also across serialised states)', () => {
    const a = new FeatureStats(d);
    const b = new FeatureStats(d);
    const c = new FeatureStats(d);
    a.add(chunk(0, 20));
    b.add(chunk(20, 21));
    c.add(chunk(21, rows));
    const merged = new FeatureStats(d);
    merged.merge(c.toState()); // order does not matter
    merged.merge(a);
    merged.merge(FeatureStats.fromState(b.toState()));
    merged.merge(new FeatureStats(d)); // empty is a no-op
    const whole = new FeatureStats(d);
    whole.add(chunk(0, rows));
    expect(merged.count).toBe(rows);
    expect(maxAbsDiff(merged.mean(), whole.mean())).toBeLessThan(1e-11);
    expect(maxAbsDiff(merged.covariance(), whole.covariance())).toBeLessThan(1e-11);
    const g = merged.toGaussian();
    expect(g.count).toBe(rows);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(g.sigma[i * d + j]).toBe(g.sigma[j * d + i]);
  });

  it('accepts float32 tensors and accumulates in float64', () => {
    const f32 = Float32Array.from(x);
    const s = new FeatureStats(d);
    s.add(new CpuTensor(f32, [rows, d]));
    const refF32 = naiveCov(f32, rows, d);
    expect(maxAbsDiff(s.covariance(), refF32.sigma)).toBeLessThan(1e-10);
  });

  it('uses an injected NT gemm in addWith', async () => {
    const s = new FeatureStats(d);
    let calls = 0;
    const gemm = async (a: Float64Array, b: Float64Array, m: number, n: number, k: number) => {
      calls++;
      return gemmNT(a, b, m, n, k);
    };
    await s.addWith(chunk(0, 30), gemm);
    await s.addWith(chunk(30, rows), gemm);
    expect(calls).toBe(2);
    expect(maxAbsDiff(s.covariance(), ref.sigma)).toBeLessThan(1e-10);
    await expect(s.addWith(chunk(0, 2), async () => new Float64Array(3))).rejects.toThrow(ShapeError);
  });

  it('validates inputs', () => {
    const s = new FeatureStats(d);
    expect(() => s.covariance()).toThrow(ConfigError);
    expect(() => s.add(new CpuTensor(new Float32Array(8), [2, 4]))).toThrow(/4 features but this accumulator has d = 9/);
    expect(() => s.add(new CpuTensor(new Float32Array(9), [9]))).toThrow(/\[N, d\]/);
    expect(() => s.add(new CpuTensor(new Int32Array(9), [1, 9]) as never)).toThrow(/dtype int32/);
    expect(() => s.merge(new FeatureStats(3))).toThrow(ShapeError);
    expect(() => new FeatureStats(0)).toThrow(ConfigError);
    expect(() => FeatureStats.fromState({ dim: 2, count: 1, mean: new Float64Array(2), scatter: new Float64Array(3) })).toThrow(ShapeError);
  });
});
