import { CpuTensor, at, type NamedTensors, type Rng } from '@bigr/core';
import { fromTensor, type F64Array } from '../reference/ndarray.js';
import { randomTensor, randomUniformTensor } from '../randomTensor.js';
import type { Feeds } from './types.js';

/** Batch sizes every dynamic-batch case is run with, on one compiled graph. */
export const DYNAMIC_BATCHES: readonly number[] = [2, 1];

/** float64 view of a feed. */
export function feed(feeds: Feeds, name: string): F64Array {
  const t = feeds[name];
  if (!t) throw new Error(`conformance case: feed "${name}" is missing.`);
  return fromTensor(t);
}

/** float64 view of a parameter. */
export function param(params: NamedTensors, name: string): F64Array {
  const t = params.get(name);
  if (!t) throw new Error(`conformance case: parameter "${name}" is missing.`);
  return fromTensor(t);
}

/** N(0, scale²) float32 tensor. */
export const normal = (rng: Rng, shape: readonly number[], scale = 1): CpuTensor => randomTensor(rng, shape, scale);

/** Uniform float32 tensor in [low, high). */
export const uniform = (rng: Rng, shape: readonly number[], low: number, high: number): CpuTensor => randomUniformTensor(rng, shape, low, high);

/** Values bounded away from zero: random sign times uniform [low, high). */
export function awayFromZero(rng: Rng, shape: readonly number[], low = 0.5, high = 2): CpuTensor {
  const t = randomUniformTensor(rng, shape, low, high);
  const signs = rng.uniformsF32(t.size);
  const data = t.data as Float32Array;
  for (const [i, s] of signs.entries()) if (s < 0.5) data[i] = -at(data, i);
  return t;
}

/** Uniform int32 tensor in [0, n). */
export function indices(rng: Rng, shape: readonly number[], n: number): CpuTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return new CpuTensor(
    Int32Array.from({ length: size }, () => rng.int(n)),
    shape,
  );
}

/** One feed set per batch size in {@link DYNAMIC_BATCHES}, made by `make(batch)`. */
export function perBatch(make: (batch: number) => Record<string, CpuTensor>): Feeds[] {
  return DYNAMIC_BATCHES.map(make);
}

/** A float32 tensor from explicit values. */
export function values(data: readonly number[], shape: readonly number[]): CpuTensor {
  return new CpuTensor(Float32Array.from(data), shape);
}
