/**
 * Binary cross-entropy on logits and the paper's weighted BCE (wBCE, Eq. 5–7 = official `focal_loss` with γ = 0,
 * α = −1; docs/algorithm.md §4.2). For a token with targets y_1…y_K and m = (1/K)·Σ_k y_k, bit k has weight
 * w_k = (1 − m)·y_k + m·(1 − y_k) + 1/K: the rarer value of the token gets the larger weight.
 */
import { required, type Ops } from '@bigr/core';

/** CPU reference of the wBCE weights for rows of K targets (0/1), row-major; returns a new array of weights. */
export function weightedBceWeights(targets: ArrayLike<number>, bitsPerToken: number): Float64Array {
  const K = bitsPerToken;
  const out = new Float64Array(targets.length);
  for (let r = 0; r < targets.length / K; r++) {
    let m = 0;
    for (let k = 0; k < K; k++) m += required(targets[r * K + k], 'target bit');
    m /= K;
    for (let k = 0; k < K; k++) {
      const y = required(targets[r * K + k], 'target bit');
      out[r * K + k] = (1 - m) * y + m * (1 - y) + 1 / K;
    }
  }
  return out;
}

/** Graph version of {@link weightedBceWeights}: `targets` [..., K] → weights of the same shape. */
export function weightedBceWeightsGraph<T>(ops: Ops<T>, targets: T, bitsPerToken: number): T {
  const m = ops.mean(targets, [-1], true);
  const one = ops.scalar(1);
  const w = ops.add(ops.mul(ops.sub(one, m), targets), ops.mul(m, ops.sub(one, targets)));
  return ops.add(w, ops.scalar(1 / bitsPerToken));
}

/** Element-wise BCEWithLogits (the shared core layer; gradient σ(ℓ) − y everywhere, including ℓ = 0). */
export { bceWithLogits } from '@bigr/core';

/** CPU reference of BCEWithLogits for one element (float64). */
export function bceWithLogitsScalar(logit: number, target: number): number {
  return Math.max(logit, 0) - logit * target + Math.log1p(Math.exp(-Math.abs(logit)));
}
