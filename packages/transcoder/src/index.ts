/**
 * @bigr/transcoder — BiGR's binary transcoder g_φ: the Bernoulli-diffusion head that turns per-token backbone
 * features into bit probabilities (docs/algorithm.md §3, §4). Provides the noise schedule, the denoiser as an engine-neutral
 * graph definition, the training loss (core `BitHeadLoss`), the CFG sampler (core `BitHeadSampler`) and
 * safetensors weights with the official `denoise_mlp.*` names.
 * @packageDocumentation
 */
// The browser-safe modules (browser.ts, the package's 'default' export condition), then the Node-only ones.
export * from './browser.js';
export * from './weightsFile.js';
