import type { Ops } from '@bigr/core';
import { conv3x3 } from './conv.js';

/** `Upsample(c)` (docs/algorithm.md §1.2): nearest-neighbour ×2, then conv3×3 with padding 1 (parameters `${prefix}.conv`). */
export function upsample<T>(ops: Ops<T>, x: T, prefix: string): T {
  return conv3x3(ops, ops.upsampleNearest2x(x), `${prefix}.conv`);
}
