import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { resolveEngine, type Engine } from '@bigr/core';

/** Training engine (tfjs-wasm unless BIGR_DEVICE/--device says otherwise). */
export function trainingEngine(): Promise<Engine> {
  const device = process.env['BIGR_DEVICE'];
  // The inference-only device words (onnx names) must not leak into training.
  return resolveEngine({ purpose: 'training', device: device && !device.startsWith('onnx') ? device : 'auto' });
}

/** Inference engine (onnxruntime unless BIGR_DEVICE/--device says otherwise). */
export function inferenceEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'inference' });
}
