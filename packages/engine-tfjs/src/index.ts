/**
 * @bigr/engine-tfjs — the BiGR training engine on TensorFlow.js: eager, differentiable {@link TfjsOps}, the
 * {@link TfjsEngine} (compile + createTrainable) and backend set-up (wasm SIMD with a CPU-fallback kernel
 * shim, the pure-JS cpu backend, or tfjs-node(-gpu) when installed).
 *
 * Importing this package registers the engine providers 'tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm' and
 * 'tfjs-cpu' with `@bigr/core` (see {@link TFJS_ENGINE_PROVIDERS}); `resolveEngine` then finds them.
 * @packageDocumentation
 */
import { registerTfjsEngines } from './providers.js';

export { initTfjs, useBackend, TFJS_NODE_PACKAGES, type TfjsBackendKind, type InitTfjsOptions, type TfjsBackendInfo } from './backend.js';
export { registerCpuFallbackKernels } from './cpuFallback.js';
export { TfjsOps, type TfjsOpsOptions } from './tfjsOps.js';
export { TfjsEngine, createTfjsEngine } from './tfjsEngine.js';
export { TfjsTrainableParameters, type TfjsTrainableContext } from './trainable.js';
export { TFJS_ENGINE_PROVIDERS, registerTfjsEngines } from './providers.js';
export { toTfTensor, fromTfTensor } from './convert.js';

registerTfjsEngines();
