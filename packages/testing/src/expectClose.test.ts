import { compareClose, expectClose, maxAbsDiff } from './expectClose.js';

test('passes within atol + rtol·|expected| and treats NaN/NaN and equal infinities as equal', () => {
  expect(() => expectClose([1, 100, 0], [1 + 1.9e-5, 100 + 1e-3, 9e-6])).not.toThrow();
  expect(() => expectClose([NaN, Infinity, -Infinity], [NaN, Infinity, -Infinity])).not.toThrow();
  expect(() => expectClose(Float32Array.of(1.5), Float64Array.of(1.5), { rtol: 0, atol: 0 })).not.toThrow();
});

test('fails with the worst index, multi-index, values and allowance', () => {
  let message = '';
  try {
    expectClose([0, 1, 2, 3.5, 4, 5.01], [0, 1, 2, 3, 4, 5], { what: 'engine output', shape: [2, 3], rtol: 0, atol: 1e-3 });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toContain('engine output: 2 of 6 elements differ');
  expect(message).toContain('Worst at index 3 [1, 0]: actual 3.5, expected 3');
  expect(message).toContain('allowed 0.001');
  expect(message).toContain('#5 [1, 2]: 5.01 vs 5');
});

test('fails on NaN against a number and on length mismatch', () => {
  expect(() => expectClose([NaN], [0])).toThrow(/1 of 1 elements differ/);
  expect(() => expectClose([1, 2], [1], { what: 'logits' })).toThrow(/logits: actual has 2 elements but expected has 1/);
});

test('compareClose reports the fraction of the allowance used', () => {
  const c = compareClose([1.5e-5], [0], { rtol: 0, atol: 1e-5 });
  expect(c.mismatches).toBe(1);
  expect(c.maxRatio).toBeCloseTo(1.5, 10);
  expect(c.worstIndex).toBe(0);
});

describe('maxAbsDiff', () => {
  it('is the largest absolute difference and refuses arrays of different lengths', () => {
    expect(maxAbsDiff([1, -2, 3.5], new Float32Array([1.25, -2, 3]))).toBe(0.5);
    expect(maxAbsDiff([], [])).toBe(0);
    expect(() => maxAbsDiff([1, 2], [1])).toThrow('lengths differ (2 vs 1)');
  });
});
