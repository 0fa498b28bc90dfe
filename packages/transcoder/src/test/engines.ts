/**
 * For the tests: the engines under test, resolved through core's registry after importing the engine packages.
 */
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { at, resolveEngine } from '@bigr/core';
import type { Engine, Tensor } from '@bigr/core';
import { maxAbsDiff, named } from '@bigr/testing';

/** onnxruntime (inference). */
export function onnxEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
}

/** tfjs on the wasm backend (training-capable). */
export function tfjsWasmEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'training', device: 'tfjs-wasm' });
}

/** tfjs on the pure-JS cpu backend (reference backend). */
export function tfjsCpuEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'training', device: 'tfjs-cpu' });
}

export { maxAbsDiff, named };

/** The float32 values of a named graph output. */
export function outputData(outputs: Readonly<Record<string, Tensor>>, name: string): Float32Array {
  return named(outputs, name).data as Float32Array;
}

/** max |a − b| / max(max |b|, tiny): error relative to the scale of the reference. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(at(b, i, 'reference value')));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-30);
}
