import { ConfigError } from '@bigr/core';
import type { GraphDefinition, NamedTensors } from '@bigr/core';
import { OnnxGraphBuilder } from './graphBuilder.js';
import type { ModelProtoOptions } from './graphBuilder.js';
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
 * float32 initializers. This is the ONNX export API: the bytes can be written to a `.onnx` file and loaded
 * by any ONNX runtime.
 */
export function buildOnnxModel(def: GraphDefinition, params: NamedTensors, options: ModelProtoOptions = {}): Uint8Array {
  return traceGraph(def, params).serialize(options);
}
