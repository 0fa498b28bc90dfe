import { ConfigError, FormatError, ShapeError } from './errors.js';
import { getOrThrow, required } from './invariants.js';
import type { Optimizer, OptimizerState } from './optimizer.js';
import { CpuTensor, type NamedTensors } from './tensor.js';

/** Options of {@link Lars}. Defaults are the MoCo v3 / MAE linear-probe values (docs/evaluation.md §8.3). */
export interface LarsOptions {
  /** Shape of every parameter: the rank decides whether weight decay and trust scaling apply (rank ≥ 2 only). */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Momentum μ (no dampening, not Nesterov). Default 0.9. */
  readonly momentum?: number;
  /** Trust coefficient η. Default 0.001. */
  readonly trustCoefficient?: number;
  /**
   * Weight decay, a number or a function of the parameter name. It is applied only to parameters with ≥ 2 dimensions;
   * biases and other ≤ 1-D tensors never decay (MAE's LARS). Default 0 (the probe's value).
   */
  readonly weightDecay?: number | ((name: string) => number);
}

/** JSON part of a {@link Lars} checkpoint. */
export interface LarsStateJson {
  /** Always 'lars'. */
  readonly algorithm: 'lars';
  /** Number of {@link Lars.step} calls. */
  readonly t: number;
  /** Momentum in effect when saved (informational; the optimiser's own options win on load). */
  readonly momentum: number;
  /** Trust coefficient in effect when saved (informational). */
  readonly trustCoefficient: number;
}

/** A {@link Lars} checkpoint: JSON bookkeeping plus the momentum buffers `mu.<name>` (MAE's state name). */
export interface LarsState extends OptimizerState {
  /** Step counter and hyper-parameters. */
  readonly json: LarsStateJson;
}

function checkOption(name: string, v: number, positive: boolean): void {
  if (!(Number.isFinite(v) && (positive ? v > 0 : v >= 0))) {
    throw new ConfigError(`LARS ${name} is ${v}; expected a finite number ${positive ? '> 0' : '>= 0'}.`);
  }
}

/**
 * LARS as used by MoCo v3 / MAE linear probing (docs/evaluation.md §8.3), over named Float32Array parameters. Per parameter p
 * with gradient g, learning rate lr, momentum μ, trust coefficient η and weight decay wd:
 *
 *     if p has ≥ 2 dims:  g ← g + wd·p;  g ← g · η‖p‖/‖g‖   (factor 1 when ‖p‖ = 0 or ‖g‖ = 0; Frobenius norms)
 *     m ← μ·m + g;  p ← p − lr·m                             (m starts at 0, so the first step has m = g)
 *
 * Tensors with ≤ 1 dimension (biases, norm parameters) get neither weight decay nor trust scaling. Norms and element
 * arithmetic are float64; p and m are stored as float32 (so a checkpointed state resumes bit-identically).
 * Parameters without a gradient in a step are skipped.
 */
export class Lars implements Optimizer {
  /** 'lars'. */
  readonly algorithm = 'lars' as const;
  /** Momentum μ. */
  readonly momentum: number;
  /** Trust coefficient η. */
  readonly trustCoefficient: number;
  readonly #shapes: ReadonlyMap<string, readonly number[]>;
  readonly #weightDecay: number | ((name: string) => number);
  readonly #buffers = new Map<string, Float32Array>();
  #t = 0;

  /** Creates the optimiser; momentum buffers are created (zero) at a parameter's first step. */
  constructor(options: LarsOptions) {
    if (!options || !(options.shapes instanceof Map)) {
      throw new ConfigError('LARS needs `shapes`: a Map from parameter name to shape (the rank decides trust scaling). Pass the parameter shapes.');
    }
    this.#shapes = options.shapes;
    this.momentum = options.momentum ?? 0.9;
    checkOption('momentum', this.momentum, false);
    this.trustCoefficient = options.trustCoefficient ?? 0.001;
    checkOption('trustCoefficient', this.trustCoefficient, true);
    const wd = options.weightDecay ?? 0;
    if (typeof wd === 'number') checkOption('weightDecay', wd, false);
    this.#weightDecay = wd;
  }

  /** Number of {@link Lars.step} calls so far. */
  get t(): number {
    return this.#t;
  }

  /** The weight decay applied to parameter `name` (0 for tensors with ≤ 1 dimension). */
  weightDecayOf(name: string): number {
    if (this.#rank(name) < 2) return 0;
    const wd = typeof this.#weightDecay === 'number' ? this.#weightDecay : this.#weightDecay(name);
    if (!(Number.isFinite(wd) && wd >= 0)) throw new ConfigError(`LARS weight decay for parameter "${name}" is ${wd}; expected a finite number >= 0.`);
    return wd;
  }

  #rank(name: string): number {
    const shape = this.#shapes.get(name);
    if (!shape)
      throw new ConfigError(
        `LARS has no shape for parameter "${name}"; its shapes map lists ${this.#shapes.size} parameters. Pass every parameter's shape in options.shapes.`,
      );
    return shape.length;
  }

  /** One optimisation step: updates every parameter that has a gradient, in place. Validates everything first. */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new ConfigError(`LARS learning rate is ${lr}; expected a finite number >= 0.`);
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p)
        throw new ConfigError(`LARS got a gradient for "${name}", which is not among the ${params.size} parameters passed to step(). Pass matching maps.`);
      if (g.length !== p.length)
        throw new ShapeError(`LARS: gradient of "${name}" has ${g.length} elements but the parameter has ${p.length}. Pass the gradient of this parameter.`);
      const shape = this.#shapes.get(name);
      const size = shape?.reduce((a, b) => a * b, 1);
      if (shape !== undefined && size !== p.length)
        throw new ShapeError(`LARS: parameter "${name}" has ${p.length} elements but its shape [${shape.join(', ')}] has ${size}.`);
      const buf = this.#buffers.get(name);
      if (buf && buf.length !== p.length)
        throw new ShapeError(
          `LARS: parameter "${name}" has ${p.length} elements but its momentum buffer has ${buf.length}. The state belongs to another model.`,
        );
      this.weightDecayOf(name);
    }
    this.#t += 1;
    const mu = this.momentum;
    const eta = this.trustCoefficient;
    for (const [name, g] of grads) {
      const p = getOrThrow(params, name, 'parameter (checked above)');
      let m = this.#buffers.get(name);
      if (!m) {
        m = new Float32Array(p.length);
        this.#buffers.set(name, m);
      }
      let scale = 1;
      const wd = this.weightDecayOf(name);
      if (this.#rank(name) >= 2) {
        let pn = 0;
        let gn = 0;
        for (let i = 0; i < p.length; i++) {
          const pi = required(p[i], 'parameter');
          const gi = required(g[i], 'gradient') + wd * pi;
          pn += pi * pi;
          gn += gi * gi;
        }
        if (pn > 0 && gn > 0) scale = (eta * Math.sqrt(pn)) / Math.sqrt(gn);
      }
      // g, m and p have the same length (checked above).
      for (let i = 0; i < p.length; i++) {
        const pi = required(p[i], 'parameter');
        m[i] = mu * required(m[i], 'momentum') + (required(g[i], 'gradient') + wd * pi) * scale;
        // The update uses the momentum as stored, rounded to float32.
        p[i] = pi - lr * required(m[i], 'momentum');
      }
    }
  }

  /** Checkpoint state: momentum buffers `mu.<name>` shaped by `shapes` when given (else the optimiser's shapes). */
  getState(shapes?: ReadonlyMap<string, readonly number[]>): LarsState {
    const tensors: NamedTensors = new Map();
    for (const [name, m] of this.#buffers) tensors.set(`mu.${name}`, new CpuTensor(m.slice(), shapes?.get(name) ?? this.#shapes.get(name) ?? [m.length]));
    return { json: { algorithm: 'lars', t: this.#t, momentum: this.momentum, trustCoefficient: this.trustCoefficient }, tensors };
  }

  /** Restores a state from {@link Lars.getState} (after JSON/safetensors round trips). Validates it fully first. */
  setState(state: OptimizerState): void {
    const { json, tensors } = state;
    if (typeof json !== 'object' || json === null || json.algorithm !== 'lars') {
      throw new FormatError(
        `LARS state has algorithm ${JSON.stringify((json as { algorithm?: unknown } | null)?.algorithm)}; expected "lars". ` +
          `Load a state saved by Lars.getState(), or resume with the optimiser that wrote the checkpoint.`,
      );
    }
    if (!Number.isSafeInteger(json.t) || json.t < 0) throw new FormatError(`LARS state t is ${JSON.stringify(json.t)}; expected a non-negative integer.`);
    const buffers = new Map<string, Float32Array>();
    for (const [key, t] of tensors) {
      if (!key.startsWith('mu.'))
        throw new FormatError(`LARS state tensor "${key}" is not a momentum buffer (expected "mu.<parameter>"). The optimiser checkpoint is inconsistent.`);
      if (t.dtype !== 'float32') throw new FormatError(`LARS momentum buffer "${key}" is ${t.dtype}; expected float32.`);
      buffers.set(key.slice(3), (t.data as Float32Array).slice());
    }
    this.#buffers.clear();
    for (const [k, v] of buffers) this.#buffers.set(k, v);
    this.#t = json.t;
  }
}
