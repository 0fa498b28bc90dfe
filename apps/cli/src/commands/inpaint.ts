import type { Command } from 'commander';
import { ConfigError, dims4, required } from '@bigr/core';
import { PRESETS, type ImageEditResult } from '@bigr/sampler';
import { BigrPipeline } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { inferenceEngine } from '../engines.js';
import {
  appRequest,
  checkInt,
  collectBoxes,
  concatImages,
  gridCols,
  loadModelImage,
  loadRegion,
  maskRows,
  modelOptions,
  parseBoxes,
  requireFile,
  samplingOptions,
  weightsHash,
  withProgress,
  writeCodesFile,
  writeImageOutput,
} from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';
import { withModelDiffusionSteps } from '../diffusionSteps.js';

/** The three region applications (docs/algorithm.md §8.1). */
export type RegionApp = 'inpaint' | 'outpaint' | 'edit';

/** Settings of `bigr inpaint` (defaults: the official app script, script/app_inpaint.sh). */
export const INPAINT_DEFAULTS = {
  model: '',
  mask: '',
  box: '',
  n: 8,
  out: 'inpaint.png',
  cols: 0,
  original: true,
  codes: '',
  seed: 0,
  cfg: PRESETS.inpaint.cfgScale,
  iterations: PRESETS.inpaint.iterations,
  gumbel: PRESETS.inpaint.gumbelTemperature,
  budget: PRESETS.inpaint.budget as string,
  /** 0: the model's transcoder.inferenceSteps. */
  diffusionSteps: 0,
};

/** Settings of `bigr outpaint` (script/app_outpaint.sh). */
export const OUTPAINT_DEFAULTS = {
  ...INPAINT_DEFAULTS,
  out: 'outpaint.png',
  cfg: PRESETS.outpaint.cfgScale,
  iterations: PRESETS.outpaint.iterations,
  gumbel: PRESETS.outpaint.gumbelTemperature,
};

/** Settings of `bigr edit` (script/app_edit.sh); `class` is required. */
export const EDIT_DEFAULTS = {
  ...INPAINT_DEFAULTS,
  class: '',
  out: 'edit.png',
  cfg: PRESETS.edit.cfgScale,
  iterations: PRESETS.edit.iterations,
  gumbel: PRESETS.edit.gumbelTemperature,
};

/** Flags of the region commands as given on the command line. */
export type RegionFlags = GivenFlags<typeof EDIT_DEFAULTS>;

/** The settings table of a region command (`edit` adds `class`). */
export function regionDefaults(app: RegionApp): typeof INPAINT_DEFAULTS {
  return app === 'edit' ? EDIT_DEFAULTS : app === 'outpaint' ? OUTPAINT_DEFAULTS : INPAINT_DEFAULTS;
}

/** The commander action of a region command: its image argument and the flags given on the command line. */
export function regionAction(app: RegionApp, ctx: () => CliContext): (image: string, options: unknown, cmd: Command) => Promise<void> {
  return (image, _options, cmd) => regionCommand(app, ctx(), image, givenFlags(cmd, regionDefaults(app)));
}

const WHAT: Readonly<Record<RegionApp, string>> = {
  inpaint: 'regenerated (white/boxes = regenerate, unconditional)',
  outpaint: 'kept (white/boxes = keep, everything else regenerated, unconditional)',
  edit: 'regenerated with the target class',
};

/**
 * `bigr inpaint|outpaint|edit <image>`: regenerates a region of an image's binary code (docs/algorithm.md §8.1) and writes a
 * grid of the source (optional) followed by `--n` samples, a JSON sidecar, and optionally the codes (`--codes`).
 */
export async function regionCommand(app: RegionApp, ctx: CliContext, imagePath: string, flags: RegionFlags): Promise<void> {
  const defaults = regionDefaults(app);
  const resolved = await resolveConfig({
    command: app,
    defaults,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  let cfg = { class: '', ...resolved } as typeof EDIT_DEFAULTS;
  checkInt('n', cfg.n, 1, 1024);
  checkInt('cols', cfg.cols, 0, 4096);
  checkInt('diffusion-steps', cfg.diffusionSteps, 0, 100000);
  if ((cfg.mask === '') === (cfg.box === ''))
    throw new ConfigError(`\`bigr ${app}\` needs exactly one of --mask <mask.png> or --box x0,y0,x1,y1 (the region ${WHAT[app]}).`);
  if (cfg.box !== '') parseBoxes(cfg.box);
  if (app === 'edit' && !cfg.class) throw new ConfigError('`bigr edit` needs --class <name|index>: the class to regenerate the region with.');
  await requireFile(imagePath, 'Image');
  if (cfg.mask !== '') await requireFile(cfg.mask, 'Mask image');

  const modelDir = await modelDirectory(cfg.model);
  await guardOutputsWithSidecars(app, ctx.force, cfg.codes ? [cfg.out, cfg.codes] : [cfg.out], [
    flags.config,
    imagePath,
    cfg.mask,
    ...modelInputFiles(modelDir),
  ]);
  const engine = await inferenceEngine();
  const bigr = await BigrPipeline.fromDirectory(modelDir, engine);
  // The run records the steps it uses: the flag, else the model's own (docs/algorithm.md §4.3).
  cfg = withModelDiffusionSteps(cfg, bigr.config);
  const geom = bigr.tokenizer.geometry;
  const image = await loadModelImage(imagePath, geom);
  const regionImage = await loadRegion({ mask: cfg.mask, box: cfg.box, imagePath }, geom);
  const label = app === 'edit' ? bigr.classIndex(cfg.class) : undefined;

  const started = Date.now();
  const result: ImageEditResult = await withProgress(ctx, app, (onProgress) => {
    const request = { image, region: { kind: 'image', image: regionImage } as const, samples: cfg.n, ...appRequest(ctx, cfg, onProgress) };
    if (app === 'inpaint') return bigr.inpaint(request);
    if (app === 'outpaint') return bigr.outpaint(request);
    return bigr.edit({ ...request, class: required(label, 'class of an edit') });
  });
  const seconds = (Date.now() - started) / 1000;

  const grid = bigr.tokenizer.grid;
  const N = grid[0] * grid[1];
  const regeneratedTokens = result.regenerated.data.subarray(0, N).reduce((s, v) => s + v, 0);
  if (regeneratedTokens === 0) ctx.warn(`the region covers no token of the ${grid[0]}×${grid[1]} grid, so nothing was regenerated; enlarge the mask or box.`);
  if (regeneratedTokens === N && app !== 'outpaint') ctx.warn('the region covers every token, so nothing of the source image was kept.');
  if (regeneratedTokens === N && app === 'outpaint')
    ctx.warn('the kept region covers no token, so nothing of the source image was kept; enlarge the mask or box.');

  const generated = required(result.images, 'decoded images');
  const images = cfg.original ? concatImages([image, generated]) : generated;
  const modelHash = await weightsHash(modelDir);
  const outputs: string[] = [cfg.out];
  const sidecar = await writeImageOutput(cfg.out, images, geom, gridCols(dims4(images.shape, 'images')[0], cfg.cols), {
    command: app,
    seed: cfg.seed,
    config: resolved,
    modelHash,
    extra: {
      model: modelDir,
      engine: engine.name,
      image: imagePath,
      layout: cfg.original ? 'source image first, then the samples (row-major)' : 'samples (row-major)',
      ...(label !== undefined ? { label, className: bigr.classNames[label] ?? null } : {}),
      grid,
      regeneratedTokens,
      regenerated: maskRows(result.regenerated, grid),
      usedFallback: result.usedFallback,
      seconds,
    },
  });
  outputs.push(sidecar);
  if (cfg.codes) {
    await writeCodesFile(cfg.codes, {
      bits: result.codes,
      grid,
      tokenizerHash: bigr.tokenizer.hash,
      imageShape: bigr.tokenizer.tokenizer.imageShape,
      pad: geom.pad,
      codeMode: 'sampled',
      sources: Array.from({ length: cfg.n }, () => imagePath),
      extra: { source: result.sourceBits, regenerated: result.regenerated },
    });
    outputs.push(cfg.codes);
  }
  ctx.out(
    `wrote ${cfg.out} (${cfg.n} samples, ${regeneratedTokens}/${N} tokens regenerated, ${seconds.toFixed(1)} s) and ${sidecar}` +
      `${cfg.codes ? ` and ${cfg.codes}` : ''}`,
  );
  ctx.result({
    ok: true,
    command: app,
    outputs,
    samples: cfg.n,
    grid,
    regeneratedTokens,
    ...(label !== undefined ? { label } : {}),
    seconds,
    modelHash,
    config: resolved,
  });
}

/** Adds the options shared by inpaint, outpaint and edit. */
export function regionOptions(cmd: Command, app: RegionApp): Command {
  modelOptions(cmd)
    .option('--mask <file>', `mask PNG/JPEG at the image's size; white = ${app === 'outpaint' ? 'keep' : 'regenerate'}`)
    .option(
      '--box <x0,y0,x1,y1>',
      `pixel box of the input image (x1, y1 exclusive) to ${app === 'outpaint' ? 'keep' : 'regenerate'}; repeat for several`,
      collectBoxes,
    )
    .option('--n <n>', 'number of samples')
    .option('--out <file.png>', 'output grid PNG (a .json sidecar is written beside it)')
    .option('--cols <n>', 'grid columns (default: square)')
    .option('--original', 'put the source image first in the grid (default)')
    .option('--no-original', 'only the samples in the grid')
    .option('--codes <file.bigr>', 'also write the sampled codes, the source codes and the regenerated-token mask');
  return samplingOptions(cmd, true);
}

/** Registers `bigr inpaint`. */
export function registerInpaint(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('inpaint')
    .description('regenerate a region of an image (unconditional zero-shot inpainting); writes a grid of samples')
    .argument('<image>', 'input PNG/JPEG');
  regionOptions(cmd, 'inpaint').action(regionAction('inpaint', ctx));
}
