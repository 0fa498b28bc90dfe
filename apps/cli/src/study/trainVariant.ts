/**
 * Training of one study variant (docs/algorithm.md §13) with the shared tokenizer's code probabilities: the same data
 * pipeline, optimiser, schedule and budget as `bigr train`, with the variant's objective, attention and conditioning.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CpuTensor, createRng, parseJsonBounded, type BitHeadLoss, type Rng } from '@bigr/core';
import { BACKBONE_PRESETS, createBackboneTrainer, initialiseBackbone, presetConfig } from '@bigr/backbone';
import { CategoricalLoss, resolveCategoricalHeadConfig, resolveTranscoderConfig, TranscoderLoss } from '@bigr/transcoder';
import type { CliContext } from '../context.js';
import { loadDataset } from '../datasets.js';
import { inferenceEngine, trainingEngine } from '../engines.js';
import { writeJsonAtomic } from '../sidecar.js';
import { loadTokenizer } from '../tokenizerModelDir.js';
import { BIGR_FORMAT } from '../bigrModelDir.js';
import { saveVariantModel, type VariantModelConfig } from './variantModel.js';
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
    const n = images.labels.length;
    const tokens = tokenizer.grid[0] * tokenizer.grid[1];
    const K = tokenizer.bitsPerToken;
    const probs = new Float32Array(n * tokens * K);
    const per = images.images.size / n;
    const progress = ctx.progress('encode');
    try {
      for (let s = 0; s < n; s += 256) {
        const b = Math.min(256, n - s);
        const x = new CpuTensor<'float32'>(images.images.data.subarray(s * per, (s + b) * per), [b, ...images.images.shape.slice(1)]);
        probs.set((await tokenizer.encode(x, { mode: 'threshold' })).probabilities.data, s * tokens * K);
        progress.update({ task: 'encode', current: s + b, total: n });
      }
    } finally {
      progress.stop();
    }
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
  const preset = BACKBONE_PRESETS[settings.preset];
  if (!preset) throw new ConfigError(`Unknown model preset "${settings.preset}".`);
  const { tokens, bitsPerToken: K, probs, labels } = codes;
  const n = labels.length;
  const backbone = presetConfig(settings.preset, {
    tokens,
    bitsPerToken: K,
    numClasses: codes.classNames.length,
    ...(settings.dim > 0 ? { dim: settings.dim } : {}),
    ...(settings.layers > 0 ? { layers: settings.layers } : {}),
    ...(settings.heads > 0 ? { heads: settings.heads } : {}),
    residDropout: settings.dropout,
    ffnDropout: settings.dropout,
    attention: variant.modelling === 'ar' ? 'causal' : 'bidirectional',
  });
  let head: BitHeadLoss;
  let headConfig: Pick<VariantModelConfig, 'head' | 'transcoder' | 'categorical'>;
  if (variant.objective === 'categorical') {
    const categorical = resolveCategoricalHeadConfig({ bitsPerToken: K, featureDim: backbone.dim });
    head = new CategoricalLoss(categorical);
    headConfig = { head: 'categorical', categorical };
  } else {
    const transcoder = resolveTranscoderConfig({
      bitsPerToken: K,
      featureDim: backbone.dim,
      width: settings.denoiserWidth > 0 ? settings.denoiserWidth : preset.transcoder.width,
      blocks: settings.denoiserBlocks > 0 ? settings.denoiserBlocks : preset.transcoder.blocks,
      target: variant.target,
    });
    head = new TranscoderLoss(transcoder);
    headConfig = { head: 'transcoder', transcoder };
  }
  const batchSize = settings.batchSize;
  const batches = (_step: number, rng: Rng) => {
    const bits = new Uint8Array(batchSize * tokens * K);
    const y = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const j = rng.int(n);
      y[i] = labels[j]!;
      const u = rng.uniformsF32(tokens * K);
      const p = probs.subarray(j * tokens * K, (j + 1) * tokens * K);
      for (let q = 0; q < u.length; q++) bits[i * tokens * K + q] = u[q]! < p[q]! ? 1 : 0;
    }
    return { bits: new CpuTensor<'uint8'>(bits, [batchSize, tokens, K]), labels: y };
  };
  const initRng = createRng(`${settings.seed}/init`);
  const params = initialiseBackbone(backbone, initRng.fork('backbone'));
  for (const [k, v] of head.initParameters(initRng.fork('transcoder'))) params.set(k, v);
  const checkpointDirectory = join(out, 'checkpoints');
  await mkdir(checkpointDirectory, { recursive: true });
  const engine = await trainingEngine();
  const trainer = await createBackboneTrainer(backbone, head, params, batches, {
    engine,
    seed: settings.seed,
    learningRate: {
      kind: 'warmupCosine',
      lr: settings.lr,
      warmupSteps: Math.min(settings.warmup, settings.steps),
      totalSteps: settings.steps,
      minLr: settings.lr * 0.1,
    },
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
    images: n,
    secondsThisRun: seconds,
    finalLoss: trainer.losses.at(-1) ?? null,
    engine: engine.name,
  };
  await saveVariantModel(
    out,
    { format: BIGR_FORMAT, version: 1, backbone, ...headConfig, classNames: codes.classNames, tokenizer: 'tokenizer', training },
    trainer.parameters(),
    tokenizerDir,
  );
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
