import { ConfigError, FormatError, NotFoundError, ShapeError } from './errors.js';
import { getOrThrow, required } from './invariants.js';
import { CpuTensor, isTensor, type NamedTensors, type Tensor } from './tensor.js';

/** Parameter values accepted by {@link Ema}: raw float32 arrays or float32 tensors. */
export type ParameterValues = ReadonlyMap<string, Float32Array | Tensor<'float32'>>;

function valuesOf(v: Float32Array | Tensor<'float32'>, name: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (isTensor(v) && v.dtype === 'float32') return v.data;
  throw new ShapeError(`EMA parameter "${name}" is not a Float32Array or float32 tensor. Pass float32 parameter values.`);
}

function checkDecay(decay: number): void {
  if (!(Number.isFinite(decay) && decay >= 0 && decay <= 1)) {
    throw new ConfigError(`EMA decay is ${decay}; expected a number in [0, 1] (BiGR uses 0.9999).`);
  }
}

/** In place: `ema = decay·ema + (1 − decay)·p` elementwise (float64 arithmetic, float32 storage). */
export function emaUpdate(ema: Float32Array, p: Float32Array, decay: number): void {
  if (ema.length !== p.length) throw new ShapeError(`emaUpdate: EMA has ${ema.length} elements but the parameter has ${p.length}.`);
  const a = 1 - decay;
  for (let i = 0; i < p.length; i++) ema[i] = decay * required(ema[i], 'average') + a * required(p[i], 'parameter');
}

/** JSON part of an {@link Ema} checkpoint. */
export interface EmaStateJson {
  /** Always 'ema'. */
  readonly algorithm: 'ema';
  /** Decay in effect when saved. */
  readonly decay: number;
  /** Number of updates applied. */
  readonly updates: number;
}

/** An {@link Ema} checkpoint: bookkeeping plus the averaged parameters (same names and shapes as the model). */
export interface EmaState {
  /** Decay and update count. */
  readonly json: EmaStateJson;
  /** Averaged parameters, float32. */
  readonly tensors: NamedTensors;
}

/**
 * Exponential moving average of parameters (docs/algorithm.md §5.2: decay 0.9999 every step from step 0, initialised as a
 * copy). `update` applies `ema = decay·ema + (1 − decay)·p` to every parameter, as the official
 * `ema_p.mul_(decay).add_(p, alpha=1 − decay)`.
 */
export class Ema {
  /** Decay used by {@link Ema.update} when none is passed. */
  readonly decay: number;
  readonly #shadow: NamedTensors = new Map();
  #updates = 0;

  /**
   * Starts the average as a copy of `params`. Shapes come from tensors, or from `shapes`, or are flat for raw
   * arrays.
   */
  constructor(params: ParameterValues, options: { decay: number; shapes?: ReadonlyMap<string, readonly number[]> }) {
    checkDecay(options.decay);
    this.decay = options.decay;
    for (const [name, v] of params) {
      const data = valuesOf(v, name).slice();
      const shape = isTensor(v) ? v.shape : (options.shapes?.get(name) ?? [data.length]);
      this.#shadow.set(name, new CpuTensor(data, shape));
    }
  }

  /** Number of updates applied since the copy. */
  get updates(): number {
    return this.#updates;
  }

  /** Updates the average from the current parameters; every averaged parameter must be present. */
  update(params: ParameterValues, decay: number = this.decay): void {
    checkDecay(decay);
    for (const name of this.#shadow.keys()) {
      if (!params.has(name))
        throw new NotFoundError(`EMA update is missing parameter "${name}". Pass all ${this.#shadow.size} parameters the EMA was created with.`);
    }
    for (const [name, v] of params) {
      const e = this.#shadow.get(name);
      if (!e) throw new ConfigError(`EMA update got parameter "${name}", which the EMA was not created with. Create the EMA from the same parameter set.`);
      const p = valuesOf(v, name);
      if (p.length !== e.size) throw new ShapeError(`EMA parameter "${name}" has ${p.length} elements but its average has ${e.size}.`);
    }
    for (const [name, e] of this.#shadow) emaUpdate(e.data as Float32Array, valuesOf(getOrThrow(params, name, 'EMA parameter (checked above)'), name), decay);
    this.#updates += 1;
  }

  /** The averaged parameters (live views; copy before mutating). */
  parameters(): NamedTensors {
    return new Map(this.#shadow);
  }

  /** Checkpoint state (tensors are copies). */
  getState(): EmaState {
    const tensors: NamedTensors = new Map();
    for (const [name, t] of this.#shadow) tensors.set(name, new CpuTensor((t.data as Float32Array).slice(), t.shape));
    return { json: { algorithm: 'ema', decay: this.decay, updates: this.#updates }, tensors };
  }

  /** Restores {@link Ema.getState} output; the parameter names and sizes must match this EMA's. */
  setState(state: EmaState): void {
    const { json, tensors } = state;
    if (typeof json !== 'object' || json === null || json.algorithm !== 'ema' || !Number.isSafeInteger(json.updates) || json.updates < 0) {
      throw new FormatError(`EMA state ${JSON.stringify(json)} is not an EMA checkpoint; expected {"algorithm":"ema","decay":...,"updates":n}.`);
    }
    for (const [name, t] of this.#shadow) {
      const s = tensors.get(name);
      if (!s) throw new FormatError(`EMA state has no tensor for parameter "${name}". The checkpoint belongs to another model.`);
      if (s.dtype !== 'float32' || s.size !== t.size) {
        throw new FormatError(
          `EMA state tensor "${name}" is ${s.dtype}[${s.size}] but float32[${t.size}] was expected. The checkpoint belongs to another model.`,
        );
      }
    }
    for (const name of tensors.keys()) {
      if (!this.#shadow.has(name))
        throw new FormatError(`EMA state has tensor "${name}", which is not a parameter of this EMA. The checkpoint belongs to another model.`);
    }
    for (const [name, t] of this.#shadow) (t.data as Float32Array).set(getOrThrow(tensors, name, 'EMA state tensor (checked above)').data as Float32Array);
    this.#updates = json.updates;
  }

  /** Creates an EMA directly from a saved state (decay from the state unless given). */
  static fromState(state: EmaState, decay?: number): Ema {
    const ema = new Ema(state.tensors as ReadonlyMap<string, Tensor<'float32'>>, { decay: decay ?? state.json.decay });
    ema.setState(state);
    return ema;
  }
}
