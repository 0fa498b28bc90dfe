import { groupNorm, type Ops } from '@bigr/core';
import type { FeatureDims, NormSettings } from './conv.js';

/**
 * The official `normalize(c)` = GroupNorm(32 groups, eps 1e-6, affine) on NCHW input (docs/algorithm.md §1.2), with
 * parameters `${prefix}.weight` and `${prefix}.bias`.
 */
export function normalize<T>(ops: Ops<T>, x: T, prefix: string, dims: FeatureDims, norm: NormSettings): T {
  return groupNorm(ops, x, ops.param(`${prefix}.weight`), ops.param(`${prefix}.bias`), {
    channels: dims.channels,
    height: dims.height,
    width: dims.width,
    groups: norm.groups,
    eps: norm.eps,
  });
}
