import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { resolveEngine, type Engine } from '@bigr/core';

/**
 * Training engine: onnxruntime train-step graphs by default ('onnx-cpu', or 'onnx-cuda' with `--device gpu` where the
 * CUDA provider is installed); `BIGR_DEVICE`/`--device` selects another, e.g. 'tfjs-wasm'.
 */
export function trainingEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'training' });
}

/** Inference engine (onnxruntime unless BIGR_DEVICE/--device says otherwise). */
export function inferenceEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'inference' });
}
