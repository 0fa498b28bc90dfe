import type { Command } from 'commander';
import { CpuTensor, dims4, required } from '@bigr/core';
import { PRESETS, resizeBilinear } from '@bigr/sampler';
import { BigrPipeline } from '@bigr/pipeline';
import { centerCropResize, padImages, rasterToTensor } from '@bigr/tokenizer';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { inferenceEngine } from '../engines.js';
import {
  appRequest,
  checkInt,
  concatImages,
  modelOptions,
  readRaster,
  requireFile,
  samplingOptions,
  weightsHash,
  withProgress,
  withSuffix,
  writeImageOutput,
  type ImageGeometry,
} from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';
import { withModelDiffusionSteps } from '../diffusionSteps.js';

/** Settings of `bigr enrich` (defaults: the official apps/enrich.py: I = 20, τ_g = 0, linear schedule, 'known' budget). */
export const ENRICH_DEFAULTS = {
  model: '',
  rounds: 4,
  inputSize: 0,
  out: 'enrich.png',
  seed: 0,
  cfg: PRESETS.enrich.cfgScale,
  iterations: PRESETS.enrich.iterations,
  gumbel: PRESETS.enrich.gumbelTemperature,
  budget: PRESETS.enrich.budget as string,
  /** 0: the model's transcoder.inferenceSteps. */
  diffusionSteps: 0,
};

/** Flags of `bigr enrich` as given on the command line. */
export type EnrichFlags = GivenFlags<typeof ENRICH_DEFAULTS>;

/**
 * The low-resolution input: the file center-cropped to `inputSize` (the official script uses half the model size),
 * upsampled bilinearly (align_corners = False) to the unpadded model size, then padded: [1, C, size, size].
 */
export async function lowResInput(path: string, inputSize: number, geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  let raster = await readRaster(path, geom.channels);
  if (raster.width !== inputSize || raster.height !== inputSize) raster = centerCropResize(raster, inputSize);
  const t = rasterToTensor(raster);
  let img = new CpuTensor<'float32'>(t.data, [1, ...t.shape]);
  if (inputSize !== geom.inner) img = resizeBilinear(img, geom.inner, geom.inner);
  return geom.pad > 0 ? padImages(img, geom.pad) : img;
}

/**
 * `bigr enrich <image>`: image enrichment (docs/algorithm.md §8.3): the image at low resolution is upsampled, encoded, and its
 * four 2×2 token sub-lattices regenerated in chained rounds. Writes each round (`<out>-round<r>.png` + sidecar) and
 * a strip `<out>` of the upsampled input followed by every round.
 */
export async function enrichCommand(ctx: CliContext, imagePath: string, flags: EnrichFlags): Promise<void> {
  let cfg = await resolveConfig({
    command: 'enrich',
    defaults: ENRICH_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  checkInt('rounds', cfg.rounds, 1, 100);
  checkInt('diffusion-steps', cfg.diffusionSteps, 0, 100000);
  await requireFile(imagePath, 'Image');
  const modelDir = await modelDirectory(cfg.model);
  const roundOutputs = Array.from({ length: cfg.rounds }, (_, r) => withSuffix(cfg.out, `-round${r + 1}`));
  await guardOutputsWithSidecars('enrich', ctx.force, [cfg.out, ...roundOutputs], [flags.config, imagePath, ...modelInputFiles(modelDir)]);
  const engine = await inferenceEngine();
  const bigr = await BigrPipeline.fromDirectory(modelDir, engine);
  // The run records the steps it uses: the flag, else the model's own (docs/algorithm.md §4.3).
  cfg = withModelDiffusionSteps(cfg, bigr.config);
  const geom = bigr.tokenizer.geometry;
  const inputSize = cfg.inputSize > 0 ? cfg.inputSize : Math.max(1, Math.round(geom.inner / 2));
  checkInt('input-size', inputSize, 1, geom.inner);
  const image = await lowResInput(imagePath, inputSize, geom);

  const started = Date.now();
  const result = await withProgress(ctx, 'enrich', (onProgress) => bigr.enrich({ image, rounds: cfg.rounds, ...appRequest(ctx, cfg, onProgress) }));
  const seconds = (Date.now() - started) / 1000;
  const modelHash = await weightsHash(modelDir);
  const common = { model: modelDir, engine: engine.name, image: imagePath, inputSize, seconds };
  const outputs: string[] = [];
  // The pipeline decodes every round (it holds the tokenizer).
  const roundImages = result.rounds.map((round) => required(round.images, 'decoded round images'));
  for (const [r, round] of result.rounds.entries()) {
    const path = withSuffix(cfg.out, `-round${r + 1}`);
    const sidecar = await writeImageOutput(path, required(round.images, 'decoded round images'), geom, 1, {
      command: 'enrich',
      seed: cfg.seed,
      config: cfg,
      modelHash,
      extra: { ...common, round: r + 1, offsetOrder: round.offsetOrder },
    });
    outputs.push(path, sidecar);
  }
  const strip = concatImages([image, ...roundImages]);
  const sidecar = await writeImageOutput(cfg.out, strip, geom, dims4(strip.shape, 'image strip')[0], {
    command: 'enrich',
    seed: cfg.seed,
    config: cfg,
    modelHash,
    extra: { ...common, layout: 'upsampled input, then round 1, 2, ...', offsetOrders: result.rounds.map((r) => r.offsetOrder) },
  });
  outputs.unshift(cfg.out, sidecar);
  ctx.out(`wrote ${cfg.out} (input ${inputSize} px + ${cfg.rounds} rounds, ${seconds.toFixed(1)} s), ${sidecar} and ${cfg.rounds} round images`);
  ctx.result({ ok: true, command: 'enrich', outputs, rounds: cfg.rounds, inputSize, seconds, modelHash, config: cfg });
}

/** Registers `bigr enrich`. */
export function registerEnrich(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('enrich')
    .description('enrich a low-resolution image by regenerating its 2x2 token sub-lattices in rounds; writes every round')
    .argument('<image>', 'input PNG/JPEG');
  modelOptions(cmd)
    .option('--rounds <n>', 'chained rounds')
    .option('--input-size <px>', 'low resolution the image is center-cropped to before upsampling (default: half the model size)')
    .option('--out <file.png>', 'strip of input + rounds; rounds go to <out>-round<r>.png (each with a .json sidecar)');
  samplingOptions(cmd, true).action(async (image: string, _flags: unknown, cmd: Command) => enrichCommand(ctx(), image, givenFlags(cmd, ENRICH_DEFAULTS)));
}
