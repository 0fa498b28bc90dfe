import { EngineUnavailableError, registerEngine } from '@bigr/core';
import type { EngineProvider } from '@bigr/core';
import { OnnxWebEngine } from './onnxWebEngine.js';
import { hasWebGpu } from './webRuntime.js';

/** Provider 'onnx-web-wasm' (devices 'wasm', 'cpu', 'auto'; priority 45): onnxruntime-web on WebAssembly. */
export const onnxWebWasmProvider: EngineProvider = {
  name: 'onnx-web-wasm',
  priority: 45,
  purposes: ['inference'],
  devices: ['wasm', 'cpu', 'auto'],
  create: async () => new OnnxWebEngine({ executionProvider: 'wasm' }),
};

/** Provider 'onnx-web-webgpu' (devices 'gpu', 'auto'; priority 55): onnxruntime-web on WebGPU, when the browser has an adapter. */
export const onnxWebGpuProvider: EngineProvider = {
  name: 'onnx-web-webgpu',
  priority: 55,
  purposes: ['inference'],
  devices: ['gpu', 'auto'],
  create: async () => {
    if (!(await hasWebGpu()))
      throw new EngineUnavailableError('This browser has no WebGPU adapter (navigator.gpu is missing or requestAdapter() returned null); use the wasm engine.');
    return new OnnxWebEngine({ executionProvider: 'webgpu' });
  },
};

/** Registers 'onnx-web-wasm' and 'onnx-web-webgpu' with the engine registry of `@bigr/core`. */
export function registerOnnxWebEngines(): void {
  registerEngine(onnxWebWasmProvider);
  registerEngine(onnxWebGpuProvider);
}
