import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { FormatError, NotFoundError } from '@bigr/core';
import type { onnx as proto } from 'onnx-proto';
import { onnx } from './onnxProto.js';

/**
 * Largest model file {@link checkExternalData} reads (256 MiB). Models with external data are small; larger
 * files hold their weights inline and are left to onnxruntime.
 */
export const MAX_CHECKED_MODEL_BYTES = 256 * 2 ** 20;

/** Bytes per element of the ONNX `TensorProto.DataType` codes that can be stored as external data. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Summary of the external data a model refers to. */
export interface ExternalDataReport {
  /** Initializers stored as external data. */
  readonly tensors: number;
  /** The data files they refer to (absolute or relative to the working directory, as resolved) with their sizes. */
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
}

function toNumber(v: number | { toString(): string } | null | undefined): number {
  return v === null || v === undefined ? 0 : typeof v === 'number' ? v : Number(v.toString());
}

function entryNumber(entries: ReadonlyMap<string, string>, key: string, where: string): number | undefined {
  const raw = entries.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v)) throw new FormatError(`${where} has external_data ${key} = "${raw}"; expected a non-negative integer.`);
  return v;
}

/**
 * Checks, before onnxruntime loads it, that every initializer of the ONNX model at `modelPath` stored as
 * external data can be read: the data file named by `location` exists next to the model (relative paths
 * only), `length` (when given) equals the tensor's byte size, and `offset + size` lies within the file.
 * Throws {@link NotFoundError} for a missing model or data file and {@link FormatError} for an unparsable
 * model or a wrong length / truncated file, naming the tensor, the file and the fix. Returns null without
 * checking when the model file exceeds {@link MAX_CHECKED_MODEL_BYTES} (an inline model).
 */
export async function checkExternalData(modelPath: string): Promise<ExternalDataReport | null> {
  let size: number;
  try {
    size = (await stat(modelPath)).size;
  } catch (err) {
    throw new NotFoundError(`ONNX model ${modelPath} does not exist or cannot be read (${(err as Error).message}). Check the path.`, { cause: err });
  }
  if (size > MAX_CHECKED_MODEL_BYTES) return null;
  let model: proto.ModelProto;
  try {
    model = onnx.ModelProto.decode(await readFile(modelPath));
  } catch (err) {
    throw new FormatError(`${modelPath} is not a valid ONNX model (${(err as Error).message}). Export it again.`, { cause: err });
  }
  const dir = dirname(modelPath);
  const files = new Map<string, number | null>();
  let tensors = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    tensors++;
    const where = `Initializer "${tensor.name}" of ${modelPath}`;
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location) throw new FormatError(`${where} is stored as external data but has no location entry. Export the model again.`);
    if (isAbsolute(location) || normalize(location).startsWith('..')) {
      throw new FormatError(
        `${where} refers to external data "${location}", which is not a path inside the model's directory; ` +
          `onnxruntime only accepts relative locations next to the model. Export the model again.`,
      );
    }
    const elementBytes = ELEMENT_BYTES[tensor.dataType ?? 0];
    if (elementBytes === undefined) throw new FormatError(`${where} has data type ${tensor.dataType}, which cannot be stored as external data.`);
    const expected = (tensor.dims ?? []).reduce<number>((n, d) => n * toNumber(d), 1) * elementBytes;
    const offset = entryNumber(entries, 'offset', where) ?? 0;
    const length = entryNumber(entries, 'length', where);
    if (length !== undefined && length !== expected) {
      throw new FormatError(
        `${where} (${(tensor.dims ?? []).map(toNumber).join('x')} elements of ${elementBytes} bytes) needs ${expected} bytes but its external_data length is ` +
          `${length}. The model file is corrupt; export it again.`,
      );
    }
    const path = join(dir, location);
    let fileBytes = files.get(path);
    if (fileBytes === undefined) {
      fileBytes = await stat(path).then(
        (s) => (s.isFile() ? s.size : null),
        () => null,
      );
      files.set(path, fileBytes);
    }
    if (fileBytes === null) {
      throw new NotFoundError(
        `${where} stores its data in "${location}", but ${path} does not exist. ` +
          `Keep the data file next to the model (exportOnnxModel writes <name>.onnx and <name>.onnx.data together).`,
      );
    }
    if (offset + expected > fileBytes) {
      throw new FormatError(
        `${where} needs bytes ${offset}..${offset + expected} of ${path}, but the file has only ${fileBytes} bytes; ` +
          `it is truncated or belongs to another export. Copy the complete data file or export the model again.`,
      );
    }
  }
  return { tensors, files: [...files].map(([path, bytes]) => ({ path, bytes: bytes ?? 0 })) };
}
