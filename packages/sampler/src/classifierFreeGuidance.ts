/**
 * Classifier-free guidance: the per-iteration scale schedule (docs/algorithm.md §6). The logit-space combination the
 * transcoder applies at every diffusion step (docs/algorithm.md §4.3) is `guidedLogit` of `@bigr/core`.
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
