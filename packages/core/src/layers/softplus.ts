import type { Ops } from '../ops.js';

/**
 * Numerically stable softplus log(1 + eˣ) = relu(x) + log(1 + e^(x − 2·relu(x))) (x − 2·relu(x) is −|x| exactly),
 * written with basic ops so it differentiates on every engine and exports to ONNX. Its gradient is σ(x) everywhere,
 * including x = 0, where a zero-initialised output layer starts (a form through |x| would give 0 there).
 */
export function softplus<T>(ops: Ops<T>, x: T): T {
  const r = ops.relu(x);
  return ops.add(r, ops.log(ops.add(ops.scalar(1), ops.exp(ops.sub(x, ops.add(r, r))))));
}

/** Element-wise binary cross-entropy with logits, stable for large |ℓ|: softplus(ℓ) − y·ℓ (gradient σ(ℓ) − y). */
export function bceWithLogits<T>(ops: Ops<T>, logits: T, targets: T): T {
  return ops.sub(softplus(ops, logits), ops.mul(logits, targets));
}
