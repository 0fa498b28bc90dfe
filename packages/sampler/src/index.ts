/**
 * @bigr/sampler — BiGR's entropy-ordered unmasking sampler (cosine schedule, confidence, Gumbel noise, CFG,
 * Bernoulli commits; docs/algorithm.md §6) with the Table 3 ordering ablations, the zero-shot applications of docs/algorithm.md §8
 * (inpainting, outpainting, editing, class interpolation, enrichment), presets (paper Table 7, scripts), a replay
 * RNG for the official fixtures, and {@link createBigrPredictor}, which composes a backbone and a transcoder while
 * skipping work the released sampler does needlessly.
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
export * from './samplerPool.js';
export type { SamplerFactorySpec, SamplerWorkerFactory, SamplerWorkerModel, WorkerMethod, WorkerMethodResult } from './samplerWorkerProtocol.js';
