// The metrics' heavy products on onnxruntime's float64 Gemm (createFloat64GemmNT): the known-answer tolerances of
// docs/evaluation.md §6.2 against the NumPy/SciPy reference values still hold.
import { at, CpuTensor } from '@bigr/core';
import { createFloat64GemmNT, type Float64GemmNT } from '@bigr/engine-onnx';
import { FeatureStats } from './featureStats.js';
import { frechetDistance } from './frechetDistance.js';
import { kernelInceptionDistance } from './kernelInceptionDistance.js';
import { precisionRecall } from './precisionRecall.js';
import { Lcg, lcgMatrix } from '../test/lcg.js';
import { mix, referenceValues } from '../test/fixtures.js';

let gemm: Float64GemmNT;
beforeAll(async () => {
  gemm = await createFloat64GemmNT({ threads: 2 });
});
afterAll(async () => gemm.dispose());

describe('metrics with the products on onnxruntime (float64)', () => {
  const ref = referenceValues();

  it.each(ref.fid.map((c) => [c.name, c] as const))('FID %s within 1e-9·max(1, FID) of NumPy/SciPy', async (_name, c) => {
    const x1 = lcgMatrix(c.seed1, c.n1, c.d);
    const x2 = mix(lcgMatrix(c.seed2, c.n2, c.d), c.n2, c.d);
    const s1 = new FeatureStats(c.d);
    const s2 = new FeatureStats(c.d);
    for (let r = 0; r < c.n1; r += 64)
      await s1.addWith({ data: x1.subarray(r * c.d, Math.min(c.n1, r + 64) * c.d), rows: Math.min(64, c.n1 - r), dim: c.d }, gemm);
    await s2.addWith({ data: x2, rows: c.n2, dim: c.d }, gemm);
    const r = frechetDistance(s1.toGaussian(), s2.toGaussian());
    const fullRank = c.n1 > c.d && c.n2 > c.d;
    expect(Math.abs(r.traceSigma1 - c.trace_sigma1)).toBeLessThan(1e-12 * c.trace_sigma1);
    expect(Math.abs(r.value - c.fid_scipy)).toBeLessThanOrEqual((fullRank ? 1e-9 : 1e-8) * Math.max(1, c.fid_scipy));
  });

  it('KID: the NumPy unbiased MMD² to 1e-12', async () => {
    const k = ref.kid;
    const x = lcgMatrix(k.x_seed, k.rows, k.dim);
    const y = mix(lcgMatrix(k.y_seed, k.rows, k.dim), k.rows, k.dim).map((v) => v * 0.5);
    const r = await kernelInceptionDistance(
      { data: x, rows: k.rows, dim: k.dim },
      { data: y, rows: k.rows, dim: k.dim },
      { rng: new Lcg(1), numSubsets: 1, gemm },
    );
    expect(Math.abs(r.mean - k.mmd2_unbiased)).toBeLessThan(1e-12);
  });

  it('KID over subsets agrees with the JavaScript products to 1e-12 relative', async () => {
    const x = { data: lcgMatrix(2, 300, 16), rows: 300, dim: 16 };
    const y = { data: x.data.map((v) => v + 0.1), rows: 300, dim: 16 };
    const js = await kernelInceptionDistance(x, y, { rng: new Lcg(3), numSubsets: 5, subsetSize: 100 });
    const ort = await kernelInceptionDistance(x, y, { rng: new Lcg(3), numSubsets: 5, subsetSize: 100, gemm });
    expect(js.values).toHaveLength(5);
    for (const [s, v] of js.values.entries()) expect(Math.abs(at(ort.values, s, 'subset value') - v)).toBeLessThan(1e-12 * Math.max(1e-3, Math.abs(v)) + 1e-15);
  });

  it('precision/recall: the NumPy reference exactly', async () => {
    const p = ref.precision_recall;
    const real = lcgMatrix(p.real_seed, p.real_rows, p.dim);
    const fake = mix(lcgMatrix(p.fake_seed, p.fake_rows, p.dim), p.fake_rows, p.dim).map((v) => v * 0.8);
    const r = await precisionRecall(new CpuTensor(real, [p.real_rows, p.dim]), new CpuTensor(fake, [p.fake_rows, p.dim]), { k: p.k, tileSize: 64, gemm });
    expect(r.precision).toBe(p.precision);
    expect(r.recall).toBe(p.recall);
  });
});
