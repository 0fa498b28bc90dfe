import { join, resolve } from 'node:path';
import { ConfigError, sha256OfFile } from '@bigr/core';
import { backbonePresetNames, BACKBONE_PRESETS, createBackboneTrainer } from '@bigr/backbone';
import { TranscoderLoss } from '@bigr/transcoder';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import type { GivenFlags } from '../givenFlags.js';
import { loadDataset } from '../datasets.js';
import { inferenceEngine, trainingEngine } from '../engines.js';
import { loadTokenizer } from '../tokenizerModelDir.js';
import { BIGR_FORMAT, saveBigrModel } from '../bigrModelDir.js';
import { datasetHash, prepareTrainingOutput, startOrResume, type SettingValue } from '../runSettings.js';
import { backboneFromSettings, bernoulliCodeBatches, codeProbabilities, initialParameters, transcoderFromSettings, warmupCosine } from '../codeTraining.js';
import { MAX_TRAINING_STEPS, requireInt, requireNumber, validateCommonTrainingFlags } from '../trainingFlags.js';

/** Settings of `bigr train` (also the keys accepted in its --config file). */
export const TRAIN_DEFAULTS = {
  tokenizer: 'runs/tokenizer',
  data: 'fashion-mnist',
  out: 'runs/bigr',
  preset: 'BiGR-XS',
  dim: 0,
  layers: 0,
  heads: 0,
  denoiserWidth: 0,
  denoiserBlocks: 0,
  dropout: 0.1,
  steps: 2000,
  batchSize: 32,
  lr: 5e-4,
  warmup: 100,
  emaDecay: 0.999,
  seed: 0,
  limit: 0,
  checkpointEvery: 100,
  weights: 'raw',
};

/** Flags of `bigr train` as given on the command line (`--force-resume` among the others). */
export type TrainFlags = GivenFlags<typeof TRAIN_DEFAULTS>;

/** Checks every setting of `bigr train` before any work (ranges, names, the export choice). */
export function validateTrainSettings(cfg: typeof TRAIN_DEFAULTS): void {
  if (!(cfg.preset in BACKBONE_PRESETS)) throw new ConfigError(`Unknown model preset "${cfg.preset}". Available: ${backbonePresetNames().join(', ')}.`);
  validateCommonTrainingFlags(cfg);
  requireNumber(cfg, 'dropout', { min: 0, max: 1, maxOpen: true }, '(released 0.1)');
  requireNumber(cfg, 'emaDecay', { min: 0, max: 1, maxOpen: true }, '(released 0.9999)');
  requireInt(cfg, 'warmup', 0, MAX_TRAINING_STEPS);
  requireInt(cfg, 'dim', 0, 8192, '(0 = the preset)');
  requireInt(cfg, 'layers', 0, 256, '(0 = the preset)');
  requireInt(cfg, 'heads', 0, 256, '(0 = the preset)');
  requireInt(cfg, 'denoiserWidth', 0, 8192, '(0 = the preset)');
  requireInt(cfg, 'denoiserBlocks', 0, 64, '(0 = the preset)');
  if (typeof cfg.tokenizer !== 'string' || cfg.tokenizer === '')
    throw new ConfigError('--tokenizer must name a tokenizer model directory (from `bigr train-tokenizer`).');
  if (resolve(cfg.tokenizer) === resolve(cfg.out))
    throw new ConfigError(
      `--tokenizer and --out are both ${cfg.out}; \`bigr train\` writes a BiGR model directory, which must not replace the tokenizer. Choose another --out.`,
    );
}

/**
 * The settings that decide what `bigr train` computes (everything but where it writes, how often it checkpoints and
 * which weights it exports), with the data and tokenizer identified by hash: a resumed run must match them.
 */
function trainRunSettings(cfg: typeof TRAIN_DEFAULTS, dataHash: string, tokenizerHash: string): Record<string, SettingValue> {
  const { out: _out, checkpointEvery: _every, weights: _weights, tokenizer: _tok, data: _data, ...rest } = cfg;
  return { ...rest, dataHash, tokenizerHash };
}

/**
 * `bigr train`: trains a BiGR backbone jointly with its binary transcoder on the codes of a trained tokenizer
 * (masked modelling, docs/algorithm.md §5). Every epoch sees fresh Bernoulli codes drawn from the tokenizer's probabilities,
 * as in the released training. Re-running the same command resumes from `<out>/checkpoints`.
 */
export async function trainCommand(ctx: CliContext, flags: TrainFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'train',
    defaults: TRAIN_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  validateTrainSettings(cfg);
  await prepareTrainingOutput({ out: cfg.out, command: 'train', format: BIGR_FORMAT, force: ctx.force });

  const inference = await inferenceEngine();
  const { tokenizer, config: tokCfg } = await loadTokenizer(cfg.tokenizer, inference);
  ctx.info(`loading ${cfg.data} ...`);
  const data = await loadDataset(cfg.data, 'train', {
    ...(cfg.limit > 0 ? { limit: cfg.limit } : {}),
    channels: tokCfg.bae.inChannels === 1 ? 1 : 3,
    imageSize: tokCfg.bae.resolution,
  });
  const n = data.labels.length;
  const tokens = tokenizer.tokens;
  const K = tokenizer.bitsPerToken;
  const backbone = backboneFromSettings(cfg, { tokens, bitsPerToken: K, numClasses: data.classNames.length });
  const transcoder = transcoderFromSettings(cfg, backbone);
  const checkpointDirectory = join(cfg.out, 'checkpoints');
  const settings = trainRunSettings(cfg, datasetHash(data.images, data.labels), await sha256OfFile(join(cfg.tokenizer, 'model.safetensors')));
  const decision = await startOrResume(ctx, {
    command: 'train',
    checkpointDirectory,
    out: cfg.out,
    settings,
    forceResume: flags.other['forceResume'] === true,
    configPath: join(cfg.out, 'train.config.json'),
    config: cfg,
  });

  // Code probabilities once; each batch then draws fresh Bernoulli bits.
  const probs = await codeProbabilities(ctx, tokenizer, data.images);
  const batchSize = cfg.batchSize;
  const batches = bernoulliCodeBatches(probs, data.labels, tokens, K, batchSize);

  const head = new TranscoderLoss(transcoder);
  const params = initialParameters(backbone, head, cfg.seed);
  const engine = await trainingEngine();
  const resume = decision.resume;
  const trainer = await createBackboneTrainer(backbone, head, params, batches, {
    engine,
    seed: cfg.seed,
    learningRate: warmupCosine(cfg),
    emaDecay: cfg.emaDecay,
    checkpointDirectory,
    checkpointEvery: cfg.checkpointEvery,
    resume,
  });
  const paramCount = [...params.values()].reduce((s, t) => s + t.size, 0);
  ctx.info(
    `${resume ? 'resuming' : 'training'} ${cfg.preset} (D=${backbone.dim}, L=${backbone.layers}, ${(paramCount / 1e6).toFixed(2)}M params) on ${n} images, ` +
      `${tokens} tokens × ${K} bits, with ${engine.name} from step ${trainer.step}`,
  );
  const progress = ctx.progress('train');
  const started = Date.now();
  try {
    await trainer.run({ steps: cfg.steps, signal: ctx.signal, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  // The released checkpoints are EMA weights (decay 0.9999 from step 0). The EMA starts as a copy of the
  // initialisation, which keeps weight decay^step (37 % after 1000 steps at 0.999): short runs should export 'raw'.
  const weights = cfg.weights === 'raw' ? trainer.parameters() : (trainer.emaParameters() ?? trainer.parameters());
  await saveBigrModel(
    cfg.out,
    {
      format: BIGR_FORMAT,
      version: 1,
      backbone,
      transcoder,
      classNames: data.classNames,
      tokenizer: 'tokenizer',
      training: {
        command: 'bigr train',
        steps: trainer.step,
        weights: cfg.weights,
        seed: cfg.seed,
        batchSize,
        lr: cfg.lr,
        emaDecay: cfg.emaDecay,
        images: n,
        secondsThisRun: seconds,
        finalLoss: trainer.losses.at(-1) ?? null,
      },
    },
    weights,
    cfg.tokenizer,
  );
  ctx.out(`wrote ${cfg.out} (step ${trainer.step}, loss ${trainer.losses.at(-1)?.toFixed(4) ?? 'n/a'}, ${seconds.toFixed(0)} s)`);
  ctx.result({ ok: true, command: 'train', out: cfg.out, step: trainer.step, finalLoss: trainer.losses.at(-1) ?? null, seconds, config: cfg });
  trainer.dispose();
}
