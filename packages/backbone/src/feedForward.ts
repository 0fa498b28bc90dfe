import type { Ops } from '@bigr/core';

/**
 * SwiGLU feed-forward of the BiGR block (docs/algorithm.md §2.4): dropout(W2(silu(W1 x) ⊙ W3 x)), all without bias.
 * Parameters `${prefix}.w1/w2/w3.weight` (`layers.i.feed_forward`), hidden size from {@link ffnHiddenSize}.
 */
export function feedForward<T>(ops: Ops<T>, x: T, prefix: string, dropout: number): T {
  const gate = ops.silu(ops.matMul(x, ops.param(`${prefix}.w1.weight`), false, true));
  const up = ops.matMul(x, ops.param(`${prefix}.w3.weight`), false, true);
  const out = ops.matMul(ops.mul(gate, up), ops.param(`${prefix}.w2.weight`), false, true);
  return dropout > 0 ? ops.dropout(out, dropout) : out;
}
