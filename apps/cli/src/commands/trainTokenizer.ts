import { ConfigError } from '@bigr/core';
import { join } from 'node:path';
import { baePreset, BAE_PRESETS, trainBae, type BaeTrainingResult } from '@bigr/tokenizer';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import type { GivenFlags } from '../givenFlags.js';
import { loadDataset } from '../datasets.js';
import { trainingEngine } from '../engines.js';
import { saveTokenizerModel, TOKENIZER_FORMAT } from '../tokenizerModelDir.js';
import { datasetHash, prepareTrainingOutput, startOrResume, type SettingValue } from '../runSettings.js';
import { requireInt, requireOneOf, validateCommonTrainingFlags } from '../trainingFlags.js';

/**
 * GroupNorm groups for a preset with overridden sizes: the preset's own count when it still divides every normalised
 * channel count, else the largest smaller count that does (e.g. --nf 8 with the preset's 32 groups → 8).
 */
export function deriveNormGroups(preset: keyof typeof BAE_PRESETS, overrides: Readonly<Record<string, number>>): number {
  const start = baePreset(preset, {}).normGroups;
  for (let g = start; g >= 1; g--) {
    try {
      baePreset(preset, { ...overrides, normGroups: g });
      return g;
    } catch {
      // not a divisor of some channel count
    }
  }
  return 1;
}

/** Settings of `bigr train-tokenizer` (also the keys accepted in its --config file). */
export const TRAIN_TOKENIZER_DEFAULTS = {
  data: 'fashion-mnist',
  out: 'runs/tokenizer',
  preset: 'fashion-mnist-32',
  nf: 0,
  normGroups: 0,
  codeDim: 0,
  steps: 2000,
  batchSize: 32,
  lr: 1e-3,
  seed: 0,
  limit: 0,
  checkpointEvery: 100,
  codeMode: 'bernoulli',
  weights: 'raw',
};

/** Flags of `bigr train-tokenizer` as given on the command line (`--force-resume` among the others). */
export type TrainTokenizerFlags = GivenFlags<typeof TRAIN_TOKENIZER_DEFAULTS>;

/** Checks every setting of `bigr train-tokenizer` before any work. */
export function validateTrainTokenizerSettings(cfg: typeof TRAIN_TOKENIZER_DEFAULTS): void {
  if (!(cfg.preset in BAE_PRESETS)) {
    throw new ConfigError(`Unknown tokenizer preset "${cfg.preset}". Available: ${Object.keys(BAE_PRESETS).join(', ')}.`);
  }
  validateCommonTrainingFlags(cfg);
  requireInt(cfg, 'nf', 0, 1024, '(0 = the preset)');
  requireInt(cfg, 'normGroups', 0, 1024, '(0 = the preset)');
  requireInt(cfg, 'codeDim', 0, 1024, '(0 = the preset)');
  requireOneOf(cfg, 'codeMode', ['bernoulli', 'threshold']);
}

/**
 * `bigr train-tokenizer`: trains a B-AE on a dataset with the core Trainer (checkpoints every
 * `checkpointEvery` steps; re-running the same command resumes), then writes the EMA weights as a model directory.
 */
export async function trainTokenizerCommand(ctx: CliContext, flags: TrainTokenizerFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'train-tokenizer',
    defaults: TRAIN_TOKENIZER_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  validateTrainTokenizerSettings(cfg);
  const overrides: Record<string, number> = {};
  if (cfg.nf > 0) overrides['nf'] = cfg.nf;
  if (cfg.normGroups > 0) overrides['normGroups'] = cfg.normGroups;
  if (cfg.codeDim > 0) overrides['codeDim'] = cfg.codeDim;
  if (cfg.nf > 0 && cfg.normGroups === 0) {
    const groups = deriveNormGroups(cfg.preset as keyof typeof BAE_PRESETS, overrides);
    overrides['normGroups'] = groups;
    ctx.info(
      `--nf ${cfg.nf}: GroupNorm groups set to ${groups} (the largest count up to the preset's that divides every channel count; pass --norm-groups to choose)`,
    );
  }
  const bae = baePreset(cfg.preset as keyof typeof BAE_PRESETS, overrides);
  await prepareTrainingOutput({ out: cfg.out, command: 'train-tokenizer', format: TOKENIZER_FORMAT, force: ctx.force });

  ctx.info(`loading ${cfg.data} ...`);
  const data = await loadDataset(cfg.data, 'train', {
    ...(cfg.limit > 0 ? { limit: cfg.limit } : {}),
    channels: bae.inChannels === 1 ? 1 : 3,
    imageSize: bae.resolution,
  });
  const checkpointDirectory = join(cfg.out, 'checkpoints');
  // Everything that decides the result (not where it is written, how often it checkpoints, the exported weights or
  // the step target: the learning rate is constant, so a longer run is the same run continued).
  const { out: _out, checkpointEvery: _every, weights: _weights, data: _data, steps: _steps, ...rest } = cfg;
  const settings: Record<string, SettingValue> = { ...rest, dataHash: datasetHash(data.images, data.labels) };
  const decision = await startOrResume(ctx, {
    command: 'train-tokenizer',
    checkpointDirectory,
    out: cfg.out,
    settings,
    forceResume: flags.other['forceResume'] === true,
    configPath: join(cfg.out, 'train-tokenizer.config.json'),
    config: cfg,
  });
  const engine = await trainingEngine();
  ctx.info(
    `training B-AE (${cfg.preset}, K=${bae.codeDim}) on ${data.labels.length} images with ${engine.name}; checkpoints in ${join(cfg.out, 'checkpoints')}`,
  );
  const progress = ctx.progress('train-tokenizer');
  const started = Date.now();
  let result: BaeTrainingResult;
  try {
    result = await trainBae(bae, data.images, {
      engine,
      steps: cfg.steps,
      batchSize: cfg.batchSize,
      seed: cfg.seed,
      learningRate: cfg.lr,
      codeMode: cfg.codeMode === 'threshold' ? 'threshold' : 'bernoulli',
      checkpointDirectory,
      resume: decision.resume,
      checkpointEvery: cfg.checkpointEvery,
      signal: ctx.signal,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  // The released B-AEs are EMA weights (β = 0.995 every 10 steps ≈ 0.9995 per step); the EMA lags ~2000 steps, so
  // runs of a few thousand steps should export the raw weights.
  const weights = cfg.weights === 'raw' ? result.parameters : (result.emaParameters ?? result.parameters);
  await saveTokenizerModel(
    cfg.out,
    {
      format: TOKENIZER_FORMAT,
      version: 1,
      bae,
      pad: data.pad,
      classNames: data.classNames,
      training: {
        command: 'bigr train-tokenizer',
        steps: result.step,
        weights: cfg.weights,
        seed: cfg.seed,
        batchSize: cfg.batchSize,
        lr: cfg.lr,
        images: data.labels.length,
        secondsThisRun: seconds,
        finalLoss: result.losses.at(-1) ?? null,
      },
    },
    weights,
  );
  const last = result.records.at(-1);
  ctx.out(`wrote ${cfg.out}/config.json and model.safetensors (step ${result.step}, loss ${last?.loss.toFixed(4) ?? 'n/a'}, ${seconds.toFixed(0)} s)`);
  ctx.result({ ok: true, command: 'train-tokenizer', out: cfg.out, step: result.step, finalLoss: result.losses.at(-1) ?? null, seconds, config: cfg });
}
