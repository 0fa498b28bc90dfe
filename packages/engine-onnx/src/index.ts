/**
 * @bigr/engine-onnx — builds ONNX graphs (opset 17, IR 8) from the shared BiGR layer definitions and runs
 * them on onnxruntime-node. Importing the package registers the engines 'onnx-cpu' and 'onnx-cuda' with
 * the @bigr/core engine registry.
 * @packageDocumentation
 */
import { registerOnnxEngines } from './providers.js';

// The runtime-independent graph builder (also the '@bigr/engine-onnx/graph' entry), then the onnxruntime-node engine.
export * from './graph.js';
export {
  DEFAULT_EXTERNAL_DATA_MIN_BYTES,
  DEFAULT_EXTERNAL_DATA_THRESHOLD,
  EXTERNAL_DATA_ALIGNMENT,
  LARGE_TENSOR_ALIGNMENT,
  LARGE_TENSOR_BYTES,
  externalDataPieces,
  externalInitializers,
  layoutExternalData,
  useExternalData,
} from './externalData.js';
export type { ExternalDataChunk, ExternalDataLayout, ExternalDataOptions } from './externalData.js';
export { checkExternalData, MAX_CHECKED_MODEL_BYTES } from './externalDataCheck.js';
export type { ExternalDataReport } from './externalDataCheck.js';
export { exportOnnxModel } from './exportModel.js';
export type { ExportedOnnxModel, ExportOnnxModelOptions } from './exportModel.js';
export { OnnxEngine, OnnxCompiledGraph, defaultThreadCount } from './onnxEngine.js';
export { OnnxTrainableParameters } from './onnxTrainable.js';
export { SignatureOps } from './stepSignature.js';
export type { OnnxEngineOptions } from './onnxEngine.js';
export { loadOrt } from './ortRuntime.js';
export type { OrtModule } from './ortRuntime.js';
export { onnxCpuProvider, onnxCudaProvider, registerOnnxEngines } from './providers.js';
export { measureMatmulPeak } from './matmulPeak.js';
export type { MatmulPeakOptions, MatmulPeakResult } from './matmulPeak.js';

registerOnnxEngines();
export { createFloat64GemmNT } from './float64Gemm.js';
export type { Float64GemmNT, Float64GemmOptions } from './float64Gemm.js';
