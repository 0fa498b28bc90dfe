import { ConfigError } from '@bigr/core';
import type { GraphDefinition, NamedTensors } from '@bigr/core';
import { OnnxGraphBuilder } from './graphBuilder.js';
import type { ExternalTensorLocation, ModelProtoOptions } from './graphBuilder.js';
import { externalDataMinBytes, externalInitializers, useExternalData } from './externalData.js';
import type { ExternalDataOptions } from './externalData.js';
import { OnnxOps } from './onnxOps.js';
import type { OnnxValue } from './onnxValue.js';

/**
 * Traces `def.build` with {@link OnnxOps} into a fresh {@link OnnxGraphBuilder}: declares the inputs
 * (string dims become `dim_param`), runs the definition and declares `def.outputs` in order. Values the
 * definition returns beyond `def.outputs` are ignored.
 */
export function traceGraph(def: GraphDefinition, params: NamedTensors): OnnxGraphBuilder {
  const builder = new OnnxGraphBuilder(def.name);
  const ops = new OnnxOps(builder, params);
  const inputs: Record<string, OnnxValue> = {};
  for (const spec of def.inputs) inputs[spec.name] = builder.addInput(spec);
  const outputs = def.build<OnnxValue>(ops, inputs);
  if (def.outputs.length === 0) throw new ConfigError(`Graph "${def.name}" declares no outputs; list them in GraphDefinition.outputs.`);
  for (const name of def.outputs) {
    const value = outputs[name];
    if (value === undefined) {
      throw new ConfigError(
        `Graph "${def.name}" declares output "${name}" but build() returned only [${Object.keys(outputs).join(', ')}]. Return every declared output.`,
      );
    }
    builder.addOutput(name, value);
  }
  return builder;
}

/**
 * Builds the serialised ONNX `ModelProto` (IR 8, opset 17) of a graph definition with its parameters as
 * float32 initializers inside the model. The bytes can be written to a `.onnx` file and loaded by any ONNX
 * runtime. Protobuf limits this to models under 2 GiB; {@link exportOnnxModel} writes larger models with
 * their weights in a side file (ONNX external data) and {@link buildOnnxModelParts} keeps them in memory.
 */
export function buildOnnxModel(def: GraphDefinition, params: NamedTensors, options: ModelProtoOptions = {}): Uint8Array {
  return traceGraph(def, params).serialize(options);
}

/** An in-memory external data file: the name a model's `external_data` `location` refers to, and its bytes. */
export interface ExternalDataBuffer {
  /** File name used as `location` in the model. */
  readonly path: string;
  /** File content. */
  readonly data: Uint8Array;
}

/**
 * A model whose large initializers are ONNX external data held in memory: the `ModelProto` bytes and one
 * buffer per external initializer (its `location` is `path`, offset 0). Pass both to onnxruntime-node as
 * `InferenceSession.create(model, { externalData })` (or to `OnnxEngine.compileModel`).
 */
export interface OnnxModelParts {
  /** Serialised `ModelProto`. */
  readonly model: Uint8Array;
  /** The external initializers' bytes (empty when every initializer is inline). */
  readonly externalData: readonly ExternalDataBuffer[];
}

/** Options of {@link buildOnnxModelParts}. */
export interface BuildOnnxModelOptions extends ModelProtoOptions, ExternalDataOptions {}

/**
 * {@link OnnxModelParts} of a traced graph: inline when `options` do not ask for external data, otherwise each
 * initializer of at least `externalDataMinBytes` becomes an in-memory external file `initializer_<i>.bin`.
 * Parameter bytes are views (not copies); deferred initializers (transposed weights) are computed here.
 */
export function modelPartsOf(builder: OnnxGraphBuilder, options: BuildOnnxModelOptions = {}): OnnxModelParts {
  if (!useExternalData(builder.usedInitializerBytes, options)) return { model: builder.serialize(options), externalData: [] };
  const locations = new Map<string, ExternalTensorLocation>();
  const externalData: ExternalDataBuffer[] = [];
  for (const init of externalInitializers(builder, externalDataMinBytes(options))) {
    const path = `initializer_${externalData.length}.bin`;
    locations.set(init.name, { location: path, offset: 0, length: init.byteLength });
    externalData.push({ path, data: init.bytes() });
  }
  return { model: builder.serialize(options, locations), externalData };
}

/**
 * Builds a graph definition as {@link OnnxModelParts}: the `ModelProto` plus, when the initializers total more
 * than `externalDataThreshold` (default 1 GiB) or `externalData` is true, their bytes as in-memory external
 * data, so models over protobuf's 2 GiB limit can be created in onnxruntime without touching the disk.
 */
export function buildOnnxModelParts(def: GraphDefinition, params: NamedTensors, options: BuildOnnxModelOptions = {}): OnnxModelParts {
  return modelPartsOf(traceGraph(def, params), options);
}
