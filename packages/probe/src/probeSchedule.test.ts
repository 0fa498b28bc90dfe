import { probeLearningRate, scaledLearningRate } from './probeSchedule.js';

describe('probe learning-rate schedule (docs/evaluation.md §8.7)', () => {
  it('warms up linearly then decays with a half cosine', () => {
    const lr = (e: number) => probeLearningRate(e, 6.4, 10, 100);
    expect(lr(0)).toBe(0);
    expect(lr(5)).toBeCloseTo(3.2, 12);
    expect(lr(10)).toBeCloseTo(6.4, 12);
    expect(lr(55)).toBeCloseTo(3.2, 12);
    expect(lr(100)).toBeCloseTo(0, 12);
    expect(lr(32.5)).toBeCloseTo(5.462741699796952, 12);
  });
  it('scales the base lr by effective batch / 256', () => {
    expect(scaledLearningRate(0.1, 16384)).toBeCloseTo(6.4, 12);
  });
});
