import { resolveEngine, type Engine } from '@bigr/core';
import '@bigr/engine-tfjs';
import '@bigr/engine-onnx';

/** The two engines the tokenizer must run on: tfjs (wasm) and onnxruntime (cpu). */
export async function tfjsEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'training', device: 'tfjs-wasm' });
}

export async function onnxEngine(): Promise<Engine> {
  return resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
}

/** A training engine by name ('onnx-cpu', 'tfjs-wasm'). */
export async function trainingEngine(device: string): Promise<Engine> {
  return resolveEngine({ purpose: 'training', device });
}
