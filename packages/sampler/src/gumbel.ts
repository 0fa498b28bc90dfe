/**
 * Gumbel noise on the confidence (docs/algorithm.md §6): conf ← conf + τ_g(r)·G, G standard Gumbel.
 */
import { ConfigError } from '@bigr/core';

/** 'constant': τ_g; 'down': τ_g·(1 − r); 'up': τ_g·r, with r = (step+1)/I. */
export type GumbelSchedule = 'constant' | 'down' | 'up';

/** Gumbel temperature at iteration `step` (0-based) of `iterations`, float64 like the official loop. */
export function gumbelTemperatureAt(temperature: number, schedule: GumbelSchedule, step: number, iterations: number): number {
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new ConfigError(`Gumbel temperature ${temperature} is invalid; pass a number >= 0 (e.g. 0.17 for BiGR-L).`);
  }
  const ratio = (1.0 * (step + 1)) / iterations;
  switch (schedule) {
    case 'constant':
      return temperature;
    case 'down':
      return temperature * (1 - ratio);
    case 'up':
      return temperature * ratio;
    default:
      throw new ConfigError(`Unknown Gumbel schedule ${JSON.stringify(schedule)}; expected 'constant', 'down' or 'up'.`);
  }
}

/**
 * Adds scaled Gumbel noise to a float32 confidence the way the official code does:
 * `float32(conf) + float32(float64(τ)·g)` (the product is formed in float64 by NumPy, then cast by torch).
 * −∞ stays −∞.
 */
export function addGumbel(confidence: number, temperature: number, gumbel: number): number {
  return Math.fround(confidence + Math.fround(temperature * gumbel));
}
