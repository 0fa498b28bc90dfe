import type { Ops } from '@bigr/core';
import { conv1x1, conv3x3, type NormSettings } from './conv.js';
import { normalize } from './normalize.js';

/**
 * `ResBlock(i, o)` (docs/algorithm.md §1.2): GN(i) → SiLU → conv3×3(i→o) → GN(o) → SiLU → conv3×3(o→o), plus the skip
 * path: the input itself, or `conv_out` (1×1, i→o) when i ≠ o. No dropout. Parameters under `prefix`:
 * `norm1`, `conv1`, `norm2`, `conv2` and `conv_out` (the latter exists in official checkpoints even when i = o,
 * but is then unused, exactly as in the official forward).
 */
export function resBlock<T>(
  ops: Ops<T>,
  x: T,
  prefix: string,
  dims: { readonly inChannels: number; readonly outChannels: number; readonly height: number; readonly width: number },
  norm: NormSettings,
): T {
  const { inChannels, outChannels, height, width } = dims;
  let h = normalize(ops, x, `${prefix}.norm1`, { channels: inChannels, height, width }, norm);
  h = conv3x3(ops, ops.silu(h), `${prefix}.conv1`);
  h = normalize(ops, h, `${prefix}.norm2`, { channels: outChannels, height, width }, norm);
  h = conv3x3(ops, ops.silu(h), `${prefix}.conv2`);
  const skip = inChannels === outChannels ? x : conv1x1(ops, x, `${prefix}.conv_out`);
  return ops.add(skip, h);
}
