import { CpuTensor, required, ShapeError } from '@bigr/core';
import { bitAccuracy } from './bitAccuracy.js';
import { CodeUsageAccumulator, binaryEntropy } from './codeUsage.js';

describe('bitAccuracy', () => {
  it('counts equal bits for uint8 and float codes', () => {
    const a = new CpuTensor(Uint8Array.from([0, 1, 1, 0, 1, 1]), [1, 2, 3]);
    const b = new CpuTensor(Uint8Array.from([0, 1, 0, 0, 0, 1]), [1, 2, 3]);
    expect(bitAccuracy(a, b)).toEqual({ accuracy: 4 / 6, matches: 4, total: 6 });
    const f = new CpuTensor(Float32Array.from([0, 1, 1, 0, 1, 1]), [1, 2, 3]);
    expect(bitAccuracy(f, f).accuracy).toBe(1);
    expect(() => bitAccuracy(a, new CpuTensor(new Uint8Array(6), [2, 3]))).toThrow(ShapeError);
    expect(() => bitAccuracy(new CpuTensor(Float32Array.from([0.5]), [1]), new CpuTensor(Float32Array.from([1]), [1]))).toThrow(/only 0 and 1/);
  });
});

describe('CodeUsageAccumulator', () => {
  it('per-bit entropy and pattern usage on a constructed code set', () => {
    // K = 2; tokens: 00, 01, 10, 11, 11, 11 (bit 0 = first element)
    const acc = new CodeUsageAccumulator(2);
    acc.add(new CpuTensor(Uint8Array.from([0, 0, 1, 0, 0, 1]), [1, 3, 2]));
    acc.add(new CpuTensor(Uint8Array.from([1, 1, 1, 1, 1, 1]), [1, 3, 2]));
    const r = acc.result();
    expect(r.tokens).toBe(6);
    expect(Array.from(r.bitOneFrequency)).toEqual([4 / 6, 4 / 6]);
    expect(r.bitEntropy[0]).toBeCloseTo(binaryEntropy(2 / 3), 15);
    expect(r.distinctPatterns).toBe(4);
    expect(r.patternUsage).toBe(1);
    const p = [1 / 6, 1 / 6, 1 / 6, 3 / 6];
    expect(r.patternEntropy).toBeCloseTo(-p.reduce((s, x) => s + x * Math.log2(x), 0), 14);
    expect(r.patternPerplexity).toBeCloseTo(2 ** required(r.patternEntropy, 'pattern entropy'), 14);
    expect(r.exact).toBe(true);
  });

  it('uniform bits have entropy 1; wide codes use string keys; the pattern cap makes stats inexact', () => {
    const k = 60;
    const acc = new CodeUsageAccumulator(k, { maxDistinctPatterns: 3 });
    const bits = new Uint8Array(4 * k);
    for (let t = 0; t < 4; t++) for (let j = 0; j < k; j++) bits[t * k + j] = (t >> (j % 2)) & 1;
    acc.add(new CpuTensor(bits, [4, k]));
    const r = acc.result();
    expect(r.meanBitEntropy).toBe(1);
    expect(r.distinctPatterns).toBe(3);
    expect(r.exact).toBe(false);
    expect(r.patternEntropy).toBeUndefined();
    expect(() => acc.add(new CpuTensor(new Uint8Array(3), [1, 3]))).toThrow(/K = 60/);
    expect(() => new CodeUsageAccumulator(2).add(new CpuTensor(Uint8Array.from([2, 0]), [1, 2]))).toThrow(/only 0 and 1/);
  });
});
