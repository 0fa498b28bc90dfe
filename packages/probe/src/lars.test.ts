import { Lars } from './lars.js';

// Known answers from docs/evaluation.md §8.7 (hand-computed from the MAE LARS definition).
describe('LARS', () => {
  it('matches the one- and two-step hand computations', () => {
    const w = new Float32Array([3, 4]);
    const b = new Float32Array([1]);
    const lars = new Lars([{ value: w, rank: 2 }, { value: b, rank: 1 }], { momentum: 0.9, trustCoefficient: 0.001 });
    lars.step([new Float32Array([0, 1]), new Float32Array([0.5])], 0.1);
    expect(w[0]).toBeCloseTo(3, 6);
    expect(w[1]).toBeCloseTo(3.9995, 6);
    expect(b[0]).toBeCloseTo(0.95, 6);
    lars.step([new Float32Array([0, 1]), new Float32Array([0.5])], 0.1);
    expect(w[1]).toBeCloseTo(3.9985500399991, 6);
    expect(b[0]).toBeCloseTo(0.855, 6);
  });
  it('applies weight decay before the trust ratio', () => {
    const w = new Float32Array([3, 4]);
    new Lars([{ value: w, rank: 2 }], { weightDecay: 0.5 }).step([new Float32Array([0, 1])], 0.1);
    expect(w[0]).toBeCloseTo(2.99977639320225, 6);
    expect(w[1]).toBeCloseTo(3.9995527864045, 6);
  });
  it('falls back to a plain momentum-SGD step when the weight norm is zero', () => {
    const w = new Float32Array([0, 0]);
    new Lars([{ value: w, rank: 2 }]).step([new Float32Array([1, -2])], 0.1);
    expect(Array.from(w)).toEqual([expect.closeTo(-0.1, 7), expect.closeTo(0.2, 7)]);
  });
});
