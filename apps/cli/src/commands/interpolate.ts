import type { Command } from 'commander';
import { ConfigError, CpuTensor, required } from '@bigr/core';
import { interpolationSweepWeights, PRESETS } from '@bigr/sampler';
import { BigrPipeline } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { inferenceEngine } from '../engines.js';
import { appRequest, checkInt, modelOptions, samplingOptions, weightsHash, withProgress, writeImageOutput } from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';
import { withModelDiffusionSteps } from '../diffusionSteps.js';

/** Settings of `bigr interpolate` (defaults: the official apps/interpolate.py: s = 2.5, I = 20, τ_g = 0). */
export const INTERPOLATE_DEFAULTS = {
  model: '',
  from: '',
  to: '',
  steps: 9,
  officialSweep: false,
  n: 1,
  out: 'interpolate.png',
  seed: 0,
  cfg: PRESETS.interpolate.cfgScale,
  iterations: PRESETS.interpolate.iterations,
  gumbel: PRESETS.interpolate.gumbelTemperature,
  /** 0: the model's transcoder.inferenceSteps. */
  diffusionSteps: 0,
};

/** Flags of `bigr interpolate` as given on the command line. */
export type InterpolateFlags = GivenFlags<typeof INTERPOLATE_DEFAULTS>;

/** `steps` weights of the first class, from 1 down to 0 (linear). */
export function linearWeights(steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => (steps === 1 ? 1 : 1 - i / (steps - 1)));
}

/**
 * `bigr interpolate --from A --to B`: class interpolation (docs/algorithm.md §8.2) with the class token w·Emb[A] + (1−w)·Emb[B]
 * for w from 1 to 0 (`--steps`), or the official 27-value sweep (0 → 1) with `--official-sweep`. Writes one grid:
 * a column per weight, a row per sample (`--n`).
 */
export async function interpolateCommand(ctx: CliContext, flags: InterpolateFlags): Promise<void> {
  let cfg = await resolveConfig({
    command: 'interpolate',
    defaults: INTERPOLATE_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  if (!cfg.from || !cfg.to) throw new ConfigError('`bigr interpolate` needs --from <class> and --to <class> (names or indices).');
  checkInt('steps', cfg.steps, 2, 1000);
  checkInt('n', cfg.n, 1, 256);
  checkInt('diffusion-steps', cfg.diffusionSteps, 0, 100000);
  const modelDir = await modelDirectory(cfg.model);
  await guardOutputsWithSidecars('interpolate', ctx.force, [cfg.out], [flags.config, ...modelInputFiles(modelDir)]);
  const engine = await inferenceEngine();
  const bigr = await BigrPipeline.fromDirectory(modelDir, engine);
  // The run records the steps it uses: the flag, else the model's own (docs/algorithm.md §4.3).
  cfg = withModelDiffusionSteps(cfg, bigr.config);
  const { classNames } = bigr;
  const classA = bigr.classIndex(cfg.from);
  const classB = bigr.classIndex(cfg.to);
  const weights = cfg.officialSweep ? Array.from(interpolationSweepWeights()) : linearWeights(cfg.steps);
  const geom = bigr.tokenizer.geometry;

  const started = Date.now();
  const results = await withProgress(ctx, 'interpolate', (onProgress) =>
    bigr.interpolate({ from: classA, to: classB, weights, samples: cfg.n, ...appRequest(ctx, cfg, onProgress) }),
  );
  const seconds = (Date.now() - started) / 1000;

  // Row s, column w: sample s of weight w.
  const [C, H, W] = bigr.tokenizer.tokenizer.imageShape;
  const per = C * H * W;
  const data = new Float32Array(cfg.n * weights.length * per);
  for (const [w, r] of results.entries()) {
    const decoded = required(r.images, 'decoded images').data;
    for (let s = 0; s < cfg.n; s++) data.set(decoded.subarray(s * per, (s + 1) * per), (s * weights.length + w) * per);
  }
  const images = new CpuTensor<'float32'>(data, [cfg.n * weights.length, C, H, W]);
  const modelHash = await weightsHash(modelDir);
  const sidecar = await writeImageOutput(cfg.out, images, geom, weights.length, {
    command: 'interpolate',
    seed: cfg.seed,
    config: cfg,
    modelHash,
    extra: {
      model: modelDir,
      engine: engine.name,
      classA,
      classB,
      classNames: [classNames[classA] ?? null, classNames[classB] ?? null],
      weights,
      layout: 'one column per weight (w of --from), one row per sample',
      seconds,
    },
  });
  ctx.out(
    `wrote ${cfg.out} (${weights.length} weights × ${cfg.n} samples, ${classNames[classA]} → ${classNames[classB]}, ${seconds.toFixed(1)} s) and ${sidecar}`,
  );
  ctx.result({ ok: true, command: 'interpolate', outputs: [cfg.out, sidecar], classA, classB, weights, samples: cfg.n, seconds, modelHash, config: cfg });
}

/** Registers `bigr interpolate`. */
export function registerInterpolate(program: Command, ctx: () => CliContext): void {
  const cmd = program.command('interpolate').description('interpolate between two classes (class-embedding mixture); writes a grid over the weights');
  modelOptions(cmd)
    .option('--from <class>', 'first class (weight w), name or index')
    .option('--to <class>', 'second class (weight 1 - w), name or index')
    .option('--steps <n>', 'number of weights from 1 to 0')
    .option('--official-sweep', 'use the 27 weights of the official script (0..0.2, 0.3..0.7 in 21 steps, 0.8..1) instead of --steps')
    .option('--n <n>', 'samples per weight (grid rows)')
    .option('--out <file.png>', 'output grid PNG (a .json sidecar is written beside it)');
  samplingOptions(cmd, false).action(async (_flags: unknown, cmd: Command) => interpolateCommand(ctx(), givenFlags(cmd, INTERPOLATE_DEFAULTS)));
}
