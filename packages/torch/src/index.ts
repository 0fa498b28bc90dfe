/**
 * @bigr/torch — reading and writing PyTorch `torch.save` checkpoints without Python: a bounded ZIP reader, a data-only
 * unpickler with an allow-list of globals, tensor materialisation, and a state-dict writer.
 * See {@link readTorchCheckpoint} for the supported layout variants.
 * @packageDocumentation
 */
export {
  ZipArchive,
  DEFAULT_MAX_CENTRAL_DIRECTORY_BYTES,
  DEFAULT_MAX_ZIP_ENTRIES,
  type ZipEntry,
  type ZipReadOptions,
  type ZipEntryReadOptions,
  type ZipStreamOptions,
} from './zipArchive.js';
export { storedZipChunks, ZipWriter, type ZipWriterEntry, type ZipWriterOptions } from './zipWriter.js';
export {
  unpickle,
  describePickleValue,
  isPickleTuple,
  isPickleObject,
  PickleDict,
  PickleGlobal,
  PickleInstance,
  DEFAULT_PICKLE_LIMITS,
  type PickleValue,
  type PickleObject,
  type PickleCallContext,
  type PickleGlobalHandler,
  type PickleLimits,
  type UnpickleOptions,
} from './pickle.js';
export { TORCH_STORAGE_TYPES, TorchStorageRef, TorchTensorRef, type TorchDType, type TorchStorageType } from './torchTypes.js';
export { TORCH_PICKLE_GLOBALS, torchPersistentLoad, checkTensorView } from './torchGlobals.js';
export { decodeTorchView } from './torchMaterialize.js';
export {
  readTorchCheckpoint,
  readTorchStateDict,
  flattenTorchTensors,
  type TorchCheckpoint,
  type TorchCheckpointOptions,
  type TorchTensorsOptions,
  type ReadTorchStateDictOptions,
} from './torchCheckpoint.js';
export {
  writeTorchStateDict,
  serializeTorchStateDict,
  torchStateDictChunks,
  type TorchWriteOptions,
  type TorchStoreDType,
  type TorchArgValue,
} from './torchWriter.js';
