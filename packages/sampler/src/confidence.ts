/**
 * Per-token confidence from predicted bit probabilities (docs/algorithm.md §6, §11).
 */
import { ConfigError, required } from '@bigr/core';

/**
 * 'margin' (default, the released code and [P App.A]): mean_k 2·|p_k − 0.5|, computed in float32 exactly as
 * torch 1.13 on an AVX2 CPU does (see {@link torchMeanF32}), so official runs replay bit for bit.
 * 'entropy' (the paper's Eq. 8): 1 − mean_k H(p_k), H the binary entropy in bits, computed in float64 then
 * rounded to float32. The two rank tokens differently because of the averaging over bits.
 */
export type ConfidenceMeasure = 'margin' | 'entropy';

const LANES = 8; // AVX2 float32 vector width (torch Vectorized<float>::size() on the fixture machine).
const ILP = 4; // torch row_sum's instruction-level-parallelism factor.
const LEVELS = 4; // torch multi_row_sum's cascade levels.

function ceilLog2(x: number): number {
  return x <= 1 ? 0 : 32 - Math.clz32(x - 1);
}

/**
 * Float32 sum of `n` items of width `w` (lane-wise), in the order of torch's `row_sum` / `multi_row_sum`
 * (aten/src/ATen/native/cpu/SumKernel.cpp): items are read as rows of ILP=4 columns, each column accumulated in a
 * 4-level cascade, then the leftover items go to column 0 and the columns are folded left to right.
 * `item(i, out)` writes item i into `out`. Returns the lane sums.
 */
function rowSum(n: number, w: number, item: (i: number, out: Float32Array) => void): Float32Array {
  const sizeIlp = Math.floor(n / ILP);
  const levelPower = Math.max(4, Math.floor(ceilLog2(sizeIlp) / LEVELS));
  const levelStep = 1 << levelPower;
  const levelMask = levelStep - 1;
  const acc: Float32Array[][] = [];
  for (let l = 0; l < LEVELS; l++) {
    const row: Float32Array[] = [];
    for (let c = 0; c < ILP; c++) row.push(new Float32Array(w));
    acc.push(row);
  }
  // acc[l][c]: level l of column c's cascade (LEVELS × ILP accumulators of w lanes).
  const slot = (l: number, c: number): Float32Array => required(acc[l]?.[c], 'cascade accumulator');
  const tmp = new Float32Array(w);
  const addItem = (target: Float32Array, index: number): void => {
    item(index, tmp);
    addLanes(target, tmp);
  };
  let i = 0;
  while (i + levelStep <= sizeIlp) {
    for (let j = 0; j < levelStep; j++, i++) for (let c = 0; c < ILP; c++) addItem(slot(0, c), i * ILP + c);
    for (let j = 1; j < LEVELS; j++) {
      for (let c = 0; c < ILP; c++) {
        const lo = slot(j - 1, c);
        addLanes(slot(j, c), lo);
        lo.fill(0);
      }
      if ((i & (levelMask << (j * levelPower))) !== 0) break;
    }
  }
  for (; i < sizeIlp; i++) for (let c = 0; c < ILP; c++) addItem(slot(0, c), i * ILP + c);
  for (let j = 1; j < LEVELS; j++) for (let c = 0; c < ILP; c++) addLanes(slot(0, c), slot(j, c));
  const p0 = slot(0, 0);
  for (let k = sizeIlp * ILP; k < n; k++) addItem(p0, k);
  for (let c = 1; c < ILP; c++) addLanes(p0, slot(0, c));
  return p0;
}

/** `target[lane] += src[lane]` in float32 for every lane (both arrays have the rowSum width; kernel reads as in docs/architecture.md "Invariants"). */
function addLanes(target: Float32Array, src: Float32Array): void {
  for (let lane = 0; lane < target.length; lane++) target[lane] = required(target[lane], 'accumulator lane') + required(src[lane], 'summand lane');
}

/**
 * Float32 mean of `values[offset .. offset+n)` with torch 1.13's CPU summation order for a contiguous
 * inner-dimension reduction on AVX2 (`cascade_sum` → `vectorized_inner_sum` for n ≥ 8, `scalar_inner_sum`
 * otherwise), followed by the float32 division `mean = sum / n`. The order matters at the last bit, and the
 * official confidences are reproduced exactly with it (the generate_replay fixture).
 */
export function torchMeanF32(values: ArrayLike<number>, offset: number, n: number): number {
  if (n <= 0) return Number.NaN;
  let sum: number;
  if (n >= LANES) {
    const vecs = Math.floor(n / LANES);
    const lanes = rowSum(vecs, LANES, (i, out) => {
      for (let l = 0; l < LANES; l++) out[l] = required(values[offset + i * LANES + l], 'value');
    });
    sum = 0;
    for (let k = vecs * LANES; k < n; k++) sum = Math.fround(sum + required(values[offset + k], 'value'));
    for (const lane of lanes) sum = Math.fround(sum + lane);
  } else {
    const [total] = rowSum(n, 1, (i, out) => {
      out[0] = required(values[offset + i], 'value');
    });
    sum = required(total, 'scalar sum');
  }
  return Math.fround(sum / n);
}

/**
 * Confidence of one token from its K bit probabilities `probs[offset .. offset+K)`; higher = more certain.
 * Float32 result (see {@link ConfidenceMeasure}).
 */
export function tokenConfidence(
  probs: ArrayLike<number>,
  offset: number,
  bitsPerToken: number,
  measure: ConfidenceMeasure = 'margin',
  scratch?: Float32Array,
): number {
  if (measure === 'margin') {
    const d = scratch && scratch.length >= bitsPerToken ? scratch : new Float32Array(bitsPerToken);
    for (let k = 0; k < bitsPerToken; k++) d[k] = Math.abs(Math.fround(required(probs[offset + k], 'bit probability') - 0.5)) * 2;
    return torchMeanF32(d, 0, bitsPerToken);
  }
  if (measure === 'entropy') {
    let h = 0;
    for (let k = 0; k < bitsPerToken; k++) {
      const p = required(probs[offset + k], 'bit probability');
      if (p > 0 && p < 1) h -= p * Math.log2(p) + (1 - p) * Math.log2(1 - p);
    }
    return Math.fround(1 - h / bitsPerToken);
  }
  throw new ConfigError(`Unknown confidence measure ${JSON.stringify(measure)}; expected 'margin' (released code) or 'entropy' (paper Eq. 8).`);
}
