import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CpuTensor, required, throwIfAborted, type LongRunningOptions, type Rng, type Tensor, pathExists } from '@bigr/core';
import {
  FeatureStats,
  frechetDistance,
  inceptionScore,
  kernelInceptionDistance,
  loadReferenceStats,
  precisionRecall,
  saveReferenceStats,
  type FrechetResult,
  type GemmNT,
  type ReferenceStats,
} from '@bigr/eval';
import { cachedFeatures } from '@bigr/probe';
import type { FashionFeatureExtractor } from './fashionClassifier.js';

/** Features of a set of images from the evaluation network (docs/evaluation.md §9.2 roles). */
export interface FashionFeatureArrays {
  /** Number of images. */
  readonly count: number;
  /** "pool" (penultimate) features, [count, poolDim] row-major. */
  readonly pool: Float32Array;
  /** "spatial" features, [count, spatialDim]. */
  readonly spatial: Float32Array;
  /** Logits, [count, classes]. */
  readonly logits: Float32Array;
}

/** Runs the evaluation network over uint8 NHWC images in chunks (progress and abort between chunks). */
export async function extractFashionFeatures(
  extractor: FashionFeatureExtractor,
  images: Tensor<'uint8'>,
  options: LongRunningOptions & { chunk?: number; task?: string } = {},
): Promise<FashionFeatureArrays> {
  const [n, h, w, c] = images.shape as [number, number, number, number];
  const per = h * w * c;
  const dims = {
    pool: extractor.featureDim,
    spatial: required(extractor.spatialDim, 'spatial feature width of the Fashion classifier'),
    logits: required(extractor.numClasses, 'class count of the Fashion classifier'),
  };
  const out = { pool: new Float32Array(n * dims.pool), spatial: new Float32Array(n * dims.spatial), logits: new Float32Array(n * dims.logits) };
  const chunk = options.chunk ?? 1000;
  const task = options.task ?? 'classifier-features';
  for (let start = 0; start < n; start += chunk) {
    throwIfAborted(options.signal, task);
    const b = Math.min(chunk, n - start);
    const f = await extractor.extract(
      new CpuTensor<'uint8'>(images.data.subarray(start * per, (start + b) * per), [b, h, w, c]),
      options.signal ? { signal: options.signal } : {},
    );
    out.pool.set(f.pool.data, start * dims.pool);
    out.spatial.set(f.spatial.data, start * dims.spatial);
    out.logits.set(f.logits.data, start * dims.logits);
    options.onProgress?.({ task, current: start + b, total: n });
  }
  return { count: n, ...out };
}

/** sha256 (hex) of a uint8 image batch and its shape: identifies the data a cached reference came from. */
export function imageDataHash(images: Tensor<'uint8'>): string {
  return createHash('sha256').update(JSON.stringify(images.shape)).update(images.data).digest('hex');
}

/** Gaussian statistics (float64 mean, covariance) of row-major features. */
export function gaussianOf(data: Float32Array, rows: number, dim: number): ReturnType<FeatureStats['toGaussian']> {
  const s = new FeatureStats(dim);
  s.add({ data, rows, dim });
  return s.toGaussian();
}

/** {@link gaussianOf} with the scatter product on `gemm` (e.g. onnxruntime's float64 Gemm) when given. */
export async function gaussianOfWith(data: Float32Array, rows: number, dim: number, gemm: GemmNT | undefined): Promise<ReturnType<FeatureStats['toGaussian']>> {
  if (!gemm) return gaussianOf(data, rows, dim);
  const s = new FeatureStats(dim);
  await s.addWith({ data, rows, dim }, gemm);
  return s.toGaussian();
}

/** A real image set seen through the evaluation network: stored statistics and pool rows, both cached on disk. */
export interface RealReference {
  /** FID (pool) and sFID (spatial) statistics, ADM layout. */
  readonly stats: ReferenceStats;
  /** Pool features [count, poolDim] (for KID and precision/recall). */
  readonly pool: Float32Array;
  /** Number of images. */
  readonly count: number;
  /** Cache files. */
  readonly files: { readonly stats: string; readonly pool: string };
  /** Whether both came from the cache. */
  readonly fromCache: boolean;
}

/**
 * Statistics and pool features of a real split, cached in `cacheDir` under names that contain the first 16 hex digits
 * of the classifier weights hash and of the image data hash (`fmnist-<split>-<w16>-<d16>.stats.npz` with mu, sigma,
 * mu_s, sigma_s; `…pool.safetensors` via probe's `cachedFeatures`). A stale or missing file is recomputed.
 */
export async function realReference(
  extractor: FashionFeatureExtractor,
  split: string,
  images: Tensor<'uint8'>,
  labels: Int32Array,
  cacheDir: string,
  options: LongRunningOptions = {},
): Promise<RealReference> {
  await mkdir(cacheDir, { recursive: true });
  const dataHash = imageDataHash(images);
  const stem = join(cacheDir, `fmnist-${split}-${extractor.weightsHash.slice(0, 16)}-${dataHash.slice(0, 16)}`);
  const files = { stats: `${stem}.stats.npz`, pool: `${stem}.pool.safetensors` };
  const key = JSON.stringify({
    kind: 'fmnist-pool-features',
    extractor: extractor.name,
    weightsSha256: extractor.weightsHash,
    dataSha256: dataHash,
    split,
    count: labels.length,
  });
  let computed: FashionFeatureArrays | null = null;
  const compute = async (): Promise<FashionFeatureArrays> =>
    (computed ??= await extractFashionFeatures(extractor, images, { ...options, task: `reference-${split}` }));
  let stats: ReferenceStats;
  let statsCached = false;
  if (await pathExists(files.stats)) {
    stats = await loadReferenceStats(files.stats);
    statsCached = true;
  } else {
    const f = await compute();
    stats = {
      pool: gaussianOf(f.pool, f.count, extractor.featureDim),
      spatial: gaussianOf(f.spatial, f.count, required(extractor.spatialDim, 'spatial feature width of the Fashion classifier')),
    };
    await saveReferenceStats(files.stats, stats, { layout: 'adm' });
  }
  const pool = await cachedFeatures(files.pool, key, async () => ({ features: (await compute()).pool, labels, dim: extractor.featureDim }));
  return { stats, pool: pool.features, count: labels.length, files, fromCache: statsCached && pool.fromCache };
}

/** Settings of {@link fashionMetrics} (docs/evaluation.md §9.2 defaults in brackets). */
export interface FashionMetricOptions extends LongRunningOptions {
  /** Precision/recall neighbourhood [3]. */
  readonly k: number;
  /** Inception-Score splits, boundaries ⌊i·N/splits⌋ [10]. */
  readonly isSplits: number;
  /** KID subsets [100]. */
  readonly kidSubsets: number;
  /** KID subset size [1000], clamped to the smaller set. */
  readonly kidSubsetSize: number;
  /** Seeded RNG for the KID subsets. */
  readonly kidRng: Rng;
  /** Matrix product for covariances, distances and kernel matrices (default: the float64 JavaScript kernels). */
  readonly gemm?: GemmNT;
}

/** The FMNIST metrics of one evaluated set. */
export interface FashionMetricValues {
  /** Fréchet distance of pool features to the training statistics. */
  readonly fid: FrechetResult;
  /** Fréchet distance of spatial features to the training statistics. */
  readonly sfid: FrechetResult;
  /** Classifier score (IS analogue, at most the number of classes). */
  readonly inceptionScore: { readonly score: number; readonly std: number; readonly splits: number; readonly splitScores: readonly number[] };
  /** Improved precision/recall against the P/R real set. */
  readonly precision: number;
  /** See {@link FashionMetricValues.precision}. */
  readonly recall: number;
  /** KID (unbiased MMD², cubic kernel) against the training pool features. */
  readonly kid: { readonly mean: number; readonly std: number; readonly subsets: number; readonly subsetSize: number };
  /** Collected warnings. */
  readonly warnings: readonly string[];
}

/**
 * FMNIST metrics of docs/evaluation.md §9.2: FID (pool) and sFID (spatial) against `reference.stats`, classifier IS over
 * `isSplits` splits, precision/recall (k) against `prReal` pool rows, KID against `kidReal` pool rows.
 */
export async function fashionMetrics(
  evaluated: FashionFeatureArrays,
  reference: ReferenceStats,
  prReal: { readonly pool: Float32Array; readonly count: number },
  kidReal: { readonly pool: Float32Array; readonly count: number },
  dims: { readonly pool: number; readonly spatial: number; readonly classes: number },
  options: FashionMetricOptions,
): Promise<FashionMetricValues> {
  const lro: LongRunningOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const gemm = options.gemm ? { gemm: options.gemm } : {};
  const fid = frechetDistance(await gaussianOfWith(evaluated.pool, evaluated.count, dims.pool, options.gemm), reference.pool);
  const sfid = frechetDistance(
    await gaussianOfWith(evaluated.spatial, evaluated.count, dims.spatial, options.gemm),
    required(reference.spatial, 'spatial statistics of the reference set'),
  );
  const is = inceptionScore({ data: evaluated.logits, rows: evaluated.count, dim: dims.classes }, { numSplits: Math.min(options.isSplits, evaluated.count) });
  const pr = await precisionRecall(
    { data: prReal.pool, rows: prReal.count, dim: dims.pool },
    { data: evaluated.pool, rows: evaluated.count, dim: dims.pool },
    { k: options.k, ...lro, ...gemm },
  );
  const kid = await kernelInceptionDistance(
    { data: evaluated.pool, rows: evaluated.count, dim: dims.pool },
    { data: kidReal.pool, rows: kidReal.count, dim: dims.pool },
    { rng: options.kidRng, numSubsets: options.kidSubsets, subsetSize: options.kidSubsetSize, ...lro, ...gemm },
  );
  return {
    fid,
    sfid,
    inceptionScore: { score: is.score, std: is.std, splits: is.splitScores.length, splitScores: is.splitScores },
    precision: pr.precision,
    recall: pr.recall,
    kid: { mean: kid.mean, std: kid.std, subsets: kid.values.length, subsetSize: kid.subsetSize },
    warnings: [...fid.warnings.map((w) => `FID: ${w}`), ...sfid.warnings.map((w) => `sFID: ${w}`)],
  };
}
