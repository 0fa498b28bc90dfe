import { resolveEngine, type Engine } from '@bigr/core';

/** How a pipeline picks its inference engine. */
export interface EngineChoice {
  /** An engine to use as is (e.g. one shared by several pipelines). */
  readonly engine?: Engine;
  /**
   * Device word or engine name for `resolveEngine` ('auto', 'cpu', 'gpu', 'wasm', 'onnx-cpu', ...). Default: the
   * `BIGR_DEVICE` environment variable, then 'auto' (onnxruntime when `@bigr/engine-onnx` is installed).
   */
  readonly device?: string;
}

/** The engine of `choice`: the given one, or the best registered inference engine for the device. */
export async function chooseEngine(choice: EngineChoice): Promise<Engine> {
  if (choice.engine) return choice.engine;
  return resolveEngine({ purpose: 'inference', ...(choice.device !== undefined ? { device: choice.device } : {}) });
}
