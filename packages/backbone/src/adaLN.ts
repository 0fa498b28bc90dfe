import type { Ops } from '@bigr/core';
import type { BackboneConfig } from './config.js';

/**
 * The shared adaLN of the backbone (docs/algorithm.md §2.3 step 5): A = Linear_{D→6D}(SiLU(c)) from the condition
 * vector c [B, D], computed once and shared by every block, as [B, 1, 6D]; null when the config has `useAdaLN` off.
 * Parameters `adaLN.1.weight` (6D, D) and `adaLN.1.bias` (6D).
 */
export function sharedAdaLN<T>(ops: Ops<T>, config: BackboneConfig, cond: T): T | null {
  if (!config.useAdaLN) return null;
  const a = ops.add(ops.matMul(ops.silu(cond), ops.param('adaLN.1.weight'), false, true), ops.param('adaLN.1.bias'));
  return ops.reshape(a, [-1, 1, 6 * config.dim]);
}

/** The six adaLN chunks of one block, each [B, 1, D] (docs/algorithm.md §2.4). */
export interface BlockModulation<T> {
  /** Shift before attention. */
  readonly shiftMsa: T;
  /** Scale before attention (applied as 1 + scale). */
  readonly scaleMsa: T;
  /** Gate of the attention residual (applied as is, no "1 +"). */
  readonly gateMsa: T;
  /** Shift before the feed-forward. */
  readonly shiftMlp: T;
  /** Scale before the feed-forward (applied as 1 + scale). */
  readonly scaleMlp: T;
  /** Gate of the feed-forward residual (applied as is). */
  readonly gateMlp: T;
}

/**
 * Block `prefix`'s modulation (docs/algorithm.md §2.4): the shared adaLN [B, 1, 6D] plus the block's own learned offset
 * `${prefix}.ada_gss` (1, 1, 6, D), split along the last axis, in this order, into shift/scale/gate for attention
 * and for the feed-forward.
 */
export function blockModulation<T>(ops: Ops<T>, adaLN: T, prefix: string, dim: number): BlockModulation<T> {
  const mod = ops.add(adaLN, ops.reshape(ops.param(`${prefix}.ada_gss`), [1, 1, 6 * dim]));
  const chunk = (i: number) => ops.slice(mod, 2, i * dim, (i + 1) * dim);
  return { shiftMsa: chunk(0), scaleMsa: chunk(1), gateMsa: chunk(2), shiftMlp: chunk(3), scaleMlp: chunk(4), gateMlp: chunk(5) };
}
