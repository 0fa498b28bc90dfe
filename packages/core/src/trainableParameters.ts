/**
 * The checks and fills every {@link TrainableParameters} implementation shares, so the engines (tfjs, onnxruntime)
 * accept and reject the same `assign` calls and return gradients for the same names.
 */
import { closeNames } from './closeNames.js';
import type { TrainableParameters } from './engine.js';
import { NotFoundError, ShapeError } from './errors.js';

/** What the checks need to know of a parameter an engine holds. */
export interface ParameterExtent {
  /** Element count. */
  readonly size: number;
  /** Shape (for messages). */
  readonly shape: readonly number[];
}

/**
 * Validates a {@link TrainableParameters.assign} call before anything is written, so a rejected call leaves every
 * parameter as it was: each name must be a parameter (else a NotFoundError listing similar names) and each array
 * must have the parameter's element count (else a ShapeError).
 */
export function checkAssignment(values: ReadonlyMap<string, Float32Array>, parameters: ReadonlyMap<string, ParameterExtent>): void {
  for (const [name, data] of values) {
    const t = parameters.get(name);
    if (!t) {
      const near = closeNames(name, parameters.keys());
      throw new NotFoundError(`assign: parameter "${name}" does not exist.${near.length ? ` Similar names: ${near.map((n) => `"${n}"`).join(', ')}.` : ''}`);
    }
    if (data.length !== t.size)
      throw new ShapeError(`assign: parameter "${name}" has ${t.size} elements (shape [${t.shape.join(', ')}]) but ${data.length} values were given.`);
  }
}

/**
 * The gradient of every parameter, in `parameters`' order: the one in `grads`, or zeros of the parameter's size for a
 * parameter the loss does not use ({@link TrainableParameters.gradients} returns one array per name).
 */
export function completeGradients(parameters: ReadonlyMap<string, ParameterExtent>, grads: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of parameters) out.set(name, grads.get(name) ?? new Float32Array(t.size));
  return out;
}
