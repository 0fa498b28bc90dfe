import type { Ops } from '../ops.js';

/**
 * Numerically stable softplus log(1 + eˣ) = relu(x) + log(1 + e^−|x|), written with basic ops so it
 * differentiates on tfjs and exports to ONNX. Use it for BCE-with-logits:
 * BCE(ℓ, y) = softplus(ℓ) − y·ℓ.
 */
export function softplus<T>(ops: Ops<T>, x: T): T {
  const absX = ops.add(ops.relu(x), ops.relu(ops.neg(x)));
  return ops.add(ops.relu(x), ops.log(ops.add(ops.scalar(1), ops.exp(ops.neg(absX)))));
}

/** Element-wise binary cross-entropy with logits, stable for large |ℓ|: softplus(ℓ) − y·ℓ. */
export function bceWithLogits<T>(ops: Ops<T>, logits: T, targets: T): T {
  return ops.sub(softplus(ops, logits), ops.mul(targets, logits));
}
