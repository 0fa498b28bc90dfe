/**
 * @bigr/engine-onnx — builds ONNX graphs (opset 17, IR 8) from the shared BiGR layer definitions and runs
 * them on onnxruntime-node. Importing the package registers the engines 'onnx-cpu' and 'onnx-cuda' with
 * the @bigr/core engine registry.
 * @packageDocumentation
 */
import { registerOnnxEngines } from './providers.js';

export type { OnnxDType, OnnxValue } from './onnxValue.js';
export { OnnxGraphBuilder, ONNX_IR_VERSION, ONNX_OPSET_VERSION, MAX_INLINE_INITIALIZER_BYTES } from './graphBuilder.js';
export type {
  DeferredData,
  ExternalTensorLocation,
  InitializerData,
  InitializerInfo,
  ModelProtoOptions,
  OnnxAttribute,
  UsedInitializer,
} from './graphBuilder.js';
export { OnnxOps } from './onnxOps.js';
export { buildOnnxModel, buildOnnxModelParts, modelPartsOf, traceGraph } from './buildModel.js';
export type { BuildOnnxModelOptions, ExternalDataBuffer, OnnxModelParts } from './buildModel.js';
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
export type { ModelInterface, OnnxEngineOptions } from './onnxEngine.js';
export { toOrtTensor, fromOrtTensor } from './tensorConvert.js';
export { loadOrt } from './ortRuntime.js';
export type { OrtModule } from './ortRuntime.js';
export { onnxCpuProvider, onnxCudaProvider, registerOnnxEngines } from './providers.js';
export { measureMatmulPeak } from './matmulPeak.js';
export type { MatmulPeakOptions, MatmulPeakResult } from './matmulPeak.js';
export { onnx } from './onnxProto.js';
export { checkFeeds } from './feedCheck.js';

registerOnnxEngines();
export { createFloat64GemmNT } from './float64Gemm.js';
export type { Float64GemmNT, Float64GemmOptions } from './float64Gemm.js';
