import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  CpuTensor,
  at,
  checkAssignment,
  completeGradients,
  getOrThrow,
  ShapeError,
  type GradientResult,
  type GraphDefinition,
  type LossFunction,
  type NamedTensors,
  type Rng,
  type TrainableParameters,
} from '@bigr/core';
import { useBackend } from './backend.js';
import { toTfTensor } from './convert.js';
import { runGraph } from './runGraph.js';
import { TfjsOps } from './tfjsOps.js';

/** Where the parameters live: the engine name (for ops and messages) and the tfjs backend name. */
export interface TfjsTrainableContext {
  /** Engine identifier, e.g. 'tfjs-wasm'. */
  readonly engine: string;
  /** tfjs backend these parameters run on ('wasm', 'cpu' or 'tensorflow'). */
  readonly backend: string;
}

/**
 * Drops what a failed gradient pass left behind: tfjs keeps tensors saved for the backward pass on its tape
 * and only frees them after a successful backward pass, so a loss function that throws would leak them.
 */
function discardTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  (state as { activeTape: unknown }).activeTape = null;
}

function readScalar(t: unknown, what: string): number {
  if (!(t instanceof tf.Tensor)) throw new ShapeError(`${what} must be a tensor returned by the ops, got ${typeof t}.`);
  if (t.size !== 1) throw new ShapeError(`${what} must be a scalar (one element) but has shape [${t.shape.join(', ')}]; reduce it with ops.mean or ops.sum.`);
  return at(t.dataSync(), 0, what);
}

/**
 * Trainable parameters on a tfjs backend. Float parameters become `tf.Variable`s (float32); integer
 * parameters become constant int32 tensors that receive zero gradients. Every method first makes this
 * engine's backend the global tfjs backend (see `useBackend`), and no tfjs tensor outlives a call.
 */
export class TfjsTrainableParameters implements TrainableParameters {
  /** Parameter names, in the order they were given. */
  readonly names: readonly string[];
  readonly #ctx: TfjsTrainableContext;
  readonly #tensors = new Map<string, tf.Tensor>();
  readonly #variables = new Map<string, tf.Variable>();
  #disposed = false;

  /** Uploads `params` to the current tfjs backend (call {@link useBackend} first). */
  constructor(params: NamedTensors, ctx: TfjsTrainableContext) {
    this.#ctx = ctx;
    this.names = Object.freeze([...params.keys()]);
    useBackend(ctx.backend);
    for (const [name, value] of params) {
      const uploaded = toTfTensor(value);
      if (uploaded.dtype === 'float32') {
        const v = tf.variable(uploaded, true);
        uploaded.dispose();
        this.#variables.set(name, v);
        this.#tensors.set(name, v);
      } else {
        this.#tensors.set(name, uploaded);
      }
    }
  }

  #check(): void {
    if (this.#disposed) throw new ConfigError('These trainable parameters were disposed; create new ones with engine.createTrainable().');
    useBackend(this.#ctx.backend);
  }

  /**
   * Computes the loss, its metrics and d loss / d parameter in training mode (dropout driven by `rng`).
   * Parameters the loss does not depend on (and integer parameters) get zero gradients.
   */
  async gradients(loss: LossFunction, rng: Rng): Promise<GradientResult> {
    this.#check();
    const names = [...this.#variables.keys()];
    const vars = [...this.#variables.values()];
    const metrics: Record<string, number> = {};
    const grads = new Map<string, Float32Array>();
    let lossValue = Number.NaN;
    try {
      tf.tidy(() => {
        const ops = new TfjsOps({ engine: this.#ctx.engine, params: this.#tensors, training: true, rng });
        const f = (): tf.Scalar => {
          const out = loss(ops);
          readScalar(out.loss, 'The loss');
          for (const [k, v] of Object.entries(out.metrics ?? {})) metrics[k] = readScalar(v, `Metric "${k}"`);
          return tf.reshape(out.loss, []) as tf.Scalar;
        };
        if (vars.length === 0) {
          lossValue = at(f().dataSync(), 0, 'loss');
          return;
        }
        const { value, grads: g } = tf.engine().gradients(f, vars, undefined, true);
        lossValue = at(value.dataSync(), 0, 'loss');
        g.forEach((gi, i) => {
          if (gi != null) grads.set(at(names, i, 'variable name'), Float32Array.from(gi.dataSync() as Float32Array));
        });
      });
    } catch (err) {
      discardTape();
      throw err;
    }
    return { loss: lossValue, grads: completeGradients(this.#tensors, grads), metrics };
  }

  /** Runs `fn` on the current parameter values without gradients (eval mode unless `training`). */
  async evaluate(
    fn: GraphDefinition,
    feeds: Readonly<Record<string, CpuTensor>>,
    options: { training?: boolean; rng?: Rng } = {},
  ): Promise<Record<string, CpuTensor>> {
    this.#check();
    return runGraph(fn, feeds, {
      engine: this.#ctx.engine,
      params: this.#tensors,
      training: options.training ?? false,
      ...(options.rng ? { rng: options.rng } : {}),
    });
  }

  /** Overwrites parameter values; each array must have the parameter's element count. */
  assign(values: ReadonlyMap<string, Float32Array>): void {
    this.#check();
    checkAssignment(values, this.#tensors);
    for (const [name, data] of values) {
      const v = this.#variables.get(name);
      if (v) {
        tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
      } else {
        const old = getOrThrow(this.#tensors, name, 'parameter (checked by checkAssignment)');
        this.#tensors.set(
          name,
          tf.tensor(
            Int32Array.from(data, (x) => Math.round(x)),
            old.shape,
            'int32',
          ),
        );
        old.dispose();
      }
    }
  }

  /** Copies of the current values: float32 for float parameters, int32 for integer ones. */
  read(): NamedTensors {
    this.#check();
    const out: NamedTensors = new Map();
    for (const [name, t] of this.#tensors) {
      const data = t.dataSync();
      out.set(name, new CpuTensor(t.dtype === 'int32' ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array), [...t.shape]));
    }
    return out;
  }

  /** Releases all tfjs memory held by the parameters. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#tensors.values()) t.dispose();
    this.#tensors.clear();
    this.#variables.clear();
  }
}
