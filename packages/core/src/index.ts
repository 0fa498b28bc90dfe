/**
 * @bigr/core — the shared interfaces of the BiGR packages: tensors, packed binary codes, the seeded RNG,
 * safetensors I/O and model directories, errors, progress events, the op interface layers are written
 * against, and engine selection.
 * @packageDocumentation
 */
export * from './tensor.js';
export * from './errors.js';
export * from './progress.js';
export * from './ops.js';
export * from './engine.js';
export * from './rng.js';
export * from './layers/index.js';
