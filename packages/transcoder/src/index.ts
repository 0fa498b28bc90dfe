/**
 * @bigr/transcoder — BiGR's binary transcoder g_φ: the Bernoulli-diffusion head that turns per-token backbone
 * features into bit probabilities (docs/algorithm.md §3, §4). Provides the noise schedule, the denoiser as an engine-neutral
 * graph definition, the training loss (core `BitHeadLoss`), the CFG sampler (core `BitHeadSampler`) and
 * safetensors weights with the official `denoise_mlp.*` names.
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
export * from './weightsFile.js';
export * from './categoricalHead.js';
