/**
 * Which masked tokens can still be chosen by the 'entropy' order, from the Gumbel noise alone (docs/algorithm.md §6).
 *
 * A token's key is `float32(conf + float32(τ·G))` with the confidence in [0, 1], so before predicting anything it
 * lies in [L, U] with `L = float32(τ·G)` and `U = float32(1 + float32(τ·G))` (rounding is monotone). A token whose
 * U is below the k-th largest L can never be among the k chosen; after predicting the tokens with the largest U,
 * the k-th largest actual key T is a tighter threshold: tokens with U < T are out too. Skipping their predictions
 * changes nothing: the chosen set, its order and the committed tokens' predictions have the same distribution
 * (the transcoder treats rows independently). With small τ (e.g. 0.01) nothing can be pruned.
 */

/** The two-stage plan of one sample. */
export interface CandidatePlan {
  /** Tokens to predict first, ascending. */
  readonly first: Int32Array;
  /** Further candidates in descending order of their upper bound (predict those with `upper >= T` afterwards). */
  readonly pending: Int32Array;
  /** Upper bound of each pending token's key (parallel to `pending`). */
  readonly pendingUpper: Float64Array;
}

/** Smallest first stage worth splitting off: the k best bounds plus this many (or k more, whichever is larger). */
const FIRST_STAGE_EXTRA = 8;

function kthLargest(values: number[], k: number): number {
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[k - 1]!;
}

/**
 * Plans the predictions of one sample (tokens `offset .. offset+N` of `mask`, 1 = masked) that must commit `k`
 * tokens with Gumbel draws `gumbels[offset + n]` at temperature `tau`. Requires 0 < k < masked count and tau > 0
 * (otherwise every masked token is a candidate).
 */
export function planCandidates(mask: Uint8Array, gumbels: Float64Array, offset: number, tokens: number, k: number, tau: number): CandidatePlan {
  const masked: number[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  for (let n = 0; n < tokens; n++) {
    if (!mask[offset + n]) continue;
    const x = Math.fround(tau * gumbels[offset + n]!);
    masked.push(n);
    lower.push(x);
    upper.push(Math.fround(1 + x));
  }
  const floor = kthLargest(lower, k);
  const order = masked.map((_, i) => i).filter((i) => upper[i]! >= floor);
  order.sort((a, b) => upper[b]! - upper[a]! || masked[a]! - masked[b]!);
  const firstSize = Math.max(2 * k, k + FIRST_STAGE_EXTRA);
  const split = order.length > Math.ceil(1.5 * firstSize) ? firstSize : order.length;
  const first = Int32Array.from(order.slice(0, split), (i) => masked[i]!).sort();
  const rest = order.slice(split);
  return { first, pending: Int32Array.from(rest, (i) => masked[i]!), pendingUpper: Float64Array.from(rest, (i) => upper[i]!) };
}

/** The pending tokens whose key could still reach `threshold` (the k-th largest actual key so far), ascending. */
export function secondStage(plan: CandidatePlan, threshold: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < plan.pending.length && plan.pendingUpper[i]! >= threshold; i++) out.push(plan.pending[i]!);
  return Int32Array.from(out).sort();
}

/** The k-th largest of the finite keys of `tokens` in `scores[offset + n]` (−∞ when fewer than k). */
export function kthLargestKey(scores: Float64Array, offset: number, tokens: Int32Array, k: number): number {
  const values: number[] = [];
  for (const n of tokens) values.push(scores[offset + n]!);
  return values.length >= k ? kthLargest(values, k) : Number.NEGATIVE_INFINITY;
}
