import { checkOutputs } from '../outputs.js';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, CpuTensor, createRng, required, sha256OfFile, type ProgressCallback } from '@bigr/core';
import { writeNpz } from '@bigr/eval';
import { createFloat64GemmNT } from '@bigr/engine-onnx';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { inferenceEngine } from '../engines.js';
import { BigrPipeline, bigrCacheDir, requireMaskedModel } from '@bigr/pipeline';
import { generateSampleParts, labelsHash, removeSampleParts, type SamplePartsResult } from '../parallelSamples.js';
import { writeJsonAtomic } from '../sidecar.js';
import { createFashionFeatureExtractor, defaultClassifierDir, loadFashionClassifier } from '../fashionClassifier.js';
import { balancedLabels, classBalancedSample, gatherRows, gatherUint8, loadUint8Split, unitImagesToUint8 } from '../fashionData.js';
import { extractFashionFeatures, fashionMetrics, imageDataHash, realReference, type FashionMetricValues } from '../fashionMetrics.js';
import { loadSampleSet, toEvalSize } from '../sampleImages.js';
import { GENERATE_DEFAULTS, samplingSettingsOf, validateSamplingFlags } from './generate.js';
import type { GivenFlags } from '../givenFlags.js';
import { modelDirectory } from '../modelPaths.js';
import { withModelDiffusionSteps } from '../diffusionSteps.js';

/** Settings of `bigr eval` (docs/evaluation.md §9.2 defaults). Sampling keys are those of `bigr generate`. */
export const EVAL_DEFAULTS = {
  samples: '',
  model: '',
  real: '',
  n: 0,
  data: 'fashion-mnist',
  classifier: '',
  cacheDir: '',
  out: 'metrics.json',
  saveSamples: '',
  seed: 0,
  k: 3,
  isSplits: 10,
  kidSubsets: 100,
  kidSubsetSize: 1000,
  trainLimit: 0,
  testLimit: 0,
  batchSize: 50,
  workers: 0,
  cfg: GENERATE_DEFAULTS.cfg,
  cfgSchedule: GENERATE_DEFAULTS.cfgSchedule,
  iterations: GENERATE_DEFAULTS.iterations,
  gumbel: GENERATE_DEFAULTS.gumbel,
  gumbelSchedule: GENERATE_DEFAULTS.gumbelSchedule,
  order: GENERATE_DEFAULTS.order,
  confidence: GENERATE_DEFAULTS.confidence,
  diffusionSteps: GENERATE_DEFAULTS.diffusionSteps,
};

/** Flags of `bigr eval` as given on the command line. */
export type EvalFlags = GivenFlags<typeof EVAL_DEFAULTS>;

type EvalConfig = typeof EVAL_DEFAULTS;

/** Samples of a model generated for evaluation, with what the metrics JSON records about them. */
interface GeneratedSamples {
  readonly images: CpuTensor<'uint8'>;
  readonly labels: Int32Array;
  readonly modelHash: string;
  readonly engine: string;
  readonly seconds: number;
  readonly seeds: string;
  readonly workers: number;
  readonly resumedBatches: number;
  /** Diffusion steps used: --diffusion-steps, else the model's transcoder.inferenceSteps. */
  readonly diffusionSteps: number;
}

/**
 * Class-balanced samples of a model (n/C per class, randomly ordered), as uint8 NHWC at the classifier's size,
 * generated on every core (`--workers`, batches of `--batch-size`, image k with seed `--seed` + k) and resumable:
 * finished batches go to `<out>.parts/` and a run started again with the same settings reuses them. The model is
 * loaded as `bigr generate` loads it ({@link BigrPipeline}: every check of the model directory); its classes and its
 * tokenizer's post-processing are used here, and the worker pool's threads each load it again to sample.
 */
async function generateSamples(ctx: CliContext, cfg: EvalConfig, n: number, size: number): Promise<GeneratedSamples> {
  const bigr = await BigrPipeline.fromDirectory(await modelDirectory(cfg.model), await inferenceEngine());
  try {
    // Samples come from the worker pool's masked unmasking (a categorical model commits with threshold there); a causal
    // model generates token by token (docs/algorithm.md §13.2).
    requireMaskedModel(
      bigr.config,
      '`bigr eval --model` (sampled on a worker pool by masked unmasking)',
      '`bigr study paper` evaluates causal models with KV-cached decoding; or generate images with `bigr generate` and evaluate them with --samples.',
    );
    // The steps the samples use, in the resume key and the record: the flag, else the model's own (docs/algorithm.md §4.3).
    return await generateOnPool(ctx, withModelDiffusionSteps(cfg, bigr.config), bigr, n, size);
  } finally {
    await bigr.dispose();
  }
}

async function generateOnPool(ctx: CliContext, cfg: EvalConfig, bigr: BigrPipeline, n: number, size: number): Promise<GeneratedSamples> {
  const modelDir = bigr.dir;
  const started = Date.now();
  const labels = balancedLabels(n, bigr.numClasses, createRng(`${cfg.seed}/eval-labels`));
  const settings = samplingSettingsOf(cfg);
  const modelHash = await sha256OfFile(join(modelDir, 'model.safetensors'));
  const partsDir = `${cfg.out}.parts`;
  const progress = ctx.progress('generate');
  let r: SamplePartsResult;
  try {
    r = await generateSampleParts({
      modelDir,
      partsDir,
      labels,
      key: {
        modelHash,
        n,
        batchSize: cfg.batchSize,
        seed: cfg.seed,
        labelsHash: labelsHash(labels),
        settings,
        diffusionSteps: cfg.diffusionSteps,
        imageBytes: size * size,
      },
      ...(cfg.workers > 0 ? { workers: cfg.workers } : {}),
      toBytes: (images) => {
        // Decoder output at the tokenizer's size, the padding removed (not clamped: unitImagesToUint8 saturates).
        const u8 = unitImagesToUint8(bigr.tokenizer.finish(images, { clamp: false }));
        const [b, h, w] = u8.shape as [number, number, number, number];
        return toEvalSize(u8.data, b, h, w, 1, size, `model ${modelDir} output`).images.data;
      },
      warn: (m) => ctx.warn(m),
      signal: ctx.signal,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }
  if (r.resumedBatches > 0) ctx.info(`resumed: ${r.resumedBatches} of ${r.batches} batches were already in ${partsDir}`);
  return {
    images: new CpuTensor(r.data, [n, size, size, 1]),
    labels,
    modelHash,
    engine: bigr.engine.name,
    seconds: (Date.now() - started) / 1000,
    seeds: `image k: seed ${cfg.seed} + k (bigr generate --n 1 --seed <${cfg.seed} + k> --class <label k> regenerates it)`,
    workers: r.workers,
    resumedBatches: r.resumedBatches,
    diffusionSteps: cfg.diffusionSteps,
  };
}

/** One progress display per library task (reference features, P/R tiles, KID subsets, ...), labelled by the task. */
function phasedProgress(ctx: CliContext): { update: ProgressCallback; stop(): void } {
  let task = '';
  let display: ReturnType<CliContext['progress']> | null = null;
  return {
    update: (e) => {
      if (e.task !== task || !display) {
        display?.stop();
        task = e.task;
        display = ctx.progress(e.task);
      }
      display.update(e);
    },
    stop: () => display?.stop(),
  };
}

function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/**
 * `bigr eval`: the FMNIST metrics of docs/evaluation.md §9.2 with the Fashion-MNIST classifier as feature network — FID (pool)
 * and sFID (spatial) against the training-set statistics, classifier IS over 10 splits, precision/recall (k = 3)
 * against the real test set, KID against the training set — for samples on disk, samples generated by a model
 * (class-balanced, randomly ordered), or real images (`--real test`: the floor; `--real train-sample`: a
 * class-balanced training sample). Writes a metrics JSON carrying the classifier weights hash.
 */
export async function evalCommand(ctx: CliContext, flags: EvalFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'eval',
    defaults: EVAL_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  await checkOutputs({ command: 'eval', force: ctx.force, inputs: [flags.config], outputs: [cfg.out] });
  if (cfg.model) validateSamplingFlags(cfg);
  const sources = [cfg.samples && 'samples', cfg.model && 'model', cfg.real && 'real'].filter(Boolean);
  if (sources.length !== 1)
    throw new ConfigError(
      `Pass exactly one of --samples <dir|file.npz|grid.png>, ` +
        `--model <dir> or --real test|train-sample (got ${sources.length === 0 ? 'none' : sources.join(' and ')}).`,
    );
  if (cfg.real && cfg.real !== 'test' && cfg.real !== 'train-sample') throw new ConfigError(`--real must be 'test' or 'train-sample', got "${cfg.real}".`);
  for (const k of ['n', 'trainLimit', 'testLimit', 'workers'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 0)
      throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be an integer >= 0, got ${cfg[k]}.`);
  }
  for (const k of ['k', 'isSplits', 'kidSubsets', 'kidSubsetSize', 'batchSize'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1)
      throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${cfg[k]}.`);
  }
  const started = Date.now();
  const classifierDir = cfg.classifier || defaultClassifierDir();
  const cacheDir = cfg.cacheDir || join(bigrCacheDir(), 'eval');
  const classifier = await loadFashionClassifier(classifierDir);
  const engine = await inferenceEngine();
  const extractor = await createFashionFeatureExtractor(engine, classifier.params, { config: classifier.config });
  const size = classifier.config.imageSize;
  const dims = {
    pool: extractor.featureDim,
    spatial: required(extractor.spatialDim, 'spatial feature width of the Fashion classifier'),
    classes: required(extractor.numClasses, 'class count of the Fashion classifier'),
  };
  const progress = phasedProgress(ctx);
  const onProgress: ProgressCallback = progress.update;
  try {
    ctx.info(`loading ${cfg.data} ...`);
    const train = await loadUint8Split(cfg.data, 'train', size, { limit: cfg.trainLimit });
    const test = await loadUint8Split(cfg.data, 'test', size, { limit: cfg.testLimit });
    const trainRef = await realReference(extractor, 'train', train.images, train.labels, cacheDir, { signal: ctx.signal, onProgress });
    const testRef = await realReference(extractor, 'test', test.images, test.labels, cacheDir, { signal: ctx.signal, onProgress });

    // The evaluated set, and the real set precision/recall compares it with (the test set, docs/evaluation.md §9.2; for the
    // test-set floor itself, a seeded random training sample of the same size).
    let images: CpuTensor<'uint8'>;
    let evaluated: Record<string, unknown>;
    let prReal = { pool: testRef.pool, count: testRef.count, set: `test (${testRef.count})` };
    if (cfg.samples) {
      const s = await loadSampleSet(cfg.samples, size, cfg.n);
      images = s.images;
      evaluated = { kind: 'samples', source: cfg.samples, format: s.format, croppedBorder: s.cropped };
    } else if (cfg.model) {
      const n = cfg.n || 10000;
      const g = await generateSamples(ctx, cfg, n, size);
      images = g.images;
      evaluated = {
        kind: 'model',
        model: cfg.model,
        modelHash: g.modelHash,
        engine: g.engine,
        generationSeconds: g.seconds,
        workers: g.workers,
        resumedBatches: g.resumedBatches,
        seeds: g.seeds,
        batchSize: cfg.batchSize,
        labels: 'class-balanced, randomly permuted',
        sampling: samplingSettingsOf(cfg),
        diffusionSteps: g.diffusionSteps,
      };
      if (cfg.saveSamples) {
        await mkdir(dirname(cfg.saveSamples), { recursive: true });
        await writeNpz(cfg.saveSamples, {
          arr_0: { dtype: 'uint8', shape: [...images.shape], data: images.data },
          arr_1: { dtype: 'int64', shape: [g.labels.length], data: BigInt64Array.from(g.labels, (l) => BigInt(l)) },
        });
        evaluated['savedSamples'] = cfg.saveSamples;
      }
    } else if (cfg.real === 'test') {
      const n = cfg.n > 0 ? Math.min(cfg.n, test.labels.length) : test.labels.length;
      images =
        n === test.labels.length
          ? test.images
          : gatherUint8(
              test.images,
              Int32Array.from({ length: n }, (_, i) => i),
            );
      const idx = classBalancedSample(train.labels, Math.min(n, train.labels.length), train.classNames.length, createRng(`${cfg.seed}/pr-real`));
      prReal = { pool: gatherRows(trainRef.pool, dims.pool, idx), count: idx.length, set: `class-balanced random training sample (${idx.length})` };
      evaluated = { kind: 'real-test', source: cfg.data, note: 'floor: real test images against the training reference' };
    } else {
      const n = cfg.n || 10000;
      const idx = classBalancedSample(train.labels, n, train.classNames.length, createRng(`${cfg.seed}/train-sample`));
      images = gatherUint8(train.images, idx);
      evaluated = { kind: 'real-train-sample', source: cfg.data, note: 'class-balanced random sample of the training images (part of the reference set)' };
    }
    const count = required(images.shape[0], 'image count');
    if (count < cfg.k + 1) throw new ConfigError(`Only ${count} images to evaluate; precision/recall with k = ${cfg.k} needs at least ${cfg.k + 1}.`);
    evaluated['count'] = count;
    evaluated['dataSha256'] = imageDataHash(images);

    const feats = await extractFashionFeatures(extractor, images, { signal: ctx.signal, onProgress, task: 'evaluated' });
    // The heavy products (covariances, P/R distances, KID kernels) on onnxruntime's float64 Gemm on every core; the
    // JavaScript float64 kernels when onnxruntime is not available.
    const gemm = await createFloat64GemmNT().catch(() => null);
    const metrics: FashionMetricValues = await fashionMetrics(feats, trainRef.stats, prReal, trainRef, dims, {
      ...(gemm ? { gemm } : {}),
      k: cfg.k,
      isSplits: cfg.isSplits,
      kidSubsets: cfg.kidSubsets,
      kidSubsetSize: cfg.kidSubsetSize,
      kidRng: createRng(`${cfg.seed}/kid`),
      signal: ctx.signal,
      onProgress,
    }).finally(() => gemm?.dispose());
    progress.stop();
    const seconds = (Date.now() - started) / 1000;
    const result = {
      ok: true,
      command: 'eval',
      protocol: 'FMNIST metrics (docs/evaluation.md §9.2)',
      extractor: extractor.name,
      classifier: {
        dir: classifierDir,
        weightsSha256: classifier.weightsHash,
        architecture: classifier.config,
        testAccuracy: (classifier.file.training as { testAccuracy?: unknown } | undefined)?.testAccuracy ?? null,
      },
      evaluated,
      reference: {
        fid: `training set statistics (${trainRef.count} images)`,
        kid: `training set pool features (${trainRef.count} images)`,
        precisionRecall: prReal.set,
        cacheFiles: { train: trainRef.files, test: testRef.files },
        fromCache: trainRef.fromCache && testRef.fromCache,
      },
      metrics: {
        fid: metrics.fid.value,
        sfid: metrics.sfid.value,
        inceptionScore: metrics.inceptionScore.score,
        inceptionScoreStd: metrics.inceptionScore.std,
        isSplits: metrics.inceptionScore.splits,
        precision: metrics.precision,
        recall: metrics.recall,
        k: cfg.k,
        kid: metrics.kid.mean,
        kidStd: metrics.kid.std,
        kidSubsets: metrics.kid.subsets,
        kidSubsetSize: metrics.kid.subsetSize,
        kidSeed: `${cfg.seed}/kid`,
      },
      warnings: metrics.warnings,
      seed: cfg.seed,
      seconds,
      config: cfg,
    };
    await mkdir(dirname(cfg.out), { recursive: true });
    await writeJsonAtomic(cfg.out, result);
    if (cfg.model) await removeSampleParts(`${cfg.out}.parts`);
    for (const w of metrics.warnings) ctx.warn(w);
    ctx.out(`FMNIST metrics of ${count} images (${String(evaluated['kind'])}), extractor ${extractor.name}:`);
    ctx.out(`  FID ${fmt(metrics.fid.value)}   sFID ${fmt(metrics.sfid.value)}   IS ${fmt(metrics.inceptionScore.score)} ± ${fmt(metrics.inceptionScore.std)}`);
    ctx.out(`  precision ${fmt(metrics.precision, 4)}   recall ${fmt(metrics.recall, 4)} (k=${cfg.k}, real: ${prReal.set})`);
    ctx.out(`  KID ${fmt(metrics.kid.mean, 5)} ± ${fmt(metrics.kid.std, 5)} (${metrics.kid.subsets} subsets of ${metrics.kid.subsetSize})`);
    ctx.out(`wrote ${cfg.out} (${seconds.toFixed(1)} s)`);
    ctx.result({ ...result, output: cfg.out });
  } finally {
    progress.stop();
    await extractor.dispose();
  }
}
