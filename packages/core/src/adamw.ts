import { ConfigError, FormatError, ShapeError } from './errors.js';
import { getOrThrow, required } from './invariants.js';
import type { Optimizer, OptimizerState } from './optimizer.js';
import { CpuTensor, type NamedTensors } from './tensor.js';

/** Options of {@link AdamW}. Defaults are PyTorch's `torch.optim.AdamW` defaults. */
export interface AdamWOptions {
  /** β₁, β₂. Default [0.9, 0.999] (BiGR backbone: [0.9, 0.95], docs/algorithm.md §5.2). */
  readonly betas?: readonly [number, number];
  /** ε added to √v̂. Default 1e-8. */
  readonly eps?: number;
  /**
   * Decoupled weight decay: a number for every parameter, or a function of the parameter name (return 0 to exempt
   * a parameter, which is how PyTorch parameter groups are expressed). Default 0.01.
   */
  readonly weightDecay?: number | ((name: string) => number);
}

/** JSON part of an {@link AdamW} checkpoint. */
export interface AdamWStateJson {
  /** Always 'adamw'. */
  readonly algorithm: 'adamw';
  /** Number of {@link AdamW.step} calls. */
  readonly t: number;
  /**
   * Per-parameter step counts used for bias correction (PyTorch keeps one per parameter). When absent on load,
   * every parameter that has moments in the tensors gets step count `t`.
   */
  readonly steps?: Readonly<Record<string, number>>;
  /** β₁, β₂ in effect when saved (informational; the optimiser's own options win on load). */
  readonly betas: readonly [number, number];
  /** ε in effect when saved (informational). */
  readonly eps: number;
}

/** An {@link AdamW} checkpoint: JSON bookkeeping plus the moment tensors `exp_avg.<name>` and `exp_avg_sq.<name>`. */
export interface AdamWState {
  /** Step counters and hyper-parameters. */
  readonly json: AdamWStateJson;
  /** First and second moments, float32. */
  readonly tensors: NamedTensors;
}

interface Slot {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

function checkFinite(name: string, v: number, lo: number, hi: number, closedHi: boolean): void {
  if (!(Number.isFinite(v) && v >= lo && (closedHi ? v <= hi : v < hi))) {
    throw new ConfigError(`AdamW ${name} is ${v}; expected a finite number in [${lo}, ${hi}${closedHi ? ']' : ')'}.`);
  }
}

/**
 * AdamW over Float32Array parameters with PyTorch semantics (`torch.optim.AdamW`, amsgrad off). Per parameter,
 * with step count t (incremented first), learning rate lr and decay λ:
 *
 *     p ← p·(1 − lr·λ)                              (decoupled weight decay, applied before the update)
 *     m ← β₁·m + (1 − β₁)·g
 *     v ← β₂·v + (1 − β₂)·g²
 *     p ← p − (lr / (1 − β₁^t)) · m / (√v / √(1 − β₂^t) + ε)
 *
 * Element arithmetic is float64; m, v and p are stored as float32. Moments are created (zero) at a parameter's
 * first step; parameters without a gradient in a step are skipped and keep their step count, like PyTorch.
 * With weight decay 0 this is exactly `torch.optim.Adam`.
 */
export class AdamW implements Optimizer {
  /** 'adamw'. */
  readonly algorithm = 'adamw' as const;
  /** β₁, β₂. */
  readonly betas: readonly [number, number];
  /** ε. */
  readonly eps: number;
  readonly #weightDecay: number | ((name: string) => number);
  readonly #slots = new Map<string, Slot>();
  #t = 0;

  /** Creates an optimiser; state is created lazily per parameter. */
  constructor(options: AdamWOptions = {}) {
    const betas = options.betas ?? [0.9, 0.999];
    checkFinite('beta1', betas[0], 0, 1, false);
    checkFinite('beta2', betas[1], 0, 1, false);
    this.betas = [betas[0], betas[1]];
    this.eps = options.eps ?? 1e-8;
    checkFinite('eps', this.eps, 0, Number.MAX_VALUE, true);
    const wd = options.weightDecay ?? 0.01;
    if (typeof wd === 'number') checkFinite('weightDecay', wd, 0, Number.MAX_VALUE, true);
    this.#weightDecay = wd;
  }

  /** Number of {@link AdamW.step} calls so far. */
  get t(): number {
    return this.#t;
  }

  /** The weight decay applied to parameter `name`. */
  weightDecayOf(name: string): number {
    const wd = typeof this.#weightDecay === 'number' ? this.#weightDecay : this.#weightDecay(name);
    if (!(Number.isFinite(wd) && wd >= 0)) {
      throw new ConfigError(`AdamW weight decay for parameter "${name}" is ${wd}; expected a finite number >= 0.`);
    }
    return wd;
  }

  /**
   * One optimisation step: updates every parameter that has a gradient, in place. Gradients for names that are not
   * parameters are an error; lengths must match.
   */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new ConfigError(`AdamW learning rate is ${lr}; expected a finite number >= 0.`);
    for (const name of grads.keys()) {
      if (!params.has(name)) {
        throw new ConfigError(`AdamW got a gradient for "${name}", which is not among the ${params.size} parameters passed to step(). Pass matching maps.`);
      }
    }
    // Validate everything before touching any state, so a failed step changes nothing.
    for (const [name, g] of grads) {
      const p = getOrThrow(params, name, 'parameter (checked above)');
      if (g.length !== p.length) {
        throw new ShapeError(`AdamW: gradient of "${name}" has ${g.length} elements but the parameter has ${p.length}. Pass the gradient of this parameter.`);
      }
      const slot = this.#slots.get(name);
      if (slot && slot.m.length !== p.length) {
        throw new ShapeError(
          `AdamW: parameter "${name}" has ${p.length} elements but its optimiser state has ${slot.m.length}. The state belongs to another model.`,
        );
      }
    }
    this.#t += 1;
    const [b1, b2] = this.betas;
    const eps = this.eps;
    for (const [name, g] of grads) {
      const p = getOrThrow(params, name, 'parameter (checked above)');
      let slot = this.#slots.get(name);
      if (!slot) {
        slot = { m: new Float32Array(p.length), v: new Float32Array(p.length), step: 0 };
        this.#slots.set(name, slot);
      }
      slot.step += 1;
      // PyTorch's single-tensor AdamW in float32, op by op (docs/algorithm.md §5.2): every tensor op rounds to float32
      // and its Python-float scalars are cast to float32 first, so each product and sum is rounded here in the same
      // order (p·(1−lr·wd); m·β₁ + (1−β₁)·g; v·β₂ + (1−β₂)·g·g; p + (−step)·m / (√v / √bc₂ + ε)).
      const f = Math.fround;
      const decay = f(1 - lr * this.weightDecayOf(name));
      const negStep = f(-(lr / (1 - b1 ** slot.step)));
      const bc2Sqrt = f(Math.sqrt(1 - b2 ** slot.step));
      const [b1f, b2f, a1, a2, epsf] = [f(b1), f(b2), f(1 - b1), f(1 - b2), f(eps)];
      const { m, v } = slot;
      // g, m, v and p have the same length (checked above).
      for (let i = 0; i < p.length; i++) {
        const gi = required(g[i], 'gradient');
        const mi = f(f(required(m[i], 'first moment') * b1f) + f(a1 * gi));
        const vi = f(f(required(v[i], 'second moment') * b2f) + f(f(a2 * gi) * gi));
        m[i] = mi;
        v[i] = vi;
        const pd = f(required(p[i], 'parameter') * decay);
        const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + epsf);
        p[i] = f(pd + f(f(negStep * mi) / denom));
      }
    }
  }

  /**
   * Checkpoint state. Moments are named `exp_avg.<name>` / `exp_avg_sq.<name>` and shaped by `shapes` when given
   * (else flat). The tensors copy the state.
   */
  getState(shapes?: ReadonlyMap<string, readonly number[]>): AdamWState {
    const tensors: NamedTensors = new Map();
    const steps: Record<string, number> = {};
    for (const [name, s] of this.#slots) {
      const shape = shapes?.get(name) ?? [s.m.length];
      tensors.set(`exp_avg.${name}`, new CpuTensor(s.m.slice(), shape));
      tensors.set(`exp_avg_sq.${name}`, new CpuTensor(s.v.slice(), shape));
      steps[name] = s.step;
    }
    return { json: { algorithm: 'adamw', t: this.#t, steps, betas: [this.betas[0], this.betas[1]], eps: this.eps }, tensors };
  }

  /** Restores a state from {@link AdamW.getState} (after JSON/safetensors round trips). Validates it fully first. */
  setState(state: AdamWState | OptimizerState): void {
    const { json, tensors } = state;
    if (typeof json !== 'object' || json === null || json.algorithm !== 'adamw') {
      throw new FormatError(
        `AdamW state has algorithm ${JSON.stringify((json as { algorithm?: unknown } | null)?.algorithm)}; expected "adamw". ` +
          `Load a state saved by AdamW.getState().`,
      );
    }
    if (!Number.isSafeInteger(json.t) || json.t < 0) throw new FormatError(`AdamW state t is ${JSON.stringify(json.t)}; expected a non-negative integer.`);
    let steps: Readonly<Record<string, number>>;
    if (json.steps === undefined) {
      const derived: Record<string, number> = {};
      for (const key of tensors.keys()) if (key.startsWith('exp_avg.')) derived[key.slice(8)] = json.t;
      steps = derived;
    } else if (typeof json.steps !== 'object' || json.steps === null) {
      throw new FormatError(`AdamW state "steps" is ${JSON.stringify(json.steps)}; expected an object of per-parameter step counts.`);
    } else steps = json.steps;
    const slots = new Map<string, Slot>();
    for (const [name, step] of Object.entries(steps)) {
      if (!Number.isSafeInteger(step) || step < 1) {
        throw new FormatError(`AdamW state step count of "${name}" is ${JSON.stringify(step)}; expected an integer >= 1.`);
      }
      const m = tensors.get(`exp_avg.${name}`);
      const v = tensors.get(`exp_avg_sq.${name}`);
      if (!m || !v) {
        throw new FormatError(
          `AdamW state lists parameter "${name}" but has no ${!m ? 'exp_avg' : 'exp_avg_sq'}.${name} tensor. The optimiser checkpoint is incomplete.`,
        );
      }
      if (m.dtype !== 'float32' || v.dtype !== 'float32' || m.size !== v.size) {
        throw new FormatError(`AdamW moments of "${name}" are ${m.dtype}[${m.size}] and ${v.dtype}[${v.size}]; expected two float32 tensors of equal size.`);
      }
      slots.set(name, { m: (m.data as Float32Array).slice(), v: (v.data as Float32Array).slice(), step });
    }
    for (const key of tensors.keys()) {
      const name = key.startsWith('exp_avg_sq.') ? key.slice(11) : key.startsWith('exp_avg.') ? key.slice(8) : null;
      if (name === null || !slots.has(name)) {
        throw new FormatError(`AdamW state tensor "${key}" does not belong to any parameter listed in its steps. The optimiser checkpoint is inconsistent.`);
      }
    }
    this.#slots.clear();
    for (const [k, s] of slots) this.#slots.set(k, s);
    this.#t = json.t;
  }
}
