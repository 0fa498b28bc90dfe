import type { Ops } from '@bigr/core';
import { conv2dLayer } from './conv.js';

/**
 * `Downsample(c)` (docs/algorithm.md §1.2): zero-pad by 1 on the right and bottom only, then conv3×3 with stride 2 and no
 * other padding (parameters `${prefix}.conv`). Halves H and W (both must be even).
 */
export function downsample<T>(ops: Ops<T>, x: T, prefix: string): T {
  return conv2dLayer(ops, x, `${prefix}.conv`, 2, [0, 0, 1, 1]);
}
