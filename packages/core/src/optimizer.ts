import type { AdamWStateJson } from './adamw.js';
import type { LarsStateJson } from './lars.js';
import type { NamedTensors } from './tensor.js';

/** JSON part of an optimiser checkpoint; `algorithm` says which optimiser wrote it. */
export type OptimizerStateJson = AdamWStateJson | LarsStateJson;

/** An optimiser checkpoint: JSON bookkeeping plus float32 state tensors (moments, momentum buffers). */
export interface OptimizerState {
  /** Step counters and hyper-parameters; `json.algorithm` names the optimiser. */
  readonly json: OptimizerStateJson;
  /** State tensors, float32, named `<slot>.<parameter name>`. */
  readonly tensors: NamedTensors;
}

/**
 * An optimiser over named Float32Array parameters, as the core `Trainer` drives it: one {@link Optimizer.step} per
 * training step, and {@link Optimizer.getState} / {@link Optimizer.setState} for checkpoints (a restored state must
 * continue bit-identically). Implemented by {@link AdamW} and {@link Lars}.
 */
export interface Optimizer {
  /** Identifier written to checkpoints ('adamw', 'lars'). */
  readonly algorithm: OptimizerStateJson['algorithm'];
  /** Updates every parameter that has a gradient, in place, at learning rate `lr`. */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void;
  /** A copy of the state; tensors are shaped by `shapes` when given (else flat). */
  getState(shapes?: ReadonlyMap<string, readonly number[]>): OptimizerState;
  /** Restores a state from {@link Optimizer.getState}; throws FormatError if it belongs to another optimiser. */
  setState(state: OptimizerState): void;
}
