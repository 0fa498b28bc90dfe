import { ConfigError } from './errors.js';
import { constantLr, learningRateAt, lrScheduleFunction, parseLrSchedule, stepDecayLr, warmupCosineLr, type LrSchedule } from './lrSchedule.js';

describe('learning-rate schedules', () => {
  const p = { lr: 1e-3, minLr: 1e-5, warmupSteps: 100, totalSteps: 1100 };

  it('warmup + cosine matches its closed form at landmark and random steps', () => {
    expect(warmupCosineLr(0, p)).toBe(0);
    expect(warmupCosineLr(50, p)).toBeCloseTo(5e-4, 15);
    expect(warmupCosineLr(100, p)).toBeCloseTo(1e-3, 15);
    expect(warmupCosineLr(600, p)).toBeCloseTo((1e-3 + 1e-5) / 2, 15); // halfway: cos(π/2) = 0
    expect(warmupCosineLr(1100, p)).toBe(1e-5);
    expect(warmupCosineLr(5000, p)).toBe(1e-5);
    // quarter point: ½(1 + cos(π/4))
    expect(warmupCosineLr(350, p)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + Math.SQRT1_2), 15);
    for (const s of [101, 333.5, 777, 1099]) {
      expect(warmupCosineLr(s, p)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + Math.cos((Math.PI * (s - 100)) / 1000)), 15);
    }
    let prev = Number.POSITIVE_INFINITY;
    for (let s = 100; s <= 1200; s += 10) {
      const v = warmupCosineLr(s, p);
      expect(v).toBeLessThanOrEqual(prev);
      prev = v;
    }
  });

  it('the released BiGR setting (warmup 0, minLr = lr) is constant; constant and step decay', () => {
    for (const s of [0, 1, 1e6]) expect(warmupCosineLr(s, { lr: 1e-4, minLr: 1e-4, warmupSteps: 0, totalSteps: 0 })).toBe(1e-4);
    expect(constantLr(123, 1e-4)).toBe(1e-4);
    const sd = { lr: 1, factor: 0.1, milestones: [10, 20] };
    expect([0, 9, 10, 19, 20, 1000].map((s) => stepDecayLr(s, sd))).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2]);
    expect(() => constantLr(-1, 1)).toThrow(ConfigError);
  });

  it('schedules are JSON values; parseLrSchedule validates them', () => {
    const s: LrSchedule = { kind: 'warmupCosine', ...p };
    const back = parseLrSchedule(JSON.parse(JSON.stringify(s)));
    expect(back).toEqual(s);
    expect(learningRateAt(back, 600)).toBe(warmupCosineLr(600, p));
    expect(lrScheduleFunction({ kind: 'constant', lr: 2 })(5)).toBe(2);
    expect(lrScheduleFunction({ kind: 'stepDecay', lr: 1, factor: 0.5, milestones: [1] })(3)).toBe(0.5);
    expect(() => parseLrSchedule({ kind: 'linear' })).toThrow(/unknown/);
    expect(() => parseLrSchedule({ kind: 'constant', lr: -1 })).toThrow(/lr = -1/);
    expect(() => parseLrSchedule({ kind: 'warmupCosine', lr: 1, minLr: 0, warmupSteps: 10, totalSteps: 5 })).toThrow(/totalSteps 5 < warmupSteps 10/);
    expect(() => parseLrSchedule({ kind: 'stepDecay', lr: 1, factor: 0.1, milestones: [5, 2] })).toThrow(/ascending/);
    expect(() => parseLrSchedule(null)).toThrow(ConfigError);
  });
});
