import { AbortError, at, CpuTensor, ConfigError, type ProgressEvent } from '@bigr/core';
import { precisionRecall } from './precisionRecall.js';
import { gemmNT } from '../linalg/gemm.js';
import { Lcg, lcgMatrix } from '../test/lcg.js';
import { mix, referenceValues } from '../test/fixtures.js';

const rows1d = (xs: number[]) => ({ data: Float64Array.from(xs), rows: xs.length, dim: 1 });

describe('precisionRecall (docs/evaluation.md §5, §6.2)', () => {
  it('hand-checkable 1-D case with an exact boundary hit (inclusive ≤)', async () => {
    const real = rows1d([0, 1, 2, 3, 4, 5, 6, 7]);
    const gen = rows1d([2.5, 10, -3.5, 7.9, -2.9]);
    const r = await precisionRecall(real, gen, { k: 3 });
    expect(Array.from(r.realRadii)).toEqual([9, 4, 4, 4, 4, 4, 4, 9]);
    expect(r.precision).toBe(4 / 5);
    expect(r.recall).toBe(1);
    for (const tileSize of [1, 3, 8]) {
      const t = await precisionRecall(real, gen, { k: 3, tileSize });
      expect([t.precision, t.recall]).toEqual([0.8, 1]);
    }
  });

  it('R = G gives (1, 1); far-apart sets give (0, 0)', async () => {
    const x = lcgMatrix(1, 40, 5);
    expect(await precisionRecall({ data: x, rows: 40, dim: 5 }, { data: x, rows: 40, dim: 5 })).toMatchObject({ precision: 1, recall: 1 });
    const far = x.map((v) => v + 100);
    expect(await precisionRecall({ data: x, rows: 40, dim: 5 }, { data: far, rows: 40, dim: 5 })).toMatchObject({ precision: 0, recall: 0 });
  });

  it('mode collapse: high precision, low recall; swapping arguments swaps the outputs', async () => {
    const g = new Lcg(9);
    const wide = new Float64Array(300 * 2).map(() => g.normal() * 3);
    const tight = new Float64Array(100 * 2).map(() => g.normal() * 0.1);
    const a = await precisionRecall({ data: wide, rows: 300, dim: 2 }, { data: tight, rows: 100, dim: 2 });
    expect(a.precision).toBeGreaterThan(0.9);
    expect(a.recall).toBeLessThan(0.2);
    const b = await precisionRecall({ data: tight, rows: 100, dim: 2 }, { data: wide, rows: 300, dim: 2 });
    expect(b.precision).toBe(a.recall);
    expect(b.recall).toBe(a.precision);
  });

  it('is independent of tile size and row order; duplicates have radius 0', async () => {
    const x = lcgMatrix(2, 53, 6);
    const y = mix(lcgMatrix(3, 41, 6), 41, 6).map((v) => v * 0.7);
    const base = await precisionRecall({ data: x, rows: 53, dim: 6 }, { data: y, rows: 41, dim: 6 }, { tileSize: 1000 });
    for (const tileSize of [1, 4, 17]) {
      const t = await precisionRecall({ data: x, rows: 53, dim: 6 }, { data: y, rows: 41, dim: 6 }, { tileSize });
      expect([t.precision, t.recall]).toEqual([base.precision, base.recall]);
      expect(Array.from(t.realRadii)).toEqual(Array.from(base.realRadii));
    }
    const rev = new Float64Array(x.length);
    for (let i = 0; i < 53; i++) rev.set(x.subarray(i * 6, i * 6 + 6), (52 - i) * 6);
    const t = await precisionRecall({ data: rev, rows: 53, dim: 6 }, { data: y, rows: 41, dim: 6 }, { tileSize: 8 });
    expect([t.precision, t.recall]).toEqual([base.precision, base.recall]);
    // 4 copies of the same point: its 3rd neighbour is a copy at distance 0
    const dup = new Float32Array(10 * 3).map((_, i) => (i < 12 ? at([0.3, 0.1, 0.7], i % 3, 'point coordinate') : i * 0.37));
    const d = await precisionRecall(new CpuTensor(dup, [10, 3]), new CpuTensor(dup, [10, 3]), { tileSize: 3 });
    expect(Array.from(d.realRadii.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(d.realRadii[4]).toBeGreaterThan(0);
  });

  it('matches the NumPy reference', async () => {
    const ref = referenceValues().precision_recall;
    const real = lcgMatrix(ref.real_seed, ref.real_rows, ref.dim);
    const fake = mix(lcgMatrix(ref.fake_seed, ref.fake_rows, ref.dim), ref.fake_rows, ref.dim).map((v) => v * 0.8);
    const r = await precisionRecall(new CpuTensor(real, [ref.real_rows, ref.dim]), new CpuTensor(fake, [ref.fake_rows, ref.dim]), { k: ref.k, tileSize: 64 });
    expect(r.precision).toBe(ref.precision);
    expect(r.recall).toBe(ref.recall);
  });

  it('reports progress, honours AbortSignal and uses an injected gemm', async () => {
    const x = { data: lcgMatrix(5, 30, 4), rows: 30, dim: 4 };
    const events: ProgressEvent[] = [];
    let calls = 0;
    await precisionRecall(x, x, {
      tileSize: 10,
      onProgress: (e) => events.push(e),
      gemm: async (a, b, m, n, k) => {
        calls++;
        return gemmNT(a, b, m, n, k);
      },
    });
    expect(events[events.length - 1]).toMatchObject({ task: 'precision-recall', current: 6 + 6 + 9, total: 21 });
    expect(calls).toBeGreaterThan(0);
    const ac = new AbortController();
    const p = precisionRecall(x, x, { tileSize: 5, onProgress: (e) => e.current === 3 && ac.abort(), signal: ac.signal });
    await expect(p).rejects.toThrow(AbortError);
  });

  it('validates inputs', async () => {
    await expect(precisionRecall(rows1d([1, 2, 3]), rows1d([1, 2, 3, 4]))).rejects.toThrow(/needs at least 4/);
    await expect(precisionRecall({ data: new Float64Array(8), rows: 4, dim: 2 }, rows1d([1, 2, 3, 4]))).rejects.toThrow(/d = 2 but generated have d = 1/);
    await expect(precisionRecall(rows1d([1, 2, 3, 4]), rows1d([1, 2, 3, 4]), { k: 0 })).rejects.toThrow(ConfigError);
    await expect(precisionRecall(rows1d([1, 2, NaN, 4]), rows1d([1, 2, 3, 4]))).rejects.toThrow(/non-finite/);
  });
});
