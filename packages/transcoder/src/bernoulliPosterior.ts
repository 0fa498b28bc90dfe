/**
 * One reverse step of the Bernoulli diffusion over a skipped interval t → t' (docs/algorithm.md §4.3):
 * P(z_{t'} = 1 | z_t = x, predicted P(z_0 = 1) = p) = A1·L1 / (A1·L1 + A0·L0) with the prior
 * A1 = k_{t'}·p + b_{t'}, A0 = k_{t'}·(1−p) + b_{t'} and the likelihood L1 = κ·x + ½(1−κ), L0 = κ·(1−x) + ½(1−κ),
 * κ = Π_{u=t'+1…t} β̄_u.
 */
import { required, ConfigError } from '@bigr/core';
import type { BernoulliNoiseSchedule, ScheduleBuffers } from './noiseSchedule.js';
import { skipKeepProbability } from './noiseSchedule.js';

const f32 = Math.fround;

/**
 * Float32 coefficients of one reverse step, computed like the official code: the likelihood vector [x, 1−x] is pushed
 * through the one-step transitions t, t−1, …, t'+1 in sequence (float32), and the prior uses the float32 buffers.
 */
export interface ReverseStepCoefficients {
  /** Current step t. */
  readonly t: number;
  /** Next visited step t' (< t). */
  readonly tPrev: number;
  /** k_{t'} (float32). */
  readonly kPrev: number;
  /** b_{t'} (float32). */
  readonly bPrev: number;
  /** [L1, L0] when x_t = 1. */
  readonly likelihoodX1: readonly [number, number];
  /** [L1, L0] when x_t = 0. */
  readonly likelihoodX0: readonly [number, number];
}

/** Precomputes the float32 reverse-step coefficients for t → tPrev from the official buffers (1 ≤ tPrev < t ≤ T). */
export function reverseStepCoefficients(buffers: ScheduleBuffers, t: number, tPrev: number): ReverseStepCoefficients {
  const T = buffers.beta.length - 1;
  if (!Number.isInteger(t) || !Number.isInteger(tPrev) || tPrev < 0 || tPrev >= t || t > T) {
    throw new ConfigError(`Reverse step ${String(t)} → ${String(tPrev)} is invalid for T = ${T}; need integers 0 <= tPrev < t <= T.`);
  }
  const push = (q1: number, q0: number): [number, number] => {
    for (let s = t; s > tPrev; s--) {
      const beta = required(buffers.beta[s], 'β̄_s');
      const noise = f32(0.5 * f32(1 - beta));
      q1 = f32(f32(q1 * beta) + noise);
      q0 = f32(f32(q0 * beta) + noise);
    }
    return [q1, q0];
  };
  return {
    t,
    tPrev,
    kPrev: required(buffers.k_final[tPrev], "k_t'"),
    bPrev: required(buffers.b_final[tPrev], "b_t'"),
    likelihoodX1: push(1, 0),
    likelihoodX0: push(0, 1),
  };
}

/** Float32 posterior P(z_{t'} = 1) for one bit with current value `x` (0/1) and predicted P(z_0 = 1) = `pX0`. */
export function reversePosterior(c: ReverseStepCoefficients, x: number, pX0: number): number {
  const [l1, l0] = x > 0.5 ? c.likelihoodX1 : c.likelihoodX0;
  const a1 = f32(f32(c.kPrev * pX0) + c.bPrev);
  const a0 = f32(f32(c.kPrev * f32(1 - pX0)) + c.bPrev);
  const n1 = f32(a1 * l1);
  const n0 = f32(a0 * l0);
  return f32(n1 / f32(n1 + n0));
}

/** {@link reversePosterior} over arrays: `out[i] = P(z_{t'} = 1 | x[i], pX0[i])`. `out` may alias `pX0`. */
export function reversePosteriorInto(c: ReverseStepCoefficients, x: Float32Array, pX0: Float32Array, out: Float32Array): void {
  if (x.length !== pX0.length || out.length !== x.length) {
    throw new ConfigError(`reversePosteriorInto needs equal lengths but got x ${x.length}, pX0 ${pX0.length}, out ${out.length}.`);
  }
  for (let i = 0; i < x.length; i++) out[i] = reversePosterior(c, required(x[i], 'bit'), required(pX0[i], 'P(z_0 = 1)'));
}

/** The same posterior in float64 from the closed-form schedule (κ = (T − t)/(T − t')); used as a reference. */
export function reversePosteriorF64(s: BernoulliNoiseSchedule, t: number, tPrev: number, x: number, pX0: number): number {
  const kappa = skipKeepProbability(s, t, tPrev);
  const kPrev = required(s.k[tPrev], "k_t'");
  const bPrev = required(s.b[tPrev], "b_t'");
  const a1 = kPrev * pX0 + bPrev;
  const a0 = kPrev * (1 - pX0) + bPrev;
  const l1 = kappa * x + 0.5 * (1 - kappa);
  const l0 = kappa * (1 - x) + 0.5 * (1 - kappa);
  return (a1 * l1) / (a1 * l1 + a0 * l0);
}
