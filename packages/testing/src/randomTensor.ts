import { CpuTensor, type Rng } from '@bigr/core';

/**
 * A float32 tensor of independent N(0, scale²) values from `rng` (row-major `rng.normalsF32`, then multiplied by
 * `scale` and rounded to float32). Same rng state → same values.
 */
export function randomTensor(rng: Rng, shape: readonly number[], scale = 1): CpuTensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = rng.normalsF32(n);
  if (scale !== 1) for (const [i, v] of data.entries()) data[i] = v * scale;
  return new CpuTensor(data, shape);
}

/** A float32 tensor of independent uniform values in [low, high) from `rng` (row-major `rng.uniformsF32`). */
export function randomUniformTensor(rng: Rng, shape: readonly number[], low: number, high: number): CpuTensor<'float32'> {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = rng.uniformsF32(n);
  for (const [i, v] of data.entries()) data[i] = low + (high - low) * v;
  return new CpuTensor(data, shape);
}
