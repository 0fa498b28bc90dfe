/**
 * @bigr/engine-onnx/graph — the runtime-independent half of the ONNX engine: {@link OnnxOps} emits the shared layer
 * definitions as ONNX nodes into an {@link OnnxGraphBuilder}, and {@link traceGraph} / {@link buildOnnxModel} turn a
 * `GraphDefinition` with its parameters into a serialised `ModelProto`; {@link OrtCompiledGraph} and the tensor
 * conversions run such a model on an onnxruntime session of either runtime. No onnxruntime import and no Node
 * built-ins, so browser engines (`@bigr/engine-onnx-web`) run exactly the graphs `OnnxEngine` runs, the same way.
 * @packageDocumentation
 */
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
export { checkFeeds } from './feedCheck.js';
export { toOrtTensor, fromOrtTensor } from './tensorConvert.js';
export type { OrtInputType, OrtTensorClass, OrtTensorLike } from './tensorConvert.js';
export { OrtCompiledGraph, firstErrorLine } from './ortCompiledGraph.js';
export type { ModelInterface, OrtRuntime, OrtSessionLike } from './ortCompiledGraph.js';
export { onnx } from './onnxProto.js';
