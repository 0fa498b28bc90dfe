import type { Ops } from '../ops.js';

/**
 * The adaLN modulation of DiT, `modulate(x, shift, scale) = x·(1 + scale) + shift`: how a condition scales and shifts a
 * normalised activation. The backbone's blocks (docs/algorithm.md §2.4) and the transcoder's blocks and final layer
 * (§3) use it; `shift` and `scale` broadcast against `x`.
 */
export function modulate<T>(ops: Ops<T>, x: T, shift: T, scale: T): T {
  return ops.add(ops.mul(x, ops.add(ops.scalar(1), scale)), shift);
}
