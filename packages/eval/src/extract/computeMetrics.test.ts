import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, at, ConfigError, CpuTensor, required, ShapeError, type ProgressEvent } from '@bigr/core';
import { computeMetrics } from './computeMetrics.js';
import { createPooledPixelExtractor } from './pooledPixelExtractor.js';
import { streamImageSource, tensorImageSource } from './imageSource.js';
import { openReferenceBatch } from './referenceBatch.js';
import { NpzWriter } from '../io/npz.js';
import { saveReferenceStats } from '../io/referenceStats.js';
import { FeatureStats } from '../stats/featureStats.js';
import { Lcg } from '../test/lcg.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigr-metrics-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n random 16×16 RGB images: smooth blobs whose brightness depends on a latent class. */
function images(seed: number, n: number, shift = 0): CpuTensor<'uint8'> {
  const g = new Lcg(seed);
  const data = new Uint8Array(n * 16 * 16 * 3);
  for (let i = 0; i < n; i++) {
    const cls = g.int(10);
    const cx = g.next() * 16;
    const cy = g.next() * 16;
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++)
        for (let c = 0; c < 3; c++) {
          const v = 20 * cls + 60 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 20) + 30 * g.next() + shift + 10 * c;
          data[((i * 16 + y) * 16 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  return new CpuTensor(data, [n, 16, 16, 3]);
}

describe('computeMetrics (pipeline with the deterministic fake extractor)', () => {
  const extractor = createPooledPixelExtractor({ grid: 3, spatialGrid: 2, numClasses: 10 });
  const real = images(1, 120);

  it('reference against itself: FID ≈ 0, sFID ≈ 0, P/R = (1, 1), IS as computed directly', async () => {
    const path = join(dir, 'ref.npz');
    const w = await NpzWriter.create(path, { zip64: true });
    await w.add('arr_0', { dtype: 'uint8', shape: [...real.shape], data: real.data });
    await w.add('arr_1', { dtype: 'int64', shape: [120], data: new BigInt64Array(120) });
    await w.close();
    const ref = await openReferenceBatch(path);
    expect(ref.stats).toBeUndefined();
    const refImages = required(ref.images, 'reference images');
    expect(refImages.count).toBe(120);
    const events: ProgressEvent[] = [];
    const r = await computeMetrics(refImages, ref, extractor, { batchSize: 7, isSplitSize: 50, onProgress: (e) => events.push(e), tileSize: 32 });
    await ref.close();
    expect(r.referenceStats).toBe('computed');
    // docs/evaluation.md §6.2: identical statistics → |FID| ≤ 1e-10·(tr Σ₁ + tr Σ₂)
    const fid = required(r.fid, 'FID result');
    const sfid = required(r.sfid, 'sFID result');
    expect(Math.abs(fid.value)).toBeLessThanOrEqual(1e-10 * (fid.traceSigma1 + fid.traceSigma2));
    expect(Math.abs(sfid.value)).toBeLessThanOrEqual(1e-10 * (sfid.traceSigma1 + sfid.traceSigma2));
    expect(r.precisionRecall).toEqual({ precision: 1, recall: 1, k: 3 });
    const is = required(r.inceptionScore, 'Inception Score result');
    expect(is.splitScores).toHaveLength(3);
    expect(is.score).toBeGreaterThan(1);
    expect(r.generatedCount).toBe(120);
    expect(r.referenceImageCount).toBe(120);
    const tasks = new Set(events.map((e) => e.task));
    expect([...tasks]).toEqual(['eval-generated', 'eval-reference', 'fid', 'sfid', 'precision-recall']);
    for (const t of tasks) {
      const ev = events.filter((e) => e.task === t);
      const last = at(ev, ev.length - 1, 'last progress event');
      expect(last.current).toBe(last.total);
      for (const [i, e] of ev.entries()) if (i > 0) expect(e.current).toBeGreaterThanOrEqual(at(ev, i - 1, 'progress event').current);
    }
  });

  it('uses stored statistics (ADM rule) and matches a direct computation; worse samples give a larger FID', async () => {
    const feats = await extractor.extract(real);
    const pool = new FeatureStats(extractor.featureDim);
    pool.add(feats.pool);
    const sp = new FeatureStats(required(extractor.spatialDim, 'spatial feature dimension'));
    sp.add(required(feats.spatial, 'spatial features'));
    const path = join(dir, 'stats.npz');
    await saveReferenceStats(path, { pool: pool.toGaussian(), spatial: sp.toGaussian() }, { layout: 'adm' });
    const ref = await openReferenceBatch(path);
    expect(ref.images).toBeUndefined();
    const near = await computeMetrics(tensorImageSource(images(2, 120)), ref, extractor);
    const far = await computeMetrics(tensorImageSource(images(3, 120, 40)), ref, extractor);
    await ref.close();
    expect(near.referenceStats).toBe('stored');
    expect(near.precisionRecall).toBeUndefined();
    const nearFid = required(near.fid, 'FID of the near samples').value;
    const nearSfid = required(near.sfid, 'sFID of the near samples').value;
    expect(nearFid).toBeGreaterThan(0);
    expect(required(far.fid, 'FID of the far samples').value).toBeGreaterThan(nearFid);
    expect(required(far.sfid, 'sFID of the far samples').value).toBeGreaterThan(nearSfid);
  });

  it('computes KID when asked, accepts float NCHW model outputs and one-shot streams', async () => {
    async function* floatBatches() {
      const g = new Lcg(5);
      for (let b = 0; b < 4; b++) {
        const t = new CpuTensor(
          new Float32Array(10 * 3 * 16 * 16).map(() => g.next() * 2 - 1),
          [10, 3, 16, 16],
        );
        yield t as never;
      }
    }
    const r = await computeMetrics(streamImageSource(40, floatBatches()), { images: tensorImageSource(real) }, extractor, {
      metrics: ['fid', 'kid'],
      kid: { rng: new Lcg(1), numSubsets: 5, subsetSize: 30 },
    });
    const kid = required(r.kid, 'KID result');
    expect(kid.values).toHaveLength(5);
    expect(kid.mean).toBeGreaterThan(0);
    expect(r.fid?.warnings).toEqual([]); // N = 40 > d = 9
  });

  it('rejects infeasible requests, bad extractor output and honours AbortSignal', async () => {
    const src = tensorImageSource(real);
    await expect(computeMetrics(src, {}, extractor)).rejects.toThrow(/neither/);
    await expect(computeMetrics(src, { images: src }, extractor, { metrics: ['kid'] })).rejects.toThrow(/seeded rng/);
    const noLogits = { ...extractor, numClasses: undefined };
    await expect(computeMetrics(src, { images: src }, noLogits, { metrics: ['is'] })).rejects.toThrow(ConfigError);
    const broken = { ...extractor, extract: async () => ({ pool: CpuTensor.zeros('float32', [1, 9]) }) };
    await expect(computeMetrics(src, { images: src }, broken, { metrics: ['fid'] })).rejects.toThrow(ShapeError);
    const ac = new AbortController();
    await expect(
      computeMetrics(src, { images: src }, extractor, { batchSize: 10, signal: ac.signal, onProgress: (e) => e.current >= 20 && ac.abort() }),
    ).rejects.toThrow(AbortError);
    await expect(computeMetrics(streamImageSource(50, (async function* () {})()), { images: src }, extractor, { metrics: ['fid'] })).rejects.toThrow(
      /declared 50 images but delivered 0|delivered 0 images/,
    );
  });
});
