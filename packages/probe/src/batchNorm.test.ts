import { BatchNormNoAffine } from './batchNorm.js';

describe('BatchNorm without affine (docs/evaluation.md §8.7)', () => {
  it('normalises with batch statistics and updates running stats', () => {
    const bn = new BatchNormNoAffine(2, 1e-6, 0.1);
    const out = bn.forwardTrain(new Float32Array([1, 10, 3, 14, 5, 12]), 3);
    const s = 2 / Math.sqrt(8 / 3 + 1e-6); // both columns: deviation 2, biased variance 8/3 → ±1.2247446
    expect(out[0]).toBeCloseTo(-s, 5);
    expect(out[2]).toBeCloseTo(0, 6);
    expect(out[4]).toBeCloseTo(s, 5);
    expect(out[1]).toBeCloseTo(-s, 5);
    expect(out[3]).toBeCloseTo(s, 5);
    expect(out[5]).toBeCloseTo(0, 6);
    expect(bn.runningMean[0]).toBeCloseTo(0.3, 12);
    expect(bn.runningMean[1]).toBeCloseTo(1.2, 12);
    expect(bn.runningVar[0]).toBeCloseTo(1.3, 12);
    expect(bn.runningVar[1]).toBeCloseTo(1.3, 12);
  });
  it('eval mode uses running statistics', () => {
    const bn = new BatchNormNoAffine(1, 0);
    bn.runningMean[0] = 2;
    bn.runningVar[0] = 4;
    expect(Array.from(bn.forwardEval(new Float32Array([6, 0]), 2))).toEqual([2, -1]);
  });
});
