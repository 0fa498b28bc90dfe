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
import { at, required } from '@bigr/core';

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

/** The k-th largest of `values`; the callers ensure there are at least k. */
function kthLargest(values: number[], k: number): number {
  const sorted = [...values].sort((a, b) => b - a);
  return at(sorted, k - 1, 'k-th largest value');
}

/**
 * Plans the predictions of one sample (tokens `offset .. offset+N` of `mask`, 1 = masked) that must commit `k`
 * tokens with Gumbel draws `gumbels[offset + n]` at temperature `tau`. Requires 0 < k < masked count and tau > 0
 * (otherwise every masked token is a candidate).
 */
export function planCandidates(mask: Uint8Array, gumbels: Float64Array, offset: number, tokens: number, k: number, tau: number): CandidatePlan {
  const lower: number[] = [];
  const candidates: { token: number; upper: number }[] = [];
  for (let n = 0; n < tokens; n++) {
    if (!mask[offset + n]) continue;
    const x = Math.fround(tau * required(gumbels[offset + n], 'Gumbel noise'));
    lower.push(x);
    candidates.push({ token: n, upper: Math.fround(1 + x) });
  }
  const floor = kthLargest(lower, k);
  const order = candidates.filter((c) => c.upper >= floor);
  order.sort((a, b) => b.upper - a.upper || a.token - b.token);
  const firstSize = Math.max(2 * k, k + FIRST_STAGE_EXTRA);
  const split = order.length > Math.ceil(1.5 * firstSize) ? firstSize : order.length;
  const first = Int32Array.from(order.slice(0, split), (c) => c.token).sort();
  const rest = order.slice(split);
  return { first, pending: Int32Array.from(rest, (c) => c.token), pendingUpper: Float64Array.from(rest, (c) => c.upper) };
}

/** The pending tokens whose key could still reach `threshold` (the k-th largest actual key so far), ascending. */
export function secondStage(plan: CandidatePlan, threshold: number): Int32Array {
  const out: number[] = [];
  for (const [i, token] of plan.pending.entries()) {
    if (!(at(plan.pendingUpper, i, 'pending upper bound') >= threshold)) break;
    out.push(token);
  }
  return Int32Array.from(out).sort();
}

/** The k-th largest of the finite keys of `tokens` in `scores[offset + n]` (−∞ when fewer than k). */
export function kthLargestKey(scores: Float64Array, offset: number, tokens: Int32Array, k: number): number {
  const values = Array.from(tokens, (n) => required(scores[offset + n], 'score'));
  return values.length >= k ? kthLargest(values, k) : Number.NEGATIVE_INFINITY;
}
