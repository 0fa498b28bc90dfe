import { ConfigError } from './errors.js';

/**
 * Learning-rate schedules as pure functions of the 0-based step (fractional steps allowed, e.g. MAE's
 * per-iteration epoch fraction), plus a JSON-serialisable {@link LrSchedule} description for configs and
 * checkpoints.
 */

/** Parameters of {@link warmupCosineLr}. */
export interface WarmupCosineParams {
  /** Peak learning rate reached at the end of warm-up. */
  readonly lr: number;
  /** Final learning rate. */
  readonly minLr: number;
  /** Linear warm-up length (0 for none). */
  readonly warmupSteps: number;
  /** Step at which the cosine reaches `minLr` (≥ warmupSteps). */
  readonly totalSteps: number;
}

/** Parameters of {@link stepDecayLr}. */
export interface StepDecayParams {
  /** Initial learning rate. */
  readonly lr: number;
  /** Multiplier applied at each milestone (e.g. 0.1). */
  readonly factor: number;
  /** Steps at which the rate is multiplied by `factor` (from that step on), ascending. */
  readonly milestones: readonly number[];
}

/** A JSON-serialisable learning-rate schedule. */
export type LrSchedule =
  | ({ readonly kind: 'constant' } & { readonly lr: number })
  | ({ readonly kind: 'warmupCosine' } & WarmupCosineParams)
  | ({ readonly kind: 'stepDecay' } & StepDecayParams);

function checkStep(step: number): void {
  if (!(Number.isFinite(step) && step >= 0)) throw new ConfigError(`Learning-rate step is ${step}; expected a finite number >= 0.`);
}

/** Constant rate (BiGR backbone: 1e-4, docs/algorithm.md §5.2). */
export function constantLr(step: number, lr: number): number {
  checkStep(step);
  return lr;
}

/**
 * Linear warm-up then half-cosine decay (MAE / nanoGPT `get_lr`):
 * - step < warmupSteps: lr · step / warmupSteps
 * - warmupSteps ≤ step ≤ totalSteps: minLr + (lr − minLr) · ½(1 + cos(π · (step − warmupSteps) / (totalSteps − warmupSteps)))
 * - step > totalSteps: minLr
 * With warmupSteps = 0 and minLr = lr it is constant (the released BiGR setting).
 */
export function warmupCosineLr(step: number, p: WarmupCosineParams): number {
  checkStep(step);
  if (step < p.warmupSteps) return (p.lr * step) / p.warmupSteps;
  if (step >= p.totalSteps) return p.minLr;
  const progress = (step - p.warmupSteps) / (p.totalSteps - p.warmupSteps);
  return p.minLr + (p.lr - p.minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** lr · factor^(number of milestones ≤ step) (e.g. the B-AE's ×0.1 at step 1.5M, docs/algorithm.md §1). */
export function stepDecayLr(step: number, p: StepDecayParams): number {
  checkStep(step);
  let k = 0;
  for (const m of p.milestones) if (step >= m) k++;
  return p.lr * p.factor ** k;
}

function num(obj: Record<string, unknown>, key: string, kind: string, min: number, allowEqualMin = true): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (!allowEqualMin && v === min)) {
    throw new ConfigError(`Learning-rate schedule "${kind}" has ${key} = ${JSON.stringify(v)}; expected a finite number ${allowEqualMin ? '>=' : '>'} ${min}.`);
  }
  return v;
}

/** Validates an untrusted value (e.g. from a JSON config or checkpoint) as an {@link LrSchedule}. */
export function parseLrSchedule(value: unknown): LrSchedule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      `Learning-rate schedule ${JSON.stringify(value)} is not an object; expected {"kind": "constant" | "warmupCosine" | "stepDecay", ...}.`,
    );
  }
  const o = value as Record<string, unknown>;
  switch (o['kind']) {
    case 'constant':
      return { kind: 'constant', lr: num(o, 'lr', 'constant', 0) };
    case 'warmupCosine': {
      const s = {
        kind: 'warmupCosine' as const,
        lr: num(o, 'lr', 'warmupCosine', 0),
        minLr: num(o, 'minLr', 'warmupCosine', 0),
        warmupSteps: num(o, 'warmupSteps', 'warmupCosine', 0),
        totalSteps: num(o, 'totalSteps', 'warmupCosine', 0),
      };
      if (s.totalSteps < s.warmupSteps) {
        throw new ConfigError(
          `Learning-rate schedule "warmupCosine" has totalSteps ${s.totalSteps} < warmupSteps ${s.warmupSteps}; totalSteps must be at least warmupSteps.`,
        );
      }
      return s;
    }
    case 'stepDecay': {
      const ms = o['milestones'];
      if (!Array.isArray(ms) || !ms.every((m, i) => typeof m === 'number' && Number.isFinite(m) && m >= 0 && (i === 0 || m >= (ms[i - 1] as number)))) {
        throw new ConfigError(`Learning-rate schedule "stepDecay" has milestones ${JSON.stringify(ms)}; expected an ascending array of steps >= 0.`);
      }
      return { kind: 'stepDecay', lr: num(o, 'lr', 'stepDecay', 0), factor: num(o, 'factor', 'stepDecay', 0), milestones: [...(ms as number[])] };
    }
    default:
      throw new ConfigError(`Learning-rate schedule kind ${JSON.stringify(o['kind'])} is unknown; use "constant", "warmupCosine" or "stepDecay".`);
  }
}

/** Learning rate of `schedule` at `step` (the schedule is validated). */
export function learningRateAt(schedule: LrSchedule, step: number): number {
  return lrScheduleFunction(schedule)(step);
}

/** A step → rate function for a validated schedule (fits the trainer's `LearningRate` option). */
export function lrScheduleFunction(schedule: LrSchedule): (step: number) => number {
  const s = parseLrSchedule(schedule);
  switch (s.kind) {
    case 'constant':
      return (step) => constantLr(step, s.lr);
    case 'warmupCosine':
      return (step) => warmupCosineLr(step, s);
    case 'stepDecay':
      return (step) => stepDecayLr(step, s);
  }
}
