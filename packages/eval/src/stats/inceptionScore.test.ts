import { at, CpuTensor, ConfigError, ShapeError } from '@bigr/core';
import { InceptionScoreAccumulator, inceptionScore } from './inceptionScore.js';
import { lcgMatrix } from '../test/lcg.js';
import { referenceValues } from '../test/fixtures.js';

function oneHotLogits(labels: number[], c: number, big = 50): CpuTensor<'float32'> {
  const data = new Float32Array(labels.length * c);
  labels.forEach((y, i) => {
    data[i * c + y] = big;
  });
  return new CpuTensor(data, [labels.length, c]);
}

describe('inceptionScore (docs/evaluation.md §4, §6.2)', () => {
  it('all-equal logits give IS = 1', () => {
    const r = inceptionScore(new CpuTensor(new Float32Array(30 * 7).fill(3), [30, 7]), { splitSize: 10 });
    expect(r.splitScores).toHaveLength(3);
    for (const s of r.splitScores) expect(s).toBeCloseTo(1, 14);
  });

  it('one-hot-like logits with every class in every split give IS = C', () => {
    const c = 10;
    const labels = Array.from({ length: 200 }, (_, i) => i % c);
    const r = inceptionScore(oneHotLogits(labels, c), { splitSize: 50 });
    expect(r.score).toBeCloseTo(c, 10);
    expect(r.std).toBeLessThan(1e-10);
  });

  it('class-sorted samples with splits covering m classes give IS = m (the §4.4 pitfall)', () => {
    const c = 20;
    const labels = Array.from({ length: 400 }, (_, i) => Math.floor(i / 20)); // 20 per class, sorted
    const r = inceptionScore(oneHotLogits(labels, c), { splitSize: 100 }); // each split: 5 classes
    expect(r.splitScores).toHaveLength(4);
    expect(r.score).toBeCloseTo(5, 10);
  });

  it('respects 1 ≤ IS ≤ min(C, split size), order invariance within a split and a shorter last split', () => {
    const x = lcgMatrix(3, 45, 12).map((v) => (v - 0.5) * 20);
    const r = inceptionScore({ data: x, rows: 45, dim: 12 }, { splitSize: 8 });
    expect(r.splitScores).toHaveLength(6); // 5 full + one of 5
    r.splitScores.forEach((s, i) => {
      expect(s).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(s).toBeLessThanOrEqual(Math.min(12, i === 5 ? 5 : 8) + 1e-12);
    });
    const swapped = Float64Array.from(x);
    swapped.set(x.subarray(12, 24), 0); // swap rows 0 and 1 (both in split 0)
    swapped.set(x.subarray(0, 12), 12);
    expect(inceptionScore({ data: swapped, rows: 45, dim: 12 }, { splitSize: 8 }).splitScores[0]).toBeCloseTo(at(r.splitScores, 0, 'split score'), 13);
  });

  it('matches the NumPy reference and is independent of streaming batch size', () => {
    const ref = referenceValues().inception;
    const logits = lcgMatrix(ref.seed, ref.rows, ref.classes).map((u) => (u - 0.5) * 8);
    const r = inceptionScore({ data: logits, rows: ref.rows, dim: ref.classes }, { splitSize: ref.split_size });
    r.splitScores.forEach((s, i) => {
      expect(Math.abs(s - at(ref.split_scores, i, 'reference split score'))).toBeLessThan(1e-12);
    });
    const acc = new InceptionScoreAccumulator({ splitSize: ref.split_size });
    for (let i = 0; i < ref.rows; i += 33) {
      const n = Math.min(33, ref.rows - i);
      acc.add({ data: logits.subarray(i * ref.classes, (i + n) * ref.classes), rows: n, dim: ref.classes });
    }
    expect(acc.result().splitScores).toEqual(r.splitScores);
  });

  it('handles probabilities that underflow to 0 without NaN', () => {
    const r = inceptionScore(new CpuTensor(new Float64Array([0, -2000, -2000, 0]), [2, 2]));
    expect(r.score).toBeCloseTo(2, 12);
  });

  it('supports the torch-fidelity ⌊iN/K⌋ split boundaries', () => {
    const labels = Array.from({ length: 30 }, (_, i) => i % 3);
    const r = inceptionScore(oneHotLogits(labels, 3), { numSplits: 4 });
    expect(r.splitScores).toHaveLength(4);
    expect(() => inceptionScore(oneHotLogits(labels, 3), { numSplits: 31 })).toThrow(ConfigError);
  });

  it('validates inputs', () => {
    const acc = new InceptionScoreAccumulator();
    expect(() => acc.result()).toThrow(ConfigError);
    acc.add(oneHotLogits([0], 4));
    expect(() => acc.add(oneHotLogits([0], 5))).toThrow(ShapeError);
    expect(() => new InceptionScoreAccumulator({ splitSize: 0 })).toThrow(ConfigError);
    expect(() => inceptionScore(new CpuTensor(new Float32Array([NaN, 1]), [1, 2]))).toThrow(/non-finite/);
  });
});
