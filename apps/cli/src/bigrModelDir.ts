/** BiGR model directories moved to `@bigr/pipeline`; re-exported here so existing imports keep working. */
export {
  BIGR_FORMAT,
  saveBigrModel,
  confinedSubdirectory,
  readBigrModel,
  loadBigrModel,
  classIndex,
  type BigrModelConfig,
  type LoadedBigrModel,
} from '@bigr/pipeline';
