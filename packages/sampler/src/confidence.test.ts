import { tokenConfidence, torchMeanF32 } from './confidence.js';
import { addGumbel, gumbelTemperatureAt } from './gumbel.js';

describe('confidence (docs/algorithm.md §6)', () => {
  it('margin = mean_k 2|p - 0.5|', () => {
    expect(tokenConfidence(new Float32Array(16).fill(0.5), 0, 16)).toBe(0);
    expect(
      tokenConfidence(
        Float32Array.from({ length: 16 }, (_, k) => k % 2),
        0,
        16,
      ),
    ).toBe(1);
    // 8 bits at 0.75 (margin 0.5) and 8 at 0.0 (margin 1) -> 0.75
    const p = Float32Array.from({ length: 16 }, (_, k) => (k < 8 ? 0.75 : 0));
    expect(tokenConfidence(p, 0, 16)).toBe(0.75);
    // offset into a larger array
    const big = new Float32Array(48).fill(0.5);
    big.set(p, 16);
    expect(tokenConfidence(big, 16, 16)).toBe(0.75);
  });

  it("entropy = 1 - mean_k H(p) in bits (the paper's Eq. 8)", () => {
    expect(tokenConfidence(new Float32Array(4).fill(0.5), 0, 4, 'entropy')).toBe(0);
    expect(tokenConfidence(Float32Array.of(0, 1, 0, 1), 0, 4, 'entropy')).toBe(1);
    const h = -(0.25 * Math.log2(0.25) + 0.75 * Math.log2(0.75)); // 0.8112781244591328
    expect(tokenConfidence(Float32Array.of(0.25, 0.25, 0.5, 1), 0, 4, 'entropy')).toBeCloseTo(1 - (2 * h + 1) / 4, 6);
  });

  it('the two measures rank tokens differently (why the code version is the default)', () => {
    // token A: all bits at 0.8 (margin 0.6, 1 - H = 0.278); token B (margin 0.5, 1 - H = 0.5): half the bits certain, half at 0.5
    const a = new Float32Array(4).fill(0.8);
    const b = Float32Array.of(1, 1, 0.5, 0.5);
    expect(tokenConfidence(a, 0, 4, 'margin')).toBeGreaterThan(tokenConfidence(b, 0, 4, 'margin'));
    expect(tokenConfidence(a, 0, 4, 'entropy')).toBeLessThan(tokenConfidence(b, 0, 4, 'entropy'));
  });

  it('sums 16 values in torch AVX2 order: lanes d[k] + d[k+8], then lanes left to right', () => {
    const e = 2 ** -24;
    const d = new Float32Array(16);
    d[0] = 1;
    d[8] = e; // lane 0: 1 + 2^-24 rounds to 1
    d[1] = e;
    d[9] = e; // lane 1: 2^-23
    // torch: 1 + 2^-23 (representable); a sequential float32 sum would give 1 (each 2^-24 is lost)
    expect(torchMeanF32(d, 0, 16)).toBe(Math.fround((1 + 2 ** -23) / 16));
    let seq = 0;
    for (const x of d) seq = Math.fround(seq + x);
    expect(seq / 16).toBe(1 / 16);
  });

  it('agrees with a float64 mean to float32 precision for any K', () => {
    for (const K of [1, 3, 4, 5, 7, 8, 12, 16, 20, 24, 32, 40, 64, 100]) {
      const v = Float32Array.from({ length: K }, (_, i) => Math.abs(Math.sin(i * 12.9898 + K)));
      const ref = Array.from(v).reduce((a, b) => a + b, 0) / K;
      expect(Math.abs(torchMeanF32(v, 0, K) - ref)).toBeLessThan(1e-6);
    }
  });
});

describe('Gumbel noise (docs/algorithm.md §6)', () => {
  it('follows the constant / down / up schedules', () => {
    expect(gumbelTemperatureAt(0.5, 'constant', 3, 4)).toBe(0.5);
    expect(gumbelTemperatureAt(0.4, 'down', 0, 4)).toBeCloseTo(0.3, 15);
    expect(gumbelTemperatureAt(0.4, 'down', 3, 4)).toBe(0);
    expect(gumbelTemperatureAt(0.4, 'up', 0, 4)).toBeCloseTo(0.1, 15);
    expect(gumbelTemperatureAt(0.4, 'up', 3, 4)).toBe(0.4);
    expect(() => gumbelTemperatureAt(-1, 'constant', 0, 4)).toThrow(/>= 0/);
  });

  it('adds float32(τ·g) in float32 and keeps −∞', () => {
    const g = 1.2345678901234567;
    expect(addGumbel(0.5, 0.17, g)).toBe(Math.fround(0.5 + Math.fround(0.17 * g)));
    expect(addGumbel(Number.NEGATIVE_INFINITY, 0.17, g)).toBe(Number.NEGATIVE_INFINITY);
    expect(addGumbel(0.25, 0, g)).toBe(0.25);
  });
});
