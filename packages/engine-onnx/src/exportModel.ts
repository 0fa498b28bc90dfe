import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, atomicWrite } from '@bigr/core';
import type { GraphDefinition, NamedTensors } from '@bigr/core';
import { traceGraph } from './buildModel.js';
import { externalDataMinBytes, externalDataPieces, externalInitializers, layoutExternalData, useExternalData } from './externalData.js';
import type { ExternalDataOptions } from './externalData.js';
import type { ModelProtoOptions } from './graphBuilder.js';

/** Options of {@link exportOnnxModel}. */
export interface ExportOnnxModelOptions extends ModelProtoOptions, ExternalDataOptions {
  /** Base file name: the model is written to `<name>.onnx`, external data to `<name>.onnx.data`. */
  readonly name: string;
}

/** What {@link exportOnnxModel} wrote. */
export interface ExportedOnnxModel {
  /** Path of the `.onnx` file. */
  readonly modelPath: string;
  /** Path of the external data file, or null when every initializer is inside the model. */
  readonly dataPath: string | null;
  /** Size of the `.onnx` file in bytes. */
  readonly modelBytes: number;
  /** Size of the external data file in bytes (0 without one). */
  readonly dataBytes: number;
  /** Number of initializers stored in the external data file. */
  readonly externalInitializers: number;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new ConfigError(
      `Export name ${JSON.stringify(name)} is invalid; use a plain file name without directories (e.g. "backbone"), which becomes "<name>.onnx".`,
    );
  }
  return name;
}

/**
 * Exports a graph definition with its parameters as ONNX files in `dir` (created if missing): `<name>.onnx`,
 * and, when the initializers total more than `externalDataThreshold` (default 1 GiB) or `externalData` is
 * true, `<name>.onnx.data` holding every initializer of at least `externalDataMinBytes` (default 1 KiB) as ONNX
 * external data (`location` `<name>.onnx.data`, offsets aligned to 4 KiB, 64 KiB for tensors from 1 MiB).
 * The data file is streamed out tensor by tensor (parameters are not copied; transposed weights are computed
 * one at a time) and written before the model, each atomically (temporary file, fsync, rename). Keep both
 * files side by side; onnxruntime resolves `location` relative to the model file. A `<name>.onnx.data` left
 * from an earlier export is not removed when the new export is inline.
 */
export async function exportOnnxModel(def: GraphDefinition, params: NamedTensors, dir: string, options: ExportOnnxModelOptions): Promise<ExportedOnnxModel> {
  const name = checkName(options?.name);
  const builder = traceGraph(def, params);
  const external = useExternalData(builder.usedInitializerBytes, options);
  const minBytes = externalDataMinBytes(options);
  await mkdir(dir, { recursive: true });
  const modelPath = join(dir, `${name}.onnx`);
  if (!external) {
    const bytes = builder.serialize(options);
    await atomicWrite(modelPath, bytes);
    return { modelPath, dataPath: null, modelBytes: bytes.byteLength, dataBytes: 0, externalInitializers: 0 };
  }
  const dataFile = `${name}.onnx.data`;
  const layout = layoutExternalData(externalInitializers(builder, minBytes), dataFile);
  const model = builder.serialize(options, layout.locations);
  const dataPath = join(dir, dataFile);
  await atomicWrite(dataPath, externalDataPieces(layout));
  await atomicWrite(modelPath, model);
  return { modelPath, dataPath, modelBytes: model.byteLength, dataBytes: layout.byteLength, externalInitializers: layout.chunks.length };
}
