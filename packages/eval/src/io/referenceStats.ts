/**
 * Reference-statistics files (docs/evaluation.md §2.4).
 *
 * - **ADM layout** (`VIRTUAL_imagenet256_labeled.npz`): `mu` (2048), `sigma` (2048×2048), `mu_s` (2023),
 *   `sigma_s` (2023×2023), plus `arr_0` = reference images (N×256×256×3 uint8) used only for precision/recall
 *   (and IS when the file is the sample batch); `arr_1` labels may be present and are ignored. ADM's rule: if
 *   the file contains `mu`, the stored (mu, sigma, mu_s, sigma_s) are used instead of recomputing from `arr_0`.
 * - **pytorch-fid / clean-fid layout**: `mu`, `sigma` (float64) only. clean-fid KID files hold `feats`.
 *
 * Statistics are read as float64 whatever their stored float type, and written as float64.
 */
import { ConfigError, FormatError } from '@bigr/core';
import type { GaussianStats } from '../stats/gaussianStats.js';
import type { FeatureStatsState } from '../stats/featureStats.js';
import type { NpyArray } from './npy.js';
import { NpzReader, type NpzReaderOptions, NpzWriter } from './npz.js';

/** Which arrays a statistics file holds. */
export type ReferenceLayout = 'adm' | 'pytorch-fid';

/** Statistics loaded from a reference file. */
export interface ReferenceStats {
  /** pool3 statistics (`mu`, `sigma`). */
  readonly pool: GaussianStats;
  /** sFID statistics (`mu_s`, `sigma_s`) when present. */
  readonly spatial?: GaussianStats;
}

/** Options for {@link saveReferenceStats}. */
export interface SaveReferenceStatsOptions {
  /** 'adm' writes mu, sigma, mu_s, sigma_s (spatial required); 'pytorch-fid' writes mu, sigma (default). */
  layout?: ReferenceLayout;
  /** Force ZIP64 structures (for testing readers). */
  forceZip64?: boolean;
}

/** Reads a float array as float64, checking its shape. */
async function readFloat64(npz: NpzReader, name: string, shape: readonly number[] | null): Promise<{ data: Float64Array; shape: readonly number[] }> {
  const a = await npz.read(name);
  if (a.dtype !== 'float64' && a.dtype !== 'float32')
    throw new FormatError(`${npz.path}: array ${name} has dtype ${a.dtype}; float32 or float64 statistics were expected.`);
  if (shape && (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i]))) {
    throw new FormatError(`${npz.path}: array ${name} has shape (${a.shape.join(', ')}) but (${shape.join(', ')}) was expected.`);
  }
  return { data: a.data instanceof Float64Array ? a.data : Float64Array.from(a.data as Float32Array), shape: a.shape };
}

async function readPair(npz: NpzReader, muName: string, sigmaName: string): Promise<GaussianStats> {
  const mu = await readFloat64(npz, muName, null);
  const [d, ...extra] = mu.shape;
  if (d === undefined || extra.length > 0) throw new FormatError(`${npz.path}: ${muName} has shape (${mu.shape.join(', ')}); a vector was expected.`);
  const sigma = await readFloat64(npz, sigmaName, [d, d]);
  return { mu: mu.data, sigma: sigma.data };
}

/** Reads the stored statistics of an open `.npz` (ADM or pytorch-fid layout); undefined when it has no `mu`. */
export async function readReferenceStatsFrom(npz: NpzReader): Promise<ReferenceStats | undefined> {
  if (!npz.has('mu')) return undefined;
  if (!npz.has('sigma')) throw new FormatError(`${npz.path} has 'mu' but no 'sigma'. A statistics file needs both.`);
  const pool = await readPair(npz, 'mu', 'sigma');
  if (npz.has('mu_s') !== npz.has('sigma_s')) throw new FormatError(`${npz.path} has only one of 'mu_s' and 'sigma_s'.`);
  const spatial = npz.has('mu_s') ? await readPair(npz, 'mu_s', 'sigma_s') : undefined;
  return spatial ? { pool, spatial } : { pool };
}

/** Loads reference statistics from `path`; throws if the file holds no `mu`/`sigma`. */
export async function loadReferenceStats(path: string, options: NpzReaderOptions = {}): Promise<ReferenceStats> {
  const npz = await NpzReader.open(path, options);
  try {
    const stats = await readReferenceStatsFrom(npz);
    if (!stats) {
      throw new FormatError(
        `${path} holds no 'mu'/'sigma' statistics (arrays: ${npz.names.join(', ')}). Compute statistics from its images (arr_0) with computeMetrics instead.`,
      );
    }
    return stats;
  } finally {
    await npz.close();
  }
}

function f64(name: string, data: Float64Array, shape: number[]): [string, NpyArray] {
  return [name, { dtype: 'float64', shape, data }];
}

/** Writes statistics as an `.npz` readable by numpy, ADM and pytorch-fid (atomically). */
export async function saveReferenceStats(path: string, stats: ReferenceStats, options: SaveReferenceStatsOptions = {}): Promise<void> {
  const layout = options.layout ?? 'pytorch-fid';
  const d = stats.pool.mu.length;
  if (stats.pool.sigma.length !== d * d) throw new ConfigError(`saveReferenceStats: sigma has ${stats.pool.sigma.length} entries; ${d}×${d} were expected.`);
  const arrays: [string, NpyArray][] = [f64('mu', stats.pool.mu, [d]), f64('sigma', stats.pool.sigma, [d, d])];
  if (layout === 'adm') {
    if (!stats.spatial)
      throw new ConfigError("saveReferenceStats: the 'adm' layout needs spatial (sFID) statistics for mu_s/sigma_s; pass them or use layout 'pytorch-fid'.");
    const ds = stats.spatial.mu.length;
    if (stats.spatial.sigma.length !== ds * ds)
      throw new ConfigError(`saveReferenceStats: sigma_s has ${stats.spatial.sigma.length} entries; ${ds}×${ds} were expected.`);
    arrays.push(f64('mu_s', stats.spatial.mu, [ds]), f64('sigma_s', stats.spatial.sigma, [ds, ds]));
  }
  const w = await NpzWriter.create(path, { zip64: options.forceZip64 ?? false });
  try {
    for (const [name, a] of arrays) await w.add(name, a);
    await w.close();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Saves a {@link FeatureStatsState} (count, mean, scatter) so partial statistics from several processes can be merged later. */
export async function saveFeatureStatsState(path: string, state: FeatureStatsState): Promise<void> {
  const w = await NpzWriter.create(path);
  try {
    await w.add('count', { dtype: 'int64', shape: [], data: BigInt64Array.from([BigInt(state.count)]) });
    await w.add('mean', { dtype: 'float64', shape: [state.dim], data: state.mean });
    await w.add('scatter', { dtype: 'float64', shape: [state.dim, state.dim], data: state.scatter });
    await w.close();
  } catch (err) {
    await w.abort();
    throw err;
  }
}

/** Loads a state written by {@link saveFeatureStatsState}. */
export async function loadFeatureStatsState(path: string): Promise<FeatureStatsState> {
  const npz = await NpzReader.open(path);
  try {
    const count = await npz.read('count');
    if (count.dtype !== 'int64' || count.data.length !== 1) throw new FormatError(`${path}: 'count' must be an int64 scalar.`);
    const n = Number((count.data as BigInt64Array)[0]);
    const mean = await readFloat64(npz, 'mean', null);
    const d = mean.data.length;
    const scatter = await readFloat64(npz, 'scatter', [d, d]);
    return { dim: d, count: n, mean: mean.data, scatter: scatter.data };
  } finally {
    await npz.close();
  }
}
