/**
 * Classifier-free guidance: the per-iteration scale schedule (docs/algorithm.md §6) and the logit-space combination the
 * transcoder applies at every diffusion step (docs/algorithm.md §4.3).
 */
import { ConfigError } from '@bigr/core';

/** 'constant': s at every iteration; 'linear': 1 + (s − 1)·r with r = (step+1)/I (ramps up to s). */
export type CfgSchedule = 'constant' | 'linear';

/** Guidance scale used at iteration `step` (0-based) of `iterations`, in float64 like the official loop. */
export function cfgScaleAt(scale: number, schedule: CfgSchedule, step: number, iterations: number): number {
  if (!Number.isFinite(scale)) throw new ConfigError(`CFG scale ${scale} is not finite; pass e.g. 2.5.`);
  if (schedule === 'constant') return scale;
  if (schedule === 'linear') {
    const ratio = (1.0 * (step + 1)) / iterations;
    return 1 + (scale - 1) * ratio;
  }
  throw new ConfigError(`Unknown CFG schedule ${JSON.stringify(schedule)}; expected 'constant' or 'linear'.`);
}

/**
 * Guided flip logit ℓ = ℓ_u/τ + s·(ℓ_c/τ − ℓ_u/τ), in float32 arithmetic like the official sampler
 * (docs/algorithm.md §4.3: after the temperature, before the flip). Exposed for predictors and tests.
 */
export function guidedLogit(condLogit: number, uncondLogit: number, scale: number, temperature = 1): number {
  const f = Math.fround;
  const lc = f(condLogit / temperature);
  const lu = f(uncondLogit / temperature);
  return f(lu + f(f(scale) * f(lc - lu)));
}

/**
 * P(z0 = 1) from the guided flip logit and the current bit x_t (p_flip models): q = σ(ℓ), p0 = x ? 1 − q : q.
 */
export function flipToZeroProbability(guided: number, currentBit: 0 | 1): number {
  const q = Math.fround(1 / (1 + Math.exp(-guided)));
  return currentBit === 1 ? Math.fround(1 - q) : q;
}
