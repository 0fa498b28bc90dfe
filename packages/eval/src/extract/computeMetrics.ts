/**
 * The evaluation driver: streams generated (and, when needed, reference) images through a
 * {@link FeatureExtractor} batch by batch, accumulates float64 statistics, IS splits and the pool features
 * needed by precision/recall and KID, then computes the requested metrics. Progress is reported through the
 * core {@link ProgressCallback} (tasks `eval-generated`, `eval-reference`, `fid`, `sfid`, `precision-recall`,
 * `kid`) and an AbortSignal stops it at the next batch or tile.
 *
 * ADM conventions (docs/evaluation.md §2.4, §4, §5): stored reference statistics are used when present; precision/recall
 * compares the reference images (`arr_0`) with all generated samples, k = 3; IS uses the generated samples only,
 * in consecutive unshuffled splits of 5,000 (permute class-sorted samples beforehand, §4.4).
 */
import { ConfigError, dims4, required, ShapeError, throwIfAborted, type LongRunningOptions, type Tensor } from '@bigr/core';
import type { GemmNT } from '../linalg/gemm.js';
import type { FeatureRows } from '../stats/featureMatrix.js';
import { FeatureStats } from '../stats/featureStats.js';
import { type FrechetOptions, type FrechetResult, frechetDistance } from '../stats/frechetDistance.js';
import { InceptionScoreAccumulator, type InceptionScoreResult } from '../stats/inceptionScore.js';
import { type KidOptions, type KidResult, kernelInceptionDistance } from '../stats/kernelInceptionDistance.js';
import { precisionRecall } from '../stats/precisionRecall.js';
import type { ReferenceStats } from '../io/referenceStats.js';
import type { FeatureExtractor } from './featureExtractor.js';
import type { ImageSource } from './imageSource.js';
import type { ReferenceInput } from './referenceBatch.js';

/** Metrics {@link computeMetrics} can produce. */
export type MetricName = 'fid' | 'sfid' | 'is' | 'precision-recall' | 'kid';

/** Options for {@link computeMetrics}. */
export interface ComputeMetricsOptions extends LongRunningOptions {
  /**
   * Metrics to compute. Default: FID always; sFID when the extractor has spatial features and the reference
   * has spatial statistics or images; IS when it has logits; precision/recall when reference images are given.
   * KID only when requested (it needs {@link ComputeMetricsOptions.kid}).
   */
  metrics?: readonly MetricName[];
  /** Images per extractor call (default 64, as ADM). */
  batchSize?: number;
  /** IS split size (default 5000, ADM). */
  isSplitSize?: number;
  /** Precision/recall neighbourhood size (default 3). */
  k?: number;
  /** Precision/recall tile size (default 1024). */
  tileSize?: number;
  /** Faster NT matrix product for precision/recall distances. */
  gemm?: GemmNT;
  /** KID settings (rng required when 'kid' is requested). */
  kid?: Omit<KidOptions, keyof LongRunningOptions>;
  /** Fréchet distance options (ε). */
  frechet?: FrechetOptions;
}

/** Everything {@link computeMetrics} measured, with the provenance needed to compare runs (docs/evaluation.md §1.4). */
export interface MetricsReport {
  /** {@link FeatureExtractor.name} (network, weight hash, preprocessing). */
  readonly extractor: string;
  /** Number of generated images. */
  readonly generatedCount: number;
  /** Number of reference images processed (0 when only stored statistics were used). */
  readonly referenceImageCount: number;
  /** Whether reference statistics were read from the file ('stored') or computed from its images. */
  readonly referenceStats: 'stored' | 'computed' | 'none';
  /** FID with diagnostics. */
  readonly fid?: FrechetResult;
  /** sFID with diagnostics. */
  readonly sfid?: FrechetResult;
  /** Inception Score. */
  readonly inceptionScore?: InceptionScoreResult;
  /** Improved precision/recall. */
  readonly precisionRecall?: { readonly precision: number; readonly recall: number; readonly k: number };
  /** Kernel Inception Distance. */
  readonly kid?: KidResult;
  /** Warnings collected from every metric. */
  readonly warnings: readonly string[];
}

interface PassResult {
  pool?: FeatureStats;
  spatial?: FeatureStats;
  is?: InceptionScoreAccumulator;
  rows?: Float32Array;
  count: number;
}

interface PassNeeds {
  poolStats: boolean;
  spatialStats: boolean;
  is: boolean;
  keepRows: boolean;
}

/** Computes generative metrics of `generated` against `reference` with `extractor`. */
export async function computeMetrics(
  generated: ImageSource,
  reference: ReferenceInput,
  extractor: FeatureExtractor,
  options: ComputeMetricsOptions = {},
): Promise<MetricsReport> {
  const hasRefStats = reference.stats !== undefined;
  const hasRefSpatial = reference.stats?.spatial !== undefined || (!hasRefStats && reference.images !== undefined);
  const metrics = new Set<MetricName>(
    options.metrics ??
      ([
        'fid',
        ...(extractor.spatialDim && hasRefSpatial ? ['sfid'] : []),
        ...(extractor.numClasses ? ['is'] : []),
        ...(reference.images ? ['precision-recall'] : []),
      ] as MetricName[]),
  );
  checkFeasible(metrics, reference, extractor, options);
  const needRefImages = metrics.has('precision-recall') || metrics.has('kid') || ((metrics.has('fid') || metrics.has('sfid')) && !hasRefStats);
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`computeMetrics: batchSize ${batchSize} must be a positive integer (ADM uses 64).`);
  const keepRows = metrics.has('precision-recall') || metrics.has('kid');

  const gen = await extractPass(
    generated,
    extractor,
    batchSize,
    'eval-generated',
    options,
    {
      poolStats: metrics.has('fid'),
      spatialStats: metrics.has('sfid'),
      is: metrics.has('is'),
      keepRows,
    },
    options.isSplitSize,
  );
  // checkFeasible has made sure that every statistic and input read below exists for the requested metrics
  let ref: PassResult | undefined;
  if (needRefImages) {
    ref = await extractPass(required(reference.images, 'reference images'), extractor, batchSize, 'eval-reference', options, {
      poolStats: metrics.has('fid') && !hasRefStats,
      spatialStats: metrics.has('sfid') && !hasRefStats,
      is: false,
      keepRows,
    });
  }
  const refStats: ReferenceStats | undefined = hasRefStats
    ? reference.stats
    : ref?.pool
      ? { pool: ref.pool.toGaussian(), spatial: ref.spatial?.toGaussian() }
      : undefined;

  const warnings: string[] = [];
  const report: {
    -readonly [K in keyof MetricsReport]: MetricsReport[K];
  } = {
    extractor: extractor.name,
    generatedCount: gen.count,
    referenceImageCount: ref?.count ?? 0,
    referenceStats: hasRefStats ? 'stored' : refStats ? 'computed' : 'none',
    warnings,
  };
  if (metrics.has('fid')) {
    report.fid = fidStep('fid', required(gen.pool, 'generated pool statistics').toGaussian(), required(refStats, 'reference statistics').pool, options);
    warnings.push(...report.fid.warnings.map((w) => `FID: ${w}`));
  }
  if (metrics.has('sfid')) {
    const refSpatial = required(required(refStats, 'reference statistics').spatial, 'reference spatial statistics');
    report.sfid = fidStep('sfid', required(gen.spatial, 'generated spatial statistics').toGaussian(), refSpatial, options);
    warnings.push(...report.sfid.warnings.map((w) => `sFID: ${w}`));
  }
  if (metrics.has('is')) report.inceptionScore = required(gen.is, 'Inception Score accumulator').result();
  const featureRows = (pass: PassResult | undefined, what: string): FeatureRows => {
    const p = required(pass, `${what} pass`);
    return { data: required(p.rows, `${what} feature rows`), rows: p.count, dim: extractor.featureDim };
  };
  if (metrics.has('precision-recall')) {
    const pr = await precisionRecall(featureRows(ref, 'reference'), featureRows(gen, 'generated'), {
      k: options.k,
      tileSize: options.tileSize,
      gemm: options.gemm,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    report.precisionRecall = { precision: pr.precision, recall: pr.recall, k: pr.k };
  }
  if (metrics.has('kid')) {
    report.kid = await kernelInceptionDistance(featureRows(gen, 'generated'), featureRows(ref, 'reference'), {
      ...required(options.kid, 'KID options'),
      signal: options.signal,
      onProgress: options.onProgress,
    });
  }
  return report;
}

function checkFeasible(metrics: Set<MetricName>, reference: ReferenceInput, extractor: FeatureExtractor, options: ComputeMetricsOptions): void {
  const hasRefStats = reference.stats !== undefined;
  for (const m of metrics) {
    if (!['fid', 'sfid', 'is', 'precision-recall', 'kid'].includes(m))
      throw new ConfigError(`computeMetrics: unknown metric "${m}"; use fid, sfid, is, precision-recall or kid.`);
  }
  if ((metrics.has('fid') || metrics.has('sfid')) && !hasRefStats && !reference.images) {
    throw new ConfigError('computeMetrics: FID/sFID need reference statistics (mu/sigma) or reference images (arr_0); the reference has neither.');
  }
  if (metrics.has('sfid')) {
    if (!extractor.spatialDim) throw new ConfigError(`computeMetrics: sFID needs spatial features but extractor ${extractor.name} produces none.`);
    if (reference.stats !== undefined && !reference.stats.spatial)
      throw new ConfigError('computeMetrics: sFID needs mu_s/sigma_s in the reference statistics (ADM layout); the reference has only mu/sigma.');
  }
  if (metrics.has('is') && !extractor.numClasses) throw new ConfigError(`computeMetrics: IS needs logits but extractor ${extractor.name} produces none.`);
  if ((metrics.has('precision-recall') || metrics.has('kid')) && !reference.images) {
    throw new ConfigError('computeMetrics: precision/recall and KID need reference images (ADM arr_0), not only statistics.');
  }
  if (metrics.has('kid') && !options.kid) throw new ConfigError('computeMetrics: KID needs options.kid with a seeded rng.');
}

function fidStep(task: 'fid' | 'sfid', a: ReturnType<FeatureStats['toGaussian']>, b: ReferenceStats['pool'], options: ComputeMetricsOptions): FrechetResult {
  throwIfAborted(options.signal, task);
  options.onProgress?.({ task, current: 0, total: 1 });
  const r = frechetDistance(a, b, options.frechet);
  options.onProgress?.({ task, current: 1, total: 1, metrics: { [task]: r.value } });
  return r;
}

/** The features of one role an extractor returned for n images, checked to be present and [n, dim]. */
function checkedFeatures(extractor: FeatureExtractor, t: Tensor | undefined, n: number, dim: number | undefined, role: string): Tensor {
  if (!t) throw new ShapeError(`Extractor ${extractor.name} returned no ${role} features, which this evaluation needs.`);
  if (t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== dim) {
    throw new ShapeError(
      `Extractor ${extractor.name} returned ${role} features of shape [${t.shape.join(', ')}] for ${n} images; [${n}, ${dim}] was expected.`,
    );
  }
  return t;
}

async function extractPass(
  source: ImageSource,
  extractor: FeatureExtractor,
  batchSize: number,
  task: string,
  options: ComputeMetricsOptions,
  needs: PassNeeds,
  isSplitSize?: number,
): Promise<PassResult> {
  const res: PassResult = {
    pool: needs.poolStats ? new FeatureStats(extractor.featureDim) : undefined,
    spatial: needs.spatialStats ? new FeatureStats(required(extractor.spatialDim, 'spatial feature dimension')) : undefined,
    is: needs.is ? new InceptionScoreAccumulator({ splitSize: isSplitSize }) : undefined,
    rows: needs.keepRows ? new Float32Array(source.count * extractor.featureDim) : undefined,
    count: 0,
  };
  const total = source.count;
  options.onProgress?.({ task, current: 0, total });
  for await (const batch of source.batches(batchSize, { signal: options.signal })) {
    throwIfAborted(options.signal, task);
    const [n] = dims4(batch.shape, `${task} image batch`);
    if (res.count + n > total) throw new ShapeError(`${task}: the image source delivered more than its declared ${total} images.`);
    const f = await extractor.extract(batch, { signal: options.signal });
    const pool = checkedFeatures(extractor, f.pool, n, extractor.featureDim, 'pool');
    res.pool?.add(pool);
    // spatial features and logits are read (and so checked) only by the passes that keep their statistics
    if (res.spatial) res.spatial.add(checkedFeatures(extractor, f.spatial, n, extractor.spatialDim, 'spatial'));
    if (res.is) res.is.add(checkedFeatures(extractor, f.logits, n, extractor.numClasses, 'logits'));
    res.rows?.set(pool.data, res.count * extractor.featureDim);
    res.count += n;
    options.onProgress?.({ task, current: res.count, total });
  }
  if (res.count !== total) throw new ShapeError(`${task}: the image source declared ${total} images but delivered ${res.count}.`);
  return res;
}
