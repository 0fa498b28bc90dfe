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
export { createRng, rngFromState, SEEDED_RNG_ALGORITHM, type Seed, type SeededRng } from './seededRng.js';
export * from './binaryCodes.js';
export * from './halfFloat.js';
export * from './safetensors.js';
export * from './atomicWrite.js';
export * from './modelDirectory.js';
export * from './tensorHash.js';
export * from './adamw.js';
export * from './lars.js';
export * from './optimizer.js';
export * from './gradClip.js';
export * from './ema.js';
export * from './lrSchedule.js';
export * from './layers/index.js';
export * from './autodiff/index.js';
export * from './components.js';
export * from './trainer.js';
export { openForRead, readExactly } from './fileRead.js';
export { readBoundedFile } from './boundedRead.js';
export * from './idx.js';
export * from './jsonBounded.js';
export * from './finiteTensors.js';
