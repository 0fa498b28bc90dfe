/**
 * @bigr/pipeline, browser-safe entry — {@link WebBigrPipeline} (a BiGR model built from in-memory files, e.g.
 * fetched with {@link fetchBigrModel}: generate with one seed per image, inpaint, encode, decode and Hamming search),
 * the per-image seeds, model config validation and the image layout helpers. Model directories on disk, the Hub
 * cache, checkpoint import/export and worker pools are in the Node entry (index.ts). Bundlers pick this file
 * through the package's `default` export condition.
 * @packageDocumentation
 */
export * from './webPipeline.js';
export * from './seeds.js';
export * from './modelBounds.js';
export * from './modelConfigs.js';
export * from './classIndex.js';
export * from './imageLayout.js';
export type {
  BigrHeadKind,
  BigrModelConfig,
  BigrModelConfigCommon,
  CategoricalBigrModelConfig,
  TranscoderBigrModelConfig,
} from './bigrModelDir.js';
export type { TokenizerModelConfig } from './tokenizerModelDir.js';
export * from './bigrSampling.js';
export * from './bigrHead.js';
export * from './modelSampling.js';
export * from './tokenizerCodec.js';
