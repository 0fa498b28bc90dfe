import { EngineUnavailableError } from '@bigr/core';
import type * as Ort from 'onnxruntime-node';

/** The onnxruntime-node module. */
export type OrtModule = typeof Ort;

let loading: Promise<OrtModule> | undefined;

/**
 * Loads onnxruntime-node (and its native binding) on first use, so importing this package, building and
 * exporting ONNX models never needs the native library.
 */
export function loadOrt(): Promise<OrtModule> {
  loading ??= import('onnxruntime-node').then(
    (m) => m as OrtModule,
    (err: unknown) => {
      loading = undefined;
      throw new EngineUnavailableError(
        `onnxruntime-node could not be loaded (${(err as Error).message.split('\n')[0]}). ` +
          `Reinstall it with \`npm install onnxruntime-node@1.30.0\` (set ONNXRUNTIME_NODE_INSTALL_CUDA=skip when offline).`,
        { cause: err },
      );
    },
  );
  return loading;
}
