/**
 * @bigr/core, browser-safe entry — everything of `@bigr/core` that runs without Node: tensors, packed binary codes,
 * the seeded RNG, safetensors parsing and serialisation in memory, errors, progress events, the op interface,
 * shared layers, autodiff, optimisers and engine selection. Bundlers pick it through the package's `default`
 * export condition; Node resolves the full entry (`index.ts`), which adds file I/O (safetensors files, model
 * directories, atomic writes, IDX files, file hashing) and the checkpointing {@link Trainer}.
 * @packageDocumentation
 */
export * from './tensor.js';
export * from './errors.js';
export * from './progress.js';
export * from './ops.js';
export * from './engine.js';
export * from './trainableParameters.js';
export * from './closeNames.js';
export * from './rng.js';
export { createRng, rngFromState, SEEDED_RNG_ALGORITHM, type Seed, type SeededRng } from './seededRng.js';
export * from './binaryCodes.js';
export * from './halfFloat.js';
export * from './crc32.js';
export {
  DEFAULT_MAX_HEADER_BYTES,
  parseSafetensors,
  parseSafetensorsHeader,
  serializeSafetensors,
  type SafetensorsContent,
  type SafetensorsDType,
  type SafetensorsHeader,
  type SafetensorsReadOptions,
  type SafetensorsTensorInfo,
  type SafetensorsWriteOptions,
} from './safetensorsFormat.js';
export * from './adamw.js';
export * from './lars.js';
export * from './optimizer.js';
export * from './gradClip.js';
export * from './ema.js';
export * from './lrSchedule.js';
export * from './layers/index.js';
export * from './autodiff/index.js';
export { shuffleInPlace, permutation } from './shuffle.js';
export * from './invariants.js';
export * from './components.js';
export * from './guidance.js';
export * from './jsonBounded.js';
export * from './finiteTensors.js';
