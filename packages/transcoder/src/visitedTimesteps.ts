/**
 * The timesteps the reverse process visits when sampling with S of the T training steps (docs/algorithm.md §4.3).
 */
import { ConfigError } from '@bigr/core';

/**
 * Visited t values in execution order (descending, T … 1). S = T visits every step. Otherwise, as the official
 * sampler: idx_k = trunc(linspace(0, 1, S)[k]·(T − 1)) with NumPy's float64 linspace (k·(1/(S−1)), last element
 * exactly 1), t_k = idx_k + 1, reversed. Example T = 256, S = 10: 256, 227, 199, 171, 142, 114, 86, 57, 29, 1.
 */
export function visitedTimesteps(T: number, S: number): Int32Array {
  if (!Number.isInteger(T) || T < 1) throw new ConfigError(`Diffusion timesteps T = ${String(T)} is invalid; use a positive integer.`);
  if (!Number.isInteger(S) || S < 1 || S > T) {
    throw new ConfigError(`Inference steps S = ${String(S)} is invalid for T = ${T}; use an integer 1 <= S <= T.`);
  }
  const out = new Int32Array(S);
  if (S === T) {
    for (let i = 0; i < S; i++) out[i] = T - i;
    return out;
  }
  const step = S > 1 ? 1 / (S - 1) : Number.NaN;
  for (let k = 0; k < S; k++) {
    // NumPy linspace(0, 1, S): y_k = k * step (start 0), with the endpoint set exactly to 1.
    const y = S === 1 ? 0 : k === S - 1 ? 1 : k * step;
    const idx = Math.trunc(y * (T - 1));
    out[S - 1 - k] = idx + 1;
  }
  return out;
}
