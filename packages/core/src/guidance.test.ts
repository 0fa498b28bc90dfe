import { flipToZeroProbability, guidedLogit } from './guidance.js';

/** Rounds through a Float32Array store (not Math.fround), as a float32 tensor element does. */
function store32(x: number): number {
  return new Float32Array([x])[0] ?? Number.NaN;
}

/** ℓ_u + s·(ℓ_c − ℓ_u) after /τ, rounded after every operation; a Python float scale is rounded to float32 against a float32 tensor. */
function float32Reference(lc: number, lu: number, s: number, tau: number): number {
  const c = store32(lc / tau);
  const u = store32(lu / tau);
  return store32(u + store32(store32(s) * store32(c - u)));
}

describe('guidedLogit', () => {
  it('combines logits as l_u/τ + s(l_c/τ − l_u/τ)', () => {
    expect(guidedLogit(1, -1, 2.5)).toBe(4);
    expect(guidedLogit(1, -1, 2.5, 0.5)).toBe(8);
    expect(guidedLogit(0.3, 0.3, 7)).toBe(Math.fround(0.3));
  });

  it('rounds like float32 tensors, also for scales float32 cannot hold (the linear schedule)', () => {
    for (const [lc, lu, s, tau] of [
      [0.7, -0.2, 1.075, 1],
      [2.3, 1.9, 1.1, 0.9],
      [-3.1, 0.45, 1 + 1.5 * (3 / 20), 1.3],
    ] as const) {
      const g = guidedLogit(lc, lu, s, tau);
      expect(g).toBe(float32Reference(lc, lu, s, tau));
      // And within float32 rounding of the exact value.
      expect(Math.abs(g - (lu / tau + s * (lc / tau - lu / tau)))).toBeLessThan(1e-6 * (1 + Math.abs(g)));
    }
  });
});

describe('flipToZeroProbability', () => {
  it('is σ(ℓ) at bit 0 and 1 − σ(ℓ) at bit 1', () => {
    expect(flipToZeroProbability(0, 0)).toBe(0.5);
    expect(flipToZeroProbability(Math.log(3), 0)).toBeCloseTo(0.75, 6);
    expect(flipToZeroProbability(Math.log(3), 1)).toBeCloseTo(0.25, 6);
  });
});
