/**
 * @bigr/sampler — BiGR's entropy-ordered unmasking sampler (cosine schedule, confidence, Gumbel noise, CFG,
 * Bernoulli commits; docs/algorithm.md §6) with the Table 3 ordering ablations, the zero-shot applications of docs/algorithm.md §8
 * (inpainting, outpainting, editing, class interpolation, enrichment), presets (paper Table 7, scripts), a replay
 * RNG for the official fixtures, and {@link createBigrPredictor}, which composes a backbone and a transcoder while
 * skipping work the released sampler does needlessly.
 * @packageDocumentation
 */
// The browser-safe modules (browser.ts, the package's 'default' export condition), then the Node-only ones.
export * from './browser.js';
export * from './samplerPool.js';
export type { SamplerFactorySpec, SamplerWorkerFactory, SamplerWorkerModel, WorkerMethod, WorkerMethodResult } from './samplerWorkerProtocol.js';
