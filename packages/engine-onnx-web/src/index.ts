/**
 * @bigr/engine-onnx-web — BiGR inference in the browser: the ONNX graphs of `@bigr/engine-onnx` (same graph
 * builder, same layer definitions) run on onnxruntime-web — WebAssembly with SIMD, threads when the page is
 * cross-origin isolated, WebGPU when the browser has it. Call {@link configureOrtWeb} with the URL of
 * onnxruntime-web's wasm files (served by your page), then {@link registerOnnxWebEngines} or create an
 * {@link OnnxWebEngine} directly.
 * @packageDocumentation
 */
export { OnnxWebEngine, OnnxWebCompiledGraph } from './onnxWebEngine.js';
export type { OnnxWebEngineOptions, WebExecutionProvider } from './onnxWebEngine.js';
export { configureOrtWeb, hasWebGpu, ortWeb, ortWebGpu } from './webRuntime.js';
export type { OrtWebInfo, OrtWebSettings, OrtWebModule } from './webRuntime.js';
export { onnxWebWasmProvider, onnxWebGpuProvider, registerOnnxWebEngines } from './providers.js';
