/**
 * @bigr/engine-onnx — builds ONNX graphs (opset 17, IR 8) from the shared BiGR layer definitions and runs
 * them on onnxruntime-node. Importing the package registers the engines 'onnx-cpu' and 'onnx-cuda' with
 * the @bigr/core engine registry.
 * @packageDocumentation
 */
import { registerOnnxEngines } from './providers.js';

export type { OnnxDType, OnnxValue } from './onnxValue.js';
export { OnnxGraphBuilder, ONNX_IR_VERSION, ONNX_OPSET_VERSION } from './graphBuilder.js';
export type { InitializerData, InitializerInfo, ModelProtoOptions, OnnxAttribute } from './graphBuilder.js';
export { OnnxOps } from './onnxOps.js';
export { buildOnnxModel, traceGraph } from './buildModel.js';
export { OnnxEngine, OnnxCompiledGraph } from './onnxEngine.js';
export type { OnnxEngineOptions } from './onnxEngine.js';
export { toOrtTensor, fromOrtTensor } from './tensorConvert.js';
export { loadOrt } from './ortRuntime.js';
export type { OrtModule } from './ortRuntime.js';
export { onnxCpuProvider, onnxCudaProvider, registerOnnxEngines } from './providers.js';
export { measureMatmulPeak } from './matmulPeak.js';
export type { MatmulPeakOptions, MatmulPeakResult } from './matmulPeak.js';
export { onnx } from './onnxProto.js';

registerOnnxEngines();
