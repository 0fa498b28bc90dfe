import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at, ConfigError, FormatError, required } from '@bigr/core';
import { loadFeatureStatsState, loadReferenceStats, saveFeatureStatsState, saveReferenceStats } from './referenceStats.js';
import { readNpz, writeNpz } from './npz.js';
import { FeatureStats } from '../stats/featureStats.js';
import { fixturePath } from '../test/fixtures.js';
import { lcgMatrix } from '../test/lcg.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigr-ref-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reference statistics files', () => {
  it('reads the ADM layout written by numpy (mu/sigma float64, mu_s/sigma_s float32 → float64)', async () => {
    const s = await loadReferenceStats(fixturePath('numpy-savez.npz'));
    expect(s.pool.mu.length).toBe(4);
    expect(s.pool.sigma.length).toBe(16);
    const spatial = required(s.spatial, 'spatial statistics');
    expect(spatial.mu).toBeInstanceOf(Float64Array);
    expect(Array.from(spatial.sigma)).toEqual([1, 0, 0, 1]);
    const compressed = await loadReferenceStats(fixturePath('numpy-savez-compressed.npz'));
    expect(compressed.spatial).toBeUndefined();
    expect(Array.from(compressed.pool.mu)).toEqual(Array.from(s.pool.mu));
  });

  it.each(['adm', 'pytorch-fid'] as const)('round-trips the %s layout (incl. ZIP64)', async (layout) => {
    const fs = new FeatureStats(5);
    fs.add({ data: lcgMatrix(1, 20, 5), rows: 20, dim: 5 });
    const sp = new FeatureStats(3);
    sp.add({ data: lcgMatrix(2, 20, 3), rows: 20, dim: 3 });
    const stats = { pool: fs.toGaussian(), spatial: sp.toGaussian() };
    const path = join(dir, `${layout}.npz`);
    await saveReferenceStats(path, stats, { layout, forceZip64: true });
    const names = [...(await readNpz(path)).keys()];
    expect(names).toEqual(layout === 'adm' ? ['mu', 'sigma', 'mu_s', 'sigma_s'] : ['mu', 'sigma']);
    const back = await loadReferenceStats(path);
    expect(Array.from(back.pool.sigma)).toEqual(Array.from(stats.pool.sigma));
    if (layout === 'adm') expect(Array.from(required(back.spatial, 'spatial statistics').mu)).toEqual(Array.from(stats.spatial.mu));
  });

  it('validates layouts and shapes', async () => {
    const mu = new Float64Array(2);
    await expect(saveReferenceStats(join(dir, 'x.npz'), { pool: { mu, sigma: new Float64Array(4) } }, { layout: 'adm' })).rejects.toThrow(ConfigError);
    await writeNpz(join(dir, 'bad.npz'), {
      mu: { dtype: 'float64', shape: [2], data: mu },
      sigma: { dtype: 'float64', shape: [3], data: new Float64Array(3) },
    });
    await expect(loadReferenceStats(join(dir, 'bad.npz'))).rejects.toThrow(/shape \(3\) but \(2, 2\)/);
    await writeNpz(join(dir, 'imgs.npz'), { arr_0: { dtype: 'uint8', shape: [1], data: new Uint8Array(1) } });
    await expect(loadReferenceStats(join(dir, 'imgs.npz'))).rejects.toThrow(FormatError);
  });

  it('saves and merges partial FeatureStats states', async () => {
    const x = lcgMatrix(3, 30, 4);
    const a = new FeatureStats(4);
    a.add({ data: x.subarray(0, 40), rows: 10, dim: 4 });
    const b = new FeatureStats(4);
    b.add({ data: x.subarray(40), rows: 20, dim: 4 });
    await saveFeatureStatsState(join(dir, 'a.npz'), a.toState());
    const merged = FeatureStats.fromState(await loadFeatureStatsState(join(dir, 'a.npz')));
    merged.merge(b);
    const whole = new FeatureStats(4);
    whole.add({ data: x, rows: 30, dim: 4 });
    expect(merged.count).toBe(30);
    const wholeCovariance = whole.covariance();
    expect(merged.covariance()).toHaveLength(wholeCovariance.length);
    merged.covariance().forEach((v, i) => {
      expect(v).toBeCloseTo(at(wholeCovariance, i, 'covariance entry'), 12);
    });
  });
});
