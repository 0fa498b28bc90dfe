import { ConfigError, sha256OfFile } from '@bigr/core';
import { DEFAULT_SAMPLING, type SamplingSettings } from '@bigr/sampler';
import { BigrPipeline, bigrHeadKind, isCausalModel, modelCommitRule, type GenerateOutput } from '@bigr/pipeline';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import type { GivenFlags } from '../givenFlags.js';
import { inferenceEngine } from '../engines.js';
import { writeGrid } from '../images.js';
import { writeSidecar } from '../sidecar.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { generateToFolder, isFolderOutput } from './generateFolder.js';
import { modelDirectory } from '../modelPaths.js';
import { withModelDiffusionSteps, diffusionStepsOption } from '../diffusionSteps.js';

/** Settings of `bigr generate`. */
export const GENERATE_DEFAULTS = {
  model: '',
  class: 'all',
  n: 16,
  out: 'samples.png',
  cols: 0,
  seed: 0,
  cfg: 2.5,
  cfgSchedule: 'constant',
  iterations: 10,
  gumbel: 0.17,
  gumbelSchedule: 'constant',
  order: 'entropy',
  confidence: 'margin',
  /** 0: the model's transcoder.inferenceSteps (modelDiffusionSteps). */
  diffusionSteps: 0,
  batchSize: 50,
  workers: 0,
};

/** Flags of `bigr generate` as given on the command line. */
export type GenerateFlags = GivenFlags<typeof GENERATE_DEFAULTS>;

/** Sampler settings from the sampling keys of {@link GENERATE_DEFAULTS} (shared with `bigr eval --model`). */
export function samplingSettingsOf(
  cfg: Pick<typeof GENERATE_DEFAULTS, 'iterations' | 'cfg' | 'cfgSchedule' | 'gumbel' | 'gumbelSchedule' | 'order' | 'confidence'>,
): Partial<SamplingSettings> {
  return {
    iterations: cfg.iterations,
    cfgScale: cfg.cfg,
    cfgSchedule: cfg.cfgSchedule as SamplingSettings['cfgSchedule'],
    gumbelTemperature: cfg.gumbel,
    gumbelSchedule: cfg.gumbelSchedule as SamplingSettings['gumbelSchedule'],
    order: cfg.order as SamplingSettings['order'],
    confidence: cfg.confidence as SamplingSettings['confidence'],
  };
}

/** Largest --iterations the CLI accepts (more than the token count of any model adds nothing). */
export const MAX_CLI_ITERATIONS = 4096;
/** Largest --diffusion-steps the CLI accepts (the model's transcoder.timesteps bounds it further). */
export const MAX_CLI_DIFFUSION_STEPS = 100_000;
/** Memory one sampling call may use for its activations (bytes); `generate` splits --n into batches under it. */
export const SAMPLING_MEMORY_BUDGET = 512 * 1024 * 1024;

/** Validates the sampling flags shared by `bigr generate` and `bigr eval --model` before any work. */
export function validateSamplingFlags(cfg: Pick<typeof GENERATE_DEFAULTS, 'iterations' | 'diffusionSteps' | 'cfg' | 'gumbel'>): void {
  if (!Number.isInteger(cfg.iterations) || cfg.iterations < 1 || cfg.iterations > MAX_CLI_ITERATIONS)
    throw new ConfigError(
      `--iterations must be an integer in 1..${MAX_CLI_ITERATIONS}, got ${cfg.iterations} (e.g. 10; more than the model's token count adds nothing).`,
    );
  if (!Number.isInteger(cfg.diffusionSteps) || cfg.diffusionSteps < 0 || cfg.diffusionSteps > MAX_CLI_DIFFUSION_STEPS)
    throw new ConfigError(
      `--diffusion-steps must be an integer in 1..${MAX_CLI_DIFFUSION_STEPS} (or 0 for the model's transcoder.inferenceSteps), got ${cfg.diffusionSteps} ` +
        "(e.g. 100; at most the model's transcoder.timesteps).",
    );
  if (!Number.isFinite(cfg.cfg) || cfg.cfg < 0 || cfg.cfg > 1000) throw new ConfigError(`--cfg must be a number in [0, 1000], got ${cfg.cfg} (e.g. 2.5).`);
  if (!Number.isFinite(cfg.gumbel) || cfg.gumbel < 0 || cfg.gumbel > 1000)
    throw new ConfigError(`--gumbel must be a number in [0, 1000], got ${cfg.gumbel} (e.g. 0.17).`);
}

/**
 * Images per sampling call: an estimate of the activations of one image (both CFG halves of the backbone's hidden
 * states and the transcoder's rows, with headroom for temporaries) against {@link SAMPLING_MEMORY_BUDGET}, at most 64.
 */
export function samplingBatchSize(backbone: { tokens: number; dim: number; layers: number }, transcoderWidth: number, bitsPerToken: number): number {
  const perImage = 2 * backbone.tokens * 4 * (backbone.dim * 24 + transcoderWidth * 16 + bitsPerToken * 8);
  return Math.max(1, Math.min(64, Math.floor(SAMPLING_MEMORY_BUDGET / perImage)));
}

/** `bigr generate`: class-conditional samples from a BiGR model directory (the bundled model by default). */
export async function generateCommand(ctx: CliContext, flags: GenerateFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'generate',
    defaults: GENERATE_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  if (await isFolderOutput(cfg.out)) {
    // One PNG per image, on every core, resumable (generateFolder.ts).
    validateSamplingFlags(cfg);
    return generateToFolder(ctx, cfg.out, cfg, samplingSettingsOf(cfg), await modelDirectory(cfg.model));
  }
  if (!Number.isInteger(cfg.n) || cfg.n < 1 || cfg.n > 4096) throw new ConfigError(`--n must be an integer in 1..4096, got ${cfg.n}.`);
  if (!Number.isInteger(cfg.cols) || cfg.cols < 0 || cfg.cols > 4096) throw new ConfigError(`--cols must be an integer in 0..4096, got ${cfg.cols}.`);
  validateSamplingFlags(cfg);
  // A directory, or a Hub repo id owner/name[@revision] downloaded into the cache (modelDirectory).
  const modelDir = await modelDirectory(cfg.model);
  await guardOutputsWithSidecars('generate', ctx.force, [cfg.out], [flags.config, ...modelInputFiles(modelDir)]);
  const engine = await inferenceEngine();
  const bigr = await BigrPipeline.fromDirectory(modelDir, engine);
  // The run records the steps it used: the flag, else the model's own (docs/algorithm.md §4.3).
  const run = withModelDiffusionSteps(cfg, bigr.config);
  const labels = bigr.labels(cfg.class === 'null' ? 'none' : cfg.class, cfg.n);
  // Every study variant generates (docs/algorithm.md §13): a causal model token by token with the KV cache, a
  // categorical one with the threshold commit.
  const causal = isCausalModel(bigr.config);
  const variant = {
    head: bigrHeadKind(bigr.config),
    attention: bigr.config.backbone.attention,
    decoding: causal ? 'autoregressive (raster order, KV cache)' : 'masked unmasking',
    commit: modelCommitRule(bigr.config),
  };
  if (causal)
    ctx.info(
      `${modelDir} has a causal backbone (${variant.head} head): generating token by token in raster order; ` +
        '--iterations, --order, --gumbel, --gumbel-schedule and --confidence do not apply.',
    );
  const settings = samplingSettingsOf(cfg);
  for (const k of Object.keys(settings)) if (!(k in DEFAULT_SAMPLING)) throw new ConfigError(`Unknown sampling setting ${k}.`);
  const progress = ctx.progress('generate');
  const started = Date.now();
  // One seed per image (seed + k for image k): image k is sampled alone from its own stream, so
  // `--n 1 --seed <seed + k> --class <its class>` regenerates it by itself.
  let result: GenerateOutput;
  try {
    result = await bigr.generate({
      classes: Array.from(labels),
      seed: cfg.seed,
      ...diffusionStepsOption(run.diffusionSteps),
      signal: ctx.signal,
      onProgress: progress.update,
      ...settings,
    });
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const images = result.images;
  const cols = cfg.cols > 0 ? cfg.cols : Math.ceil(Math.sqrt(cfg.n));
  await writeGrid(cfg.out, images, cols);
  const modelHash = await sha256OfFile(join(modelDir, 'model.safetensors'));
  const sidecar = await writeSidecar(cfg.out, {
    command: 'generate',
    seed: cfg.seed,
    config: run,
    modelHash,
    extra: { model: modelDir, engine: engine.name, variant, labels: Array.from(labels), seeds: result.seeds, seconds },
  });
  ctx.out(`wrote ${cfg.out} (${cfg.n} images, ${seconds.toFixed(1)} s) and ${sidecar}`);
  ctx.result({
    ok: true,
    command: 'generate',
    outputs: [cfg.out, sidecar],
    labels: Array.from(labels),
    seeds: result.seeds,
    variant,
    seconds,
    modelHash,
    config: run,
  });
}
