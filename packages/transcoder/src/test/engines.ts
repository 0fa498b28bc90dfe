/**
 * Test helper: the engines under test, resolved through core's registry after importing the engine packages.
 */
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { resolveEngine } from '@bigr/core';
import type { Engine } from '@bigr/core';

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

/** max |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a − b| / max(max |b|, tiny): error relative to the scale of the reference. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-30);
}
