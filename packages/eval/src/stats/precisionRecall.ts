/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) with ADM's conventions (docs/evaluation.md §5):
 *
 * - distances are squared Euclidean, computed tile by tile as (‖u‖² + ‖v‖²) − 2u·v in float64, clamped at 0,
 *   with self-distances set to exactly 0;
 * - the radius of x ∈ S is its distance to the k-th nearest *other* member of S (k = 3), i.e. the (k+1)-th
 *   smallest entry of its row including the self-distance 0, so duplicates count at distance 0;
 * - y is on the manifold of S iff d(y, x) ≤ r(x) for some x ∈ S (**inclusive**);
 * - precision = fraction of generated samples on the real manifold, recall = fraction of real samples on the
 *   generated manifold (swapping the sets swaps the numbers).
 *
 * The S×S radius passes use symmetry (only tiles on or above the diagonal), the cross pass computes each
 * generated×real tile once for both numbers. Every distance is the same whatever the tile size (the kernel sums
 * each dot product sequentially), so results do not depend on tiling or row order. The full matrices are never
 * materialised. Cost ≈ 2·d·(N_R²/2 + N_G²/2 + N_R·N_G) flops.
 */
import { required, ConfigError, ShapeError, throwIfAborted, type LongRunningOptions } from '@bigr/core';
import { type GemmNT, gemmNT, rowSquaredNorms } from '../linalg/gemm.js';
import { type FeatureRows, type FeatureTensor, toFeatureRows } from './featureMatrix.js';

/** Options for {@link precisionRecall}. */
export interface PrecisionRecallOptions extends LongRunningOptions {
  /** Neighbourhood size k (ADM: 3). */
  k?: number;
  /** Rows per tile (default 1024; a tile's distance block is tileSize² float64). */
  tileSize?: number;
  /** Injected NT matrix product for the u·v terms (default: the built-in float64 kernel). */
  gemm?: GemmNT;
}

/** Result of {@link precisionRecall}. */
export interface PrecisionRecallResult {
  /** Fraction of generated samples inside the real manifold. */
  readonly precision: number;
  /** Fraction of real samples inside the generated manifold. */
  readonly recall: number;
  /** Neighbourhood size used. */
  readonly k: number;
  /** Squared k-NN radius of each real sample. */
  readonly realRadii: Float64Array;
  /** Squared k-NN radius of each generated sample. */
  readonly generatedRadii: Float64Array;
  /** Number of real samples. */
  readonly realCount: number;
  /** Number of generated samples. */
  readonly generatedCount: number;
}

interface TileContext {
  readonly gemm: GemmNT;
  readonly tile: number;
  readonly options: LongRunningOptions;
  done: number;
  readonly total: number;
}

/** Precision and recall of `generated` against `real` ([N, d] float features, same d). */
export async function precisionRecall(
  real: FeatureTensor | FeatureRows,
  generated: FeatureTensor | FeatureRows,
  options: PrecisionRecallOptions = {},
): Promise<PrecisionRecallResult> {
  const r = toFeatureRows(real, 'precisionRecall real features');
  const g = toFeatureRows(generated, 'precisionRecall generated features');
  if (r.dim !== g.dim)
    throw new ShapeError(`precisionRecall: real features have d = ${r.dim} but generated have d = ${g.dim}. Use the same feature layer for both.`);
  const k = options.k ?? 3;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`precisionRecall: k = ${k} must be a positive integer (ADM uses 3).`);
  for (const [s, name] of [
    [r, 'real'],
    [g, 'generated'],
  ] as const) {
    if (s.rows < k + 1) throw new ConfigError(`precisionRecall: the ${name} set has ${s.rows} samples; k = ${k} needs at least ${k + 1}.`);
  }
  const tile = options.tileSize ?? 1024;
  if (!Number.isInteger(tile) || tile < 1) throw new ConfigError(`precisionRecall: tileSize ${tile} must be a positive integer.`);
  const tilesR = Math.ceil(r.rows / tile);
  const tilesG = Math.ceil(g.rows / tile);
  const ctx: TileContext = {
    gemm: options.gemm ?? (async (a, b, m, n, kk) => gemmNT(a, b, m, n, kk)),
    tile,
    options,
    done: 0,
    total: (tilesR * (tilesR + 1)) / 2 + (tilesG * (tilesG + 1)) / 2 + tilesR * tilesG,
  };
  const normsR = checkedNorms(r, 'real');
  const normsG = checkedNorms(g, 'generated');
  const realRadii = await manifoldRadii(r, normsR, k, ctx);
  const generatedRadii = await manifoldRadii(g, normsG, k, ctx);
  const genOnReal = new Uint8Array(g.rows);
  const realOnGen = new Uint8Array(r.rows);
  let genLeft = g.rows;
  let realLeft = r.rows;
  for (let g0 = 0; g0 < g.rows; g0 += tile) {
    const g1 = Math.min(g.rows, g0 + tile);
    const a = rowsAsFloat64(g, g0, g1);
    for (let r0 = 0; r0 < r.rows; r0 += tile) {
      const r1 = Math.min(r.rows, r0 + tile);
      if (!allSet(genOnReal, g0, g1) || !allSet(realOnGen, r0, r1)) {
        const dist = await distances(a, normsG, g0, g1, rowsAsFloat64(r, r0, r1), normsR, r0, r1, g.dim, ctx.gemm, false);
        const w = r1 - r0;
        for (let i = g0; i < g1; i++) {
          const row = (i - g0) * w;
          const radG = required(generatedRadii[i], 'generated radius');
          let onReal = genOnReal[i] === 1;
          for (let j = r0; j < r1; j++) {
            const dd = required(dist[row + j - r0], 'distance');
            if (!onReal && dd <= required(realRadii[j], 'real radius')) onReal = true;
            if (realOnGen[j] === 0 && dd <= radG) {
              realOnGen[j] = 1;
              realLeft--;
            }
          }
          if (onReal && genOnReal[i] === 0) {
            genOnReal[i] = 1;
            genLeft--;
          }
        }
      }
      await step(ctx);
    }
  }
  return {
    precision: (g.rows - genLeft) / g.rows,
    recall: (r.rows - realLeft) / r.rows,
    k,
    realRadii,
    generatedRadii,
    realCount: r.rows,
    generatedCount: g.rows,
  };
}

/** Squared distance from each member of `s` to its k-th nearest other member. */
async function manifoldRadii(s: FeatureRows, norms: Float64Array, k: number, ctx: TileContext): Promise<Float64Array> {
  const kk = k + 1;
  const best = new Float64Array(s.rows * kk).fill(Infinity);
  const tile = ctx.tile;
  for (let i0 = 0; i0 < s.rows; i0 += tile) {
    const i1 = Math.min(s.rows, i0 + tile);
    const a = rowsAsFloat64(s, i0, i1);
    for (let j0 = i0; j0 < s.rows; j0 += tile) {
      const j1 = Math.min(s.rows, j0 + tile);
      const same = j0 === i0;
      const b = same ? a : rowsAsFloat64(s, j0, j1);
      const dist = await distances(a, norms, i0, i1, b, norms, j0, j1, s.dim, ctx.gemm, same);
      const w = j1 - j0;
      for (let i = i0; i < i1; i++) {
        const row = (i - i0) * w;
        for (let j = j0; j < j1; j++) {
          const dd = required(dist[row + j - j0], 'distance');
          insert(best, i * kk, kk, dd);
          if (!same) insert(best, j * kk, kk, dd);
        }
      }
      await step(ctx);
    }
  }
  const radii = new Float64Array(s.rows);
  for (let i = 0; i < s.rows; i++) radii[i] = required(best[i * kk + k], 'k-th nearest distance');
  return radii;
}

/** Inserts v into the ascending list best[o .. o+len) if it is smaller than the largest entry. */
function insert(best: Float64Array, o: number, len: number, v: number): void {
  let p = o + len - 1;
  if (!(v < required(best[p], 'largest kept distance'))) return;
  while (p > o) {
    const previous = required(best[p - 1], 'kept distance');
    if (!(previous > v)) break;
    best[p] = previous;
    p--;
  }
  best[p] = v;
}

async function distances(
  a: Float64Array,
  na: Float64Array,
  a0: number,
  a1: number,
  b: Float64Array,
  nb: Float64Array,
  b0: number,
  b1: number,
  dim: number,
  gemm: GemmNT,
  sameBlock: boolean,
): Promise<Float64Array> {
  const m = a1 - a0;
  const n = b1 - b0;
  const dot = await gemm(a, b, m, n, dim);
  if (dot.length !== m * n) throw new ShapeError(`precisionRecall: the injected gemm returned ${dot.length} values; ${m}×${n} were expected.`);
  for (let i = 0; i < m; i++) {
    const ni = required(na[a0 + i], 'row norm');
    const row = i * n;
    for (let j = 0; j < n; j++) {
      // (‖u‖² + ‖v‖²) − 2u·v: symmetric in (u, v) bit for bit, so tiling cannot change any distance
      const v = ni + required(nb[b0 + j], 'row norm') - 2 * required(dot[row + j], 'dot product');
      dot[row + j] = Math.max(v, 0);
    }
    if (sameBlock) dot[row + i] = 0;
  }
  return dot;
}

function rowsAsFloat64(s: FeatureRows, from: number, to: number): Float64Array {
  const sub = s.data.subarray(from * s.dim, to * s.dim);
  return sub instanceof Float64Array ? sub : Float64Array.from(sub);
}

function checkedNorms(s: FeatureRows, name: string): Float64Array {
  const n = rowSquaredNorms(s.data, s.rows, s.dim);
  for (let i = 0; i < s.rows; i++) {
    if (!Number.isFinite(n[i])) throw new ShapeError(`precisionRecall: ${name} feature row ${i} contains a non-finite value.`);
  }
  return n;
}

function allSet(flags: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (flags[i] === 0) return false;
  return true;
}

async function step(ctx: TileContext): Promise<void> {
  ctx.done++;
  ctx.options.onProgress?.({ task: 'precision-recall', current: ctx.done, total: ctx.total });
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(ctx.options.signal, 'precision/recall computation');
}
