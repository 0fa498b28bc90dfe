import type { Ops } from '../ops.js';

/**
 * PyTorch-style linear layer y = x·Wᵀ + b with weight `${prefix}.weight` of shape (out, in) and, when
 * `bias` is true, `${prefix}.bias` of shape (out). Works on inputs of any rank ≥ 2.
 */
export function linear<T>(ops: Ops<T>, x: T, prefix: string, bias = true): T {
  const y = ops.matMul(x, ops.param(`${prefix}.weight`), false, true);
  return bias ? ops.add(y, ops.param(`${prefix}.bias`)) : y;
}
