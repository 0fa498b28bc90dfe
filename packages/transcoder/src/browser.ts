/**
 * @bigr/transcoder, browser-safe entry — everything of the package except the weight-file readers and writers
 * (`loadTranscoderWeights` / `saveTranscoderWeights`, Node only, in index.ts; the in-memory `parseTranscoderWeights`
 * and `serializeTranscoderWeights` are here). Bundlers pick it through the package's `default` export condition.
 * @packageDocumentation
 */
export * from './config.js';
export * from './noiseSchedule.js';
export * from './visitedTimesteps.js';
export * from './bernoulliPosterior.js';
export * from './timestepEmbedding.js';
export * from './denoiser.js';
export * from './presets.js';
export * from './weightedBce.js';
export * from './transcoderLoss.js';
export * from './transcoderSampler.js';
export * from './weights.js';
export * from './categoricalHead.js';
