/**
 * Which masked tokens an iteration commits (docs/algorithm.md §6, Table 3 ablation).
 */
import { ConfigError, required } from '@bigr/core';

/**
 * - 'entropy' (default, BiGR): the k most confident masked tokens, confidence from the prediction plus Gumbel
 *   noise (docs/algorithm.md §6).
 * - 'random': k masked tokens uniformly at random (the key is a fresh standard Gumbel per token; Gumbel noise
 *   of the schedule is not added on top).
 * - 'raster': the k lowest-index masked tokens (row-major), no noise.
 * - 'autoregressive': raster order, one token per iteration (as many iterations as masked tokens; the iteration
 *   count and unmask schedule are ignored). Only the one token's prediction is requested each step, so a
 *   predictor built with {@link createBigrPredictor} runs its transcoder on a single row per sample. The
 *   backbone stays bidirectional with mask tokens for the future positions: a model trained causally would need
 *   its own predictor.
 *
 * For 'random', 'raster' and 'autoregressive' the chosen tokens are known before predicting, so only their
 * predictions are requested.
 */
export type OrderingStrategy = 'entropy' | 'random' | 'raster' | 'autoregressive';

/** All ordering strategies, for validation and CLI help. */
export const ORDERING_STRATEGIES: readonly OrderingStrategy[] = ['entropy', 'random', 'raster', 'autoregressive'];

/** Throws a {@link ConfigError} unless `order` is a known strategy. */
export function assertOrdering(order: string): asserts order is OrderingStrategy {
  if (!(ORDERING_STRATEGIES as readonly string[]).includes(order)) {
    throw new ConfigError(`Unknown ordering ${JSON.stringify(order)}; expected one of ${ORDERING_STRATEGIES.join(', ')}.`);
  }
}

/**
 * Indices of the `k` largest of `keys[0..n)` in descending order, like `torch.topk`. Ties go to the lower index
 * (so picks beyond the masked tokens land on the lowest-index −∞ entries, docs/algorithm.md §8.1; the official CUDA run is
 * believed to do the same). NaN sorts below −∞.
 */
export function topKIndices(keys: ArrayLike<number>, k: number, n = keys.length): Int32Array {
  if (k > n) throw new ConfigError(`top-k of ${k} from ${n} tokens is impossible; k must be <= the token count.`);
  const entries = Array.from({ length: n }, (_, i) => {
    const v = required(keys[i], 'top-k key');
    const nan = Number.isNaN(v);
    return { i, key: nan ? Number.NEGATIVE_INFINITY : v, nan: nan ? 1 : 0 };
  });
  entries.sort((a, b) => {
    if (a.key !== b.key) return a.key > b.key ? -1 : 1;
    return a.nan !== b.nan ? a.nan - b.nan : a.i - b.i;
  });
  return Int32Array.from(entries.slice(0, k), (e) => e.i);
}

/**
 * Orders the masked tokens of one sample (`mask[offset + n] = 1`) by `keys` (descending, ties → lower index) and
 * returns the first `min(k, masked)`; then, if `k` exceeds the masked count, appends the lowest-index unmasked
 * tokens (the −∞ ties that the official top-k returns; those tokens get re-sampled, docs/algorithm.md §8.1).
 */
export function chooseTokens(keys: ArrayLike<number>, mask: Uint8Array, offset: number, tokens: number, k: number): Int32Array {
  if (k <= 0) return new Int32Array(0);
  const masked: { token: number; key: number }[] = [];
  const fixed: number[] = [];
  for (let n = 0; n < tokens; n++) {
    if (mask[offset + n]) masked.push({ token: n, key: required(keys[n], 'ordering key') });
    else fixed.push(n);
  }
  masked.sort((a, b) => {
    const ka = a.key;
    const kb = b.key;
    if (ka !== kb && !(Number.isNaN(ka) && Number.isNaN(kb))) {
      if (Number.isNaN(ka)) return 1;
      if (Number.isNaN(kb)) return -1;
      return ka > kb ? -1 : 1;
    }
    return a.token - b.token;
  });
  // The sorted masked tokens, then the lowest-index fixed ones: `tokens` entries, of which the first min(k, tokens).
  const order = [...masked.map((m) => m.token), ...fixed];
  return Int32Array.from(order.slice(0, Math.min(k, tokens)));
}

/**
 * Tokens whose predictions a strategy needs before choosing, for one sample: all masked tokens plus the surplus
 * fixed tokens for 'entropy' (their confidence decides the order), nothing when k = 0.
 */
export function entropyCandidates(mask: Uint8Array, offset: number, tokens: number, k: number): Int32Array {
  if (k <= 0) return new Int32Array(0);
  const masked = mask.subarray(offset, offset + tokens).reduce((s, x) => s + x, 0);
  let surplus = Math.max(0, Math.min(k, tokens) - masked);
  const out: number[] = [];
  for (let n = 0; n < tokens; n++) {
    if (mask[offset + n]) out.push(n);
    else if (surplus > 0) {
      out.push(n);
      surplus--;
    }
  }
  return Int32Array.from(out);
}
