import { createRng } from '@bigr/core';
import { randomTensor, randomUniformTensor } from './randomTensor.js';

test('randomTensor is float32 N(0, scale²), deterministic per seed', () => {
  const a = randomTensor(createRng(7), [100, 50], 3);
  const b = randomTensor(createRng(7), [100, 50], 3);
  expect(a.dtype).toBe('float32');
  expect(a.shape).toEqual([100, 50]);
  expect([...a.data]).toEqual([...b.data]);
  const d = a.data as Float32Array;
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  expect(Math.abs(mean)).toBeLessThan(0.15); // 4 standard errors of the mean (3/√5000 ≈ 0.042)
  expect(Math.abs(sd - 3)).toBeLessThan(0.15);
  expect([...randomTensor(createRng(8), [3]).data]).not.toEqual([...randomTensor(createRng(7), [3]).data]);
});

test('randomUniformTensor stays in [low, high)', () => {
  const t = randomUniformTensor(createRng(1), [1000], -2, 5);
  expect(Math.min(...t.data)).toBeGreaterThanOrEqual(-2);
  expect(Math.max(...t.data)).toBeLessThan(5);
});
