/**
 * The 'linear' Bernoulli noise schedule of BiGR's binary diffusion (docs/algorithm.md §4.1), for any total step count T.
 *
 * One step keeps a bit with probability β̄_t and otherwise replaces it by a fair coin:
 * q(z_t = 1 | z_{t−1}) = β̄_t·z_{t−1} + ½(1 − β̄_t), with β̄_t = 1 − 1/(T − t + 1) (so β̄_T = 0).
 * In closed form q(z_t = 1 | z_0) = k_t·z_0 + b_t with k_t = 1 − t/T and b_t = t/(2T).
 */
import { at, ConfigError } from '@bigr/core';

/** Float64 tables of the schedule, indexed by t = 0…T (index 0 is the padding k_0 = 1, b_0 = 0, β̄_0 = 1). */
export interface BernoulliNoiseSchedule {
  /** Total diffusion steps T. */
  readonly timesteps: number;
  /** β̄_t, the one-step keep probability (`scheduler.beta`). */
  readonly keep: Float64Array;
  /** k_t = Π_{s≤t} β̄_s = 1 − t/T (`scheduler.k_final`). */
  readonly k: Float64Array;
  /** b_t = ½(1 − k_t) = t/(2T) (`scheduler.b_final`). */
  readonly b: Float64Array;
}

/** The official float32 scheduler buffers (`diffusion_processor.scheduler.*`, docs/algorithm.md §10.1), each of length T+1. */
export interface ScheduleBuffers {
  /** `k_final`. */
  readonly k_final: Float32Array;
  /** `b_final`. */
  readonly b_final: Float32Array;
  /** `beta` (the keep coefficient β̄). */
  readonly beta: Float32Array;
  /** `cumbeta` (unused by the official code; float32 running product of `beta`). */
  readonly cumbeta: Float32Array;
}

function checkTimesteps(T: number): void {
  if (!Number.isInteger(T) || T < 1) {
    throw new ConfigError(`Diffusion timesteps T = ${String(T)} is invalid; use a positive integer (256 in the released models).`);
  }
}

function checkT(s: BernoulliNoiseSchedule, t: number, what: string, min = 0): void {
  if (!Number.isInteger(t) || t < min || t > s.timesteps) {
    throw new ConfigError(`${what} = ${String(t)} is outside ${min}…${s.timesteps}; use an integer step of this schedule.`);
  }
}

/** Builds the float64 closed-form tables of the linear schedule with T total steps (docs/algorithm.md §4.1). */
export function linearNoiseSchedule(T: number): BernoulliNoiseSchedule {
  checkTimesteps(T);
  const keep = new Float64Array(T + 1);
  const k = new Float64Array(T + 1);
  const b = new Float64Array(T + 1);
  keep[0] = 1;
  k[0] = 1;
  for (let t = 1; t <= T; t++) {
    keep[t] = (T - t) / (T - t + 1);
    k[t] = 1 - t / T;
    b[t] = t / (2 * T);
  }
  return { timesteps: T, keep, k, b };
}

/**
 * The official buffers exactly as the PyTorch scheduler builds them: the float64 recursion
 * k_t = k_{t−1}·β̄_t, b_t = β̄_t·b_{t−1} + ½(1 − β̄_t), cast to float32; `cumbeta` is the float32 running product.
 */
export function officialScheduleBuffers(T: number): ScheduleBuffers {
  checkTimesteps(T);
  const kF = new Float32Array(T + 1);
  const bF = new Float32Array(T + 1);
  const beta = new Float32Array(T + 1);
  const cumbeta = new Float32Array(T + 1);
  let k = 1;
  let b = 0;
  // the float32 running product of the float32 β̄
  let cum = 1;
  kF[0] = 1;
  beta[0] = 1;
  cumbeta[0] = 1;
  for (let t = 1; t <= T; t++) {
    const bt = 1 - 1 / (T - t + 1);
    k *= bt;
    b = bt * b + 0.5 * (1 - bt);
    kF[t] = k;
    bF[t] = b;
    const betaF32 = Math.fround(bt);
    beta[t] = betaF32;
    cum = Math.fround(cum * betaF32);
    cumbeta[t] = cum;
  }
  return { k_final: kF, b_final: bF, beta, cumbeta };
}

/** q(z_t = 1 | z_0) = k_t·z_0 + b_t (closed form of the forward process). */
export function marginalProbabilityOne(s: BernoulliNoiseSchedule, t: number, z0: number): number {
  checkT(s, t, 'Timestep t');
  return at(s.k, t, 'k_t') * z0 + at(s.b, t, 'b_t');
}

/** q(z_t = 1 | z_{t−1}) = β̄_t·z_{t−1} + ½(1 − β̄_t) (one forward step, t ≥ 1). */
export function transitionProbabilityOne(s: BernoulliNoiseSchedule, t: number, zPrev: number): number {
  checkT(s, t, 'Timestep t', 1);
  const keep = at(s.keep, t, 'keep probability β̄_t');
  return keep * zPrev + 0.5 * (1 - keep);
}

/**
 * κ = Π_{u = tPrev+1…t} β̄_u = (T − t)/(T − tPrev): the keep probability of the composed transitions from tPrev to t
 * (1 when t = tPrev).
 */
export function skipKeepProbability(s: BernoulliNoiseSchedule, t: number, tPrev: number): number {
  checkT(s, t, 'Timestep t');
  checkT(s, tPrev, 'Timestep tPrev');
  if (tPrev > t) throw new ConfigError(`skipKeepProbability needs tPrev <= t but got tPrev = ${tPrev}, t = ${t}; swap the arguments.`);
  return (s.timesteps - t) / (s.timesteps - tPrev);
}
