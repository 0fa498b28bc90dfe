/**
 * @bigr/sampler, browser-safe entry — every sampling algorithm, without the worker-thread `SamplerPool` (Node only,
 * in index.ts). Bundlers pick it through the package's `default` export condition.
 * @packageDocumentation
 */
export * from './unmaskSchedule.js';
export * from './confidence.js';
export * from './gumbel.js';
export * from './classifierFreeGuidance.js';
export * from './ordering.js';
export * from './settings.js';
export * from './conditions.js';
export * from './generate.js';
export * from './referenceSampler.js';
export * from './bigrPredictor.js';
export * from './replayRng.js';
export * from './masks.js';
export * from './resize.js';
export * from './inpaint.js';
export * from './edit.js';
export * from './interpolate.js';
export * from './enrich.js';
export * from './presets.js';
export * from './autoregressive.js';
export * from './imageRngs.js';
