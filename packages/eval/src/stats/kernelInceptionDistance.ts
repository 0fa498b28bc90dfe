/**
 * Kernel Inception Distance (Bińkowski et al. 2018; docs/evaluation.md §9.2): unbiased MMD² with the polynomial kernel
 * k(x, y) = (γ·xᵀy + c₀)^degree, defaults γ = 1/d, c₀ = 1, degree 3, averaged over random subsets.
 *
 * Per subset (m rows drawn without replacement from each set, as torch-fidelity and clean-fid do):
 *   MMD² = [Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)] / (m(m−1)) − 2·Σ_{i,j} k(xᵢ,yⱼ) / m².
 * Defaults follow torch-fidelity/clean-fid: 100 subsets of size 1000; the subset size is clamped to the smaller
 * set (clean-fid's behaviour; torch-fidelity errors instead). The reported std is the population std over
 * subsets (np.std, as torch-fidelity). Subsets are drawn with the caller's seeded {@link Rng} (first the
 * subset of `x`, then of `y`, per round; partial Fisher–Yates), so numbers are reproducible for a given seed but
 * not bit-identical to NumPy's generator. KID of a set against itself is slightly negative, not 0.
 */
import { required, ConfigError, ShapeError, throwIfAborted, type LongRunningOptions, type Rng } from '@bigr/core';
import { type GemmNT, gemmNT, syrkNT } from '../linalg/gemm.js';
import { type FeatureRows, type FeatureTensor, toFeatureRows } from './featureMatrix.js';

/** Options for {@link kernelInceptionDistance}. */
export interface KidOptions extends LongRunningOptions {
  /** Seeded generator used to draw subsets (only `int` is called). */
  rng: Pick<Rng, 'int'>;
  /** Number of subsets (default 100). */
  numSubsets?: number;
  /** Rows per subset (default 1000, clamped to the smaller set). */
  subsetSize?: number;
  /** Kernel degree (default 3). */
  degree?: number;
  /** Kernel scale γ (default 1/d). */
  gamma?: number;
  /** Kernel offset c₀ (default 1). */
  coef0?: number;
  /**
   * Matrix product for the subset kernel matrices (default: the built-in float64 kernel), e.g. onnxruntime's float64
   * Gemm (`createFloat64GemmNT` of `@bigr/engine-onnx`). It should compute in float64.
   */
  gemm?: GemmNT;
}

/** Result of {@link kernelInceptionDistance}. */
export interface KidResult {
  /** Mean MMD² over subsets (the KID). */
  readonly mean: number;
  /** Population std over subsets. */
  readonly std: number;
  /** MMD² of each subset. */
  readonly values: Float64Array;
  /** Rows per subset actually used. */
  readonly subsetSize: number;
}

/** KID between feature sets `x` and `y` ([N, d], same d). */
export async function kernelInceptionDistance(x: FeatureTensor | FeatureRows, y: FeatureTensor | FeatureRows, options: KidOptions): Promise<KidResult> {
  const fx = toFeatureRows(x, 'KID first features');
  const fy = toFeatureRows(y, 'KID second features');
  if (fx.dim !== fy.dim) throw new ShapeError(`KID: feature dimensions differ (${fx.dim} vs ${fy.dim}). Use the same feature layer for both sets.`);
  const d = fx.dim;
  const numSubsets = options.numSubsets ?? 100;
  const m = Math.min(options.subsetSize ?? 1000, fx.rows, fy.rows);
  if (!Number.isInteger(numSubsets) || numSubsets < 1) throw new ConfigError(`KID: numSubsets ${numSubsets} must be a positive integer (default 100).`);
  if (!Number.isInteger(m) || m < 2) throw new ConfigError(`KID: subsets need at least 2 rows; got ${m} (sets have ${fx.rows} and ${fy.rows} rows).`);
  const degree = options.degree ?? 3;
  const gamma = options.gamma ?? 1 / d;
  const coef0 = options.coef0 ?? 1;
  const kernel = (v: number) => (gamma * v + coef0) ** degree;
  const values = new Float64Array(numSubsets);
  const permX = Int32Array.from({ length: fx.rows }, (_, i) => i);
  const permY = Int32Array.from({ length: fy.rows }, (_, i) => i);
  for (let s = 0; s < numSubsets; s++) {
    const a = drawSubset(fx, permX, m, options.rng);
    const b = drawSubset(fy, permY, m, options.rng);
    const gemm = options.gemm;
    const kxx = offDiagonalKernelSum(gemm ? await gemm(a, a, m, m, d) : syrkNT(a, m, d), m, kernel);
    const kyy = offDiagonalKernelSum(gemm ? await gemm(b, b, m, m, d) : syrkNT(b, m, d), m, kernel);
    const xy = gemm ? await gemm(a, b, m, m, d) : gemmNT(a, b, m, m, d);
    let kxy = 0;
    for (let i = 0; i < xy.length; i++) kxy += kernel(required(xy[i], 'cross product'));
    values[s] = (kxx + kyy) / (m * (m - 1)) - (2 * kxy) / (m * m);
    options.onProgress?.({ task: 'kid', current: s + 1, total: numSubsets });
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(options.signal, 'KID computation');
  }
  const mean = values.reduce((p, v) => p + v, 0) / numSubsets;
  const std = Math.sqrt(values.reduce((p, v) => p + (v - mean) ** 2, 0) / numSubsets);
  return { mean, std, values, subsetSize: m };
}

/** m rows chosen without replacement (partial Fisher–Yates over a persistent permutation), as float64. */
function drawSubset(f: FeatureRows, perm: Int32Array, m: number, rng: Pick<Rng, 'int'>): Float64Array {
  const n = f.rows;
  const out = new Float64Array(m * f.dim);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const r = required(perm[j], 'permutation entry');
    perm[j] = required(perm[i], 'permutation entry');
    perm[i] = r;
    out.set(f.data.subarray(r * f.dim, (r + 1) * f.dim), i * f.dim);
  }
  return out;
}

function offDiagonalKernelSum(gram: Float64Array, m: number, kernel: (v: number) => number): number {
  let s = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) s += kernel(required(gram[i * m + j], 'Gram entry'));
  }
  return 2 * s;
}
