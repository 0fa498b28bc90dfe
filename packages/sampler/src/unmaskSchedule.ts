/**
 * How many tokens each unmasking iteration commits (docs/algorithm.md §6, §8.1).
 */
import { ConfigError } from '@bigr/core';

/**
 * Shape of the mask-rate curve. 'cosine' (generation, docs/algorithm.md §6): mask_rate = cos(π/2·r). 'linear' (the
 * official inpainting default, docs/algorithm.md §8.1): mask_rate = 1 − r. r = (step+1)/I.
 */
export type UnmaskScheduleKind = 'cosine' | 'linear';

/** Fraction of the budget still masked after iteration `step` (0-based) of `iterations`, in float64 like NumPy. */
export function maskRate(kind: UnmaskScheduleKind, step: number, iterations: number): number {
  const ratio = (1.0 * (step + 1)) / iterations;
  if (kind === 'cosine') return Math.cos((Math.PI / 2.0) * ratio);
  if (kind === 'linear') return 1.0 - ratio;
  throw new ConfigError(`Unknown unmask schedule ${JSON.stringify(kind)}; expected 'cosine' or 'linear'.`);
}

/**
 * Tokens committed at each of `iterations` steps out of a budget of `total` tokens, exactly as the official loop:
 * `new = floor(maskRate·total)`, `count = old − new`, `old ← new`, starting from `old = total`. Counts can be 0
 * (e.g. 16 tokens in 20 iterations) and always sum to `total`, since the rate reaches 0 (cos(π/2) ≈ 6e-17) at
 * the last step.
 */
export function unmaskCounts(total: number, iterations: number, kind: UnmaskScheduleKind = 'cosine'): Int32Array {
  if (!Number.isInteger(total) || total < 0)
    throw new ConfigError(`Unmask budget ${total} is not a non-negative integer; pass the number of tokens to generate.`);
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new ConfigError(`Iterations ${iterations} is not a positive integer; pass e.g. 20 (BiGR-L) or 25 (XL/XXL).`);
  const counts = new Int32Array(iterations);
  let old = total;
  for (let step = 0; step < iterations; step++) {
    const next = Math.floor(maskRate(kind, step, iterations) * total);
    counts[step] = old - next;
    old = next;
  }
  return counts;
}

/** Masked-token counts entering each iteration (the official `masked_before_iter`), for a budget of `total`. */
export function maskedBeforeIterations(total: number, iterations: number, kind: UnmaskScheduleKind = 'cosine'): Int32Array {
  const counts = unmaskCounts(total, iterations, kind);
  const out = new Int32Array(iterations);
  let left = total;
  for (const [i, count] of counts.entries()) {
    out[i] = left;
    left -= count;
  }
  return out;
}
