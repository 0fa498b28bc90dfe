/**
 * For the tests: the engines under test, resolved through core's registry after importing the engine packages.
 */
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { at, required, resolveEngine } from '@bigr/core';
import type { Engine, Tensor } from '@bigr/core';

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

/** A named output of a graph run (or a named input of a graph build). */
export function named<T>(values: Readonly<Record<string, T>>, name: string): T {
  return required(values[name], `"${name}"`);
}

/** The float32 values of a named graph output. */
export function outputData(outputs: Readonly<Record<string, Tensor>>, name: string): Float32Array {
  return named(outputs, name).data as Float32Array;
}

/** max |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(at(a, i, 'value') - at(b, i, 'reference value')));
  return m;
}

/** max |a − b| / max(max |b|, tiny): error relative to the scale of the reference. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(at(b, i, 'reference value')));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-30);
}
