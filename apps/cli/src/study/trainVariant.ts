/**
 * Training of one study variant (docs/algorithm.md §13) with the shared tokenizer's code probabilities: the same data
 * pipeline, optimiser, schedule and budget as `bigr train`, with the variant's objective, attention and conditioning.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonBounded, type BitHeadLoss } from '@bigr/core';
import { createBackboneTrainer } from '@bigr/backbone';
import { CategoricalLoss, resolveCategoricalHeadConfig, TranscoderLoss, type CategoricalHeadConfig, type TranscoderConfig } from '@bigr/transcoder';
import { BIGR_FORMAT, saveBigrModel, type BigrModelConfig } from '@bigr/pipeline';
import { backboneFromSettings, bernoulliCodeBatches, codeProbabilities, initialParameters, transcoderFromSettings, warmupCosine } from '../codeTraining.js';
import type { CliContext } from '../context.js';
import { loadDataset } from '../datasets.js';
import { inferenceEngine, trainingEngine } from '../engines.js';
import { writeJsonAtomic } from '../sidecar.js';
import { loadTokenizer } from '../tokenizerModelDir.js';
import type { StudyVariant } from './variants.js';

/** The shared training budget and architecture of every study model. */
export interface StudyTrainSettings {
  readonly preset: string;
  /** 0 = the preset's. */
  readonly layers: number;
  readonly dim: number;
  readonly heads: number;
  readonly denoiserWidth: number;
  readonly denoiserBlocks: number;
  readonly steps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmup: number;
  readonly dropout: number;
  readonly seed: number;
  readonly checkpointEvery: number;
}

/** Code probabilities of the training split under the shared tokenizer (Bernoulli bits are drawn per batch). */
export interface TrainingCodes {
  readonly probs: Float32Array;
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
  readonly tokens: number;
  readonly bitsPerToken: number;
}

/**
 * Encodes the training split once (threshold pass, probabilities kept) and caches the result in `dir`
 * (`train-probs.f32` + `train-codes.json`), so every variant trains on identical code probabilities.
 */
export async function trainingCodes(ctx: CliContext, tokenizerDir: string, data: string, limit: number, dir: string): Promise<TrainingCodes> {
  const meta = join(dir, 'train-codes.json');
  const bin = join(dir, 'train-probs.f32');
  if (existsSync(meta) && existsSync(bin)) {
    const m = parseJsonBounded(await readFile(meta, 'utf8'), { source: meta }) as {
      labels: number[];
      classNames: string[];
      tokens: number;
      bitsPerToken: number;
      tokenizerDir: string;
      limit: number;
    };
    if (m.tokenizerDir === tokenizerDir && m.limit === limit) {
      const buf = await readFile(bin);
      const probs = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
      if (probs.length === m.labels.length * m.tokens * m.bitsPerToken)
        return { probs, labels: Int32Array.from(m.labels), classNames: m.classNames, tokens: m.tokens, bitsPerToken: m.bitsPerToken };
    }
  }
  const engine = await inferenceEngine();
  const { tokenizer, config: tokCfg } = await loadTokenizer(tokenizerDir, engine);
  try {
    const images = await loadDataset(data, 'train', {
      ...(limit > 0 ? { limit } : {}),
      channels: tokCfg.bae.inChannels === 1 ? 1 : 3,
      imageSize: tokCfg.bae.resolution,
    });
    const tokens = tokenizer.tokens;
    const K = tokenizer.bitsPerToken;
    const probs = await codeProbabilities(ctx, tokenizer, images.images);
    await mkdir(dir, { recursive: true });
    await writeFile(`${bin}.tmp`, new Uint8Array(probs.buffer, probs.byteOffset, probs.byteLength));
    await rename(`${bin}.tmp`, bin);
    await writeJsonAtomic(meta, { tokenizerDir, limit, labels: Array.from(images.labels), classNames: images.classNames, tokens, bitsPerToken: K });
    return { probs, labels: images.labels, classNames: images.classNames, tokens, bitsPerToken: K };
  } finally {
    await tokenizer.dispose();
  }
}

/** Result of {@link trainVariant}. */
export interface TrainVariantResult {
  readonly step: number;
  readonly finalLoss: number | null;
  readonly secondsThisRun: number;
  /** Wall seconds per step of this run (null when no step ran). */
  readonly secondsPerStep: number | null;
  readonly parameters: number;
  readonly engine: string;
}

/**
 * Trains (or resumes) one variant into `out` (checkpoints in `out/checkpoints`) and writes the model directory.
 * Seeds: initialisation `${seed}/init`, trainer `seed` — the same for every variant, so they differ only in what
 * the variant changes.
 */
export async function trainVariant(
  ctx: CliContext,
  variant: StudyVariant,
  settings: StudyTrainSettings,
  tokenizerDir: string,
  codes: TrainingCodes,
  out: string,
): Promise<TrainVariantResult> {
  const { tokens, bitsPerToken: K, probs, labels } = codes;
  const backbone = backboneFromSettings(
    settings,
    { tokens, bitsPerToken: K, numClasses: codes.classNames.length },
    variant.modelling === 'ar' ? 'causal' : 'bidirectional',
  );
  let head: BitHeadLoss;
  // config.json's head (docs/algorithm.md §13.1): the categorical section, or the transcoder's.
  let headConfig: { head: 'categorical'; categorical: CategoricalHeadConfig } | { head: 'transcoder'; transcoder: TranscoderConfig };
  if (variant.objective === 'categorical') {
    const categorical = resolveCategoricalHeadConfig({ bitsPerToken: K, featureDim: backbone.dim });
    head = new CategoricalLoss(categorical);
    headConfig = { head: 'categorical', categorical };
  } else {
    const transcoder = transcoderFromSettings(settings, backbone, variant.target);
    head = new TranscoderLoss(transcoder);
    headConfig = { head: 'transcoder', transcoder };
  }
  const batches = bernoulliCodeBatches(probs, labels, tokens, K, settings.batchSize);
  const params = initialParameters(backbone, head, settings.seed);
  const checkpointDirectory = join(out, 'checkpoints');
  await mkdir(checkpointDirectory, { recursive: true });
  const engine = await trainingEngine();
  const trainer = await createBackboneTrainer(backbone, head, params, batches, {
    engine,
    seed: settings.seed,
    learningRate: warmupCosine(settings),
    emaDecay: null,
    checkpointDirectory,
    checkpointEvery: settings.checkpointEvery,
    resume: existsSync(join(checkpointDirectory, 'latest.json')),
    unconditional: variant.unconditional,
  });
  const startStep = trainer.step;
  const progress = ctx.progress(`train ${variant.id}`);
  const started = Date.now();
  try {
    await trainer.run({ steps: settings.steps, signal: ctx.signal, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const ran = trainer.step - startStep;
  const parameters = [...params.values()].reduce((s, t) => s + t.size, 0);
  const training = {
    command: 'bigr study',
    variant: { ...variant },
    steps: trainer.step,
    weights: 'raw',
    seed: settings.seed,
    settings: { ...settings },
    images: labels.length,
    secondsThisRun: seconds,
    finalLoss: trainer.losses.at(-1) ?? null,
    engine: engine.name,
  };
  const config: BigrModelConfig = { format: BIGR_FORMAT, version: 1, backbone, ...headConfig, classNames: codes.classNames, tokenizer: 'tokenizer', training };
  await saveBigrModel(out, config, trainer.parameters(), tokenizerDir);
  trainer.dispose();
  return {
    step: trainer.step,
    finalLoss: trainer.losses.at(-1) ?? null,
    secondsThisRun: seconds,
    secondsPerStep: ran > 0 ? seconds / ran : null,
    parameters,
    engine: engine.name,
  };
}
