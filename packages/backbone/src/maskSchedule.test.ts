import { cosineMaskCount, drawMaskCount, drawTrainingMasks } from './maskSchedule.js';
import { rngFor } from './test/helpers.js';

describe('training mask schedule', () => {
  it('cosine counts match docs/algorithm.md §12', () => {
    expect(cosineMaskCount(0, 256)).toBe(256);
    expect(cosineMaskCount(128, 256)).toBe(181);
    expect(cosineMaskCount(255, 256)).toBe(1);
    for (let s = 0; s < 256; s++) {
      const c = cosineMaskCount(s, 256);
      expect(c).toBeGreaterThanOrEqual(1);
      expect(c).toBe(Math.max(1, Math.floor(256 * Math.cos((Math.PI / 2) * (s / 256)))));
    }
  });

  it('every sample gets the same count at random positions; same seed → same masks', () => {
    const a = drawTrainingMasks(8, 64, rngFor(1));
    const b = drawTrainingMasks(8, 64, rngFor(1));
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
    for (let i = 0; i < 8; i++) expect(a.mask.subarray(i * 64, i * 64 + 64).reduce((x, y) => x + y, 0)).toBe(a.count);
    expect(Array.from(a.mask.subarray(0, 64))).not.toEqual(Array.from(a.mask.subarray(64, 128)));
  });

  it('the cosine count distribution has mean ≈ N·2/π and MAGE stays in [N/2, N]', () => {
    const rng = rngFor(2);
    let sum = 0;
    for (let i = 0; i < 4000; i++) sum += drawMaskCount(256, rng);
    expect(sum / 4000 / 256).toBeCloseTo(2 / Math.PI, 1);
    for (let i = 0; i < 500; i++) {
      const c = drawMaskCount(256, rng, 'mage');
      expect(c).toBeGreaterThanOrEqual(128);
      expect(c).toBeLessThanOrEqual(256);
    }
  });
});
