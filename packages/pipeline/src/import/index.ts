/**
 * Importing released BiGR / B-AE checkpoints (docs/algorithm.md §10) into model directories: {@link importOfficial}.
 */
export { importOfficial, type ImportOfficialOptions, type ImportReport, type ImportedSource } from './importOfficial.js';
export { formatImportReport } from './describeImport.js';
export { readClassNames } from './classNames.js';
export { inferBigrLayout, RELEASED_HEAD_DIM, type InferBigrOptions, type InferredBigr } from './bigrLayout.js';
export { inferBaeLayout, type InferBaeOptions, type InferredBae, type BaeVariant, type BaeResolutionSource } from './baeLayout.js';
export {
  openCheckpoint,
  type CheckpointSource,
  type CheckpointLayout,
  type StateDictEntry,
  type StateDictSelection,
  type CheckpointArgValue,
} from './checkpointSource.js';
export { verifyScheduleBuffers, SCHEDULER_BUFFERS, SCHEDULE_TOLERANCE } from './scheduleCheck.js';
export { compareKeys, assertKeysMatch, type KeyComparison, type ShapeMap } from './keyCheck.js';
