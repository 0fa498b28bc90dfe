/**
 * Generation and evaluation of study models: class-balanced samples with given sampling settings (masked unmasking
 * or KV-cached autoregressive decoding), the time per image, and the FMNIST metrics of `bigr eval`
 * (docs/evaluation.md §9.2) against references that are computed once per study and cached.
 */
import { join } from 'node:path';
import { CpuTensor, createRng, required, type Engine } from '@bigr/core';
import type { SamplingSettings } from '@bigr/sampler';
import { isCausalModel, sampleModel, unpadImages, type LoadedBigrModel } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { createFashionFeatureExtractor, loadFashionClassifier, type FashionFeatureExtractor } from '../fashionClassifier.js';
import { balancedLabels, loadUint8Split, unitImagesToUint8 } from '../fashionData.js';
import { extractFashionFeatures, fashionMetrics, realReference, type RealReference } from '../fashionMetrics.js';
import { toEvalSize } from '../sampleImages.js';

/** How one evaluation samples. */
export interface StudySampling {
  /** 'mask': the unmasking loop with `settings`; 'ar': KV-cached raster decoding (causal models). */
  readonly kind: 'mask' | 'ar';
  /** Unmasking settings (mask). */
  readonly settings: Partial<SamplingSettings>;
  /** CFG scale (both kinds). */
  readonly cfgScale: number;
  /** Transcoder diffusion steps S. */
  readonly diffusionSteps: number;
}

/** The evaluation network and the cached real references, loaded once per study. */
export interface EvaluationContext {
  readonly extractor: FashionFeatureExtractor;
  readonly trainRef: RealReference;
  readonly testRef: RealReference;
  readonly size: number;
  readonly classifierHash: string;
  dispose(): Promise<void>;
}

/** Loads the classifier and the train/test references (cached in `cacheDir`). */
export async function openEvaluation(
  ctx: CliContext,
  options: { classifierDir: string; cacheDir: string; data: string; trainLimit: number; testLimit: number; engine: Engine },
): Promise<EvaluationContext> {
  const classifier = await loadFashionClassifier(options.classifierDir);
  const extractor = await createFashionFeatureExtractor(options.engine, classifier.params, { config: classifier.config });
  const size = classifier.config.imageSize;
  const train = await loadUint8Split(options.data, 'train', size, { limit: options.trainLimit });
  const test = await loadUint8Split(options.data, 'test', size, { limit: options.testLimit });
  const progress = ctx.progress('references');
  try {
    const trainRef = await realReference(extractor, 'train', train.images, train.labels, options.cacheDir, { signal: ctx.signal, onProgress: progress.update });
    const testRef = await realReference(extractor, 'test', test.images, test.labels, options.cacheDir, { signal: ctx.signal, onProgress: progress.update });
    return { extractor, trainRef, testRef, size, classifierHash: classifier.weightsHash, dispose: () => extractor.dispose() };
  } finally {
    progress.stop();
  }
}

/** Generated samples at the classifier's size and the wall time spent generating (incl. decoding). */
export interface StudySamples {
  readonly images: CpuTensor<'uint8'>;
  readonly labels: Int32Array;
  readonly seconds: number;
}

/**
 * n class-balanced samples (labels from `${seed}/eval-labels`, batch b sampled with `${seed}/eval-samples`.fork(b), as
 * `bigr eval` does), as uint8 [n, size, size, 1].
 */
export async function generateStudySamples(
  ctx: CliContext,
  model: LoadedBigrModel,
  sampling: StudySampling,
  n: number,
  seed: number,
  batchSize: number,
  size: number,
  task: string,
): Promise<StudySamples> {
  const numClasses = model.config.backbone.numClasses;
  const labels = balancedLabels(n, numClasses, createRng(`${seed}/eval-labels`));
  const root = createRng(`${seed}/eval-samples`);
  if ((sampling.kind === 'ar') !== isCausalModel(model.config))
    throw new Error(`internal: ${sampling.kind} sampling of ${model.dir}, whose backbone attention is '${model.config.backbone.attention}'`);
  const out = new Uint8Array(n * size * size);
  const progress = ctx.progress(task);
  const started = Date.now();
  try {
    for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
      const b = Math.min(batchSize, n - start);
      const condition = { kind: 'class' as const, labels: labels.slice(start, start + b) };
      // The sampling of `bigr generate` (BigrPipeline.generate): masked unmasking or KV-cached raster decoding, the
      // head's commit rule; here one stream per batch.
      const r = await sampleModel(model, {
        ...(sampling.kind === 'mask' ? sampling.settings : {}),
        condition,
        rng: root.fork(batch),
        cfgScale: sampling.cfgScale,
        diffusionSteps: sampling.diffusionSteps,
        tokenizer: model.tokenizer,
        signal: ctx.signal,
      });
      const images = required(r.images, 'decoded images');
      const u8 = unitImagesToUint8(unpadImages(images, model.tokenizerConfig.pad));
      const [, h, w] = u8.shape as [number, number, number, number];
      out.set(toEvalSize(u8.data, b, h, w, 1, size, `model ${model.dir} output`).images.data, start * size * size);
      progress.update({ task, current: start + b, total: n });
    }
  } finally {
    progress.stop();
  }
  return { images: new CpuTensor(out, [n, size, size, 1]), labels, seconds: (Date.now() - started) / 1000 };
}

/** Metrics of one evaluated set (the columns of the report). */
export interface StudyMetrics {
  readonly fid: number;
  readonly sfid: number;
  readonly inceptionScore: number;
  readonly inceptionScoreStd: number;
  readonly precision: number;
  readonly recall: number;
  readonly kid: number;
  readonly warnings: readonly string[];
}

/** FMNIST metrics of generated samples (FID/sFID vs training statistics, P/R vs the test set, KID vs training pool). */
export async function studyMetrics(ctx: CliContext, ev: EvaluationContext, images: CpuTensor<'uint8'>, seed: number): Promise<StudyMetrics> {
  const progress = ctx.progress('metrics');
  try {
    const feats = await extractFashionFeatures(ev.extractor, images, { signal: ctx.signal, onProgress: progress.update, task: 'evaluated' });
    const dims = {
      pool: ev.extractor.featureDim,
      spatial: required(ev.extractor.spatialDim, 'spatial feature width of the Fashion classifier'),
      classes: required(ev.extractor.numClasses, 'class count of the Fashion classifier'),
    };
    const m = await fashionMetrics(feats, ev.trainRef.stats, ev.testRef, ev.trainRef, dims, {
      k: 3,
      isSplits: 10,
      kidSubsets: 100,
      kidSubsetSize: 1000,
      kidRng: createRng(`${seed}/kid`),
      signal: ctx.signal,
    });
    return {
      fid: m.fid.value,
      sfid: m.sfid.value,
      inceptionScore: m.inceptionScore.score,
      inceptionScoreStd: m.inceptionScore.std,
      precision: m.precision,
      recall: m.recall,
      kid: m.kid.mean,
      warnings: m.warnings,
    };
  } finally {
    progress.stop();
  }
}

/** Default reference cache directory of a study. */
export function studyCacheDir(out: string): string {
  return join(out, 'cache');
}
