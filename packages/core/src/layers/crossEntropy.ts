import type { Ops } from '../ops.js';

/**
 * Row maximum of `x` [rows, columns] as [rows, 1]: pairwise `maximum`
 * in a halving tournament over column slices (⌈log₂ columns⌉ levels), so it differentiates on every engine.
 * `columns` must be given because graphs are built without shape inference.
 */
export function rowMax<T>(ops: Ops<T>, x: T, columns: number): T {
  let cur = x;
  let width = columns;
  while (width > 1) {
    const half = Math.floor(width / 2);
    const a = ops.slice(cur, 1, 0, half);
    const b = ops.slice(cur, 1, half, 2 * half);
    const m = ops.maximum(a, b);
    cur = width % 2 === 1 ? ops.concat([m, ops.slice(cur, 1, 2 * half, width)], 1) : m;
    width = width - half;
  }
  return cur;
}

/**
 * Mean softmax cross-entropy of logits [rows, classes] against targets [rows, classes] (one-hot, or any
 * probability rows; no label smoothing is applied): mean over rows of Σ_c t_c·(logsumexp(ℓ) − ℓ_c). The
 * log-sum-exp subtracts the row maximum ({@link rowMax}), so it stays finite for any finite logits; the shift
 * cancels in the gradient, which is exactly softmax(ℓ) − t per row (divided by the row count).
 */
export function softmaxCrossEntropy<T>(ops: Ops<T>, logits: T, targets: T, classes: number): T {
  // The shift only keeps exp() finite; it is a constant for the gradient (stopGradient), which is softmax(ℓ) − t.
  const z = ops.sub(logits, ops.stopGradient(rowMax(ops, logits, classes)));
  const lse = ops.log(ops.sum(ops.exp(z), [1], true));
  return ops.mean(ops.sum(ops.mul(ops.sub(lse, z), targets), [1], false), [0], false);
}
