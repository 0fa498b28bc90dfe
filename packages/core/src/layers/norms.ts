import type { Ops } from '../ops.js';

/** RMSNorm over the last axis: x·rsqrt(mean(x²) + eps), times `weight` when given (Llama). */
export function rmsNorm<T>(ops: Ops<T>, x: T, weight: T | null, eps: number): T {
  const ms = ops.mean(ops.square(x), [-1], true);
  const y = ops.mul(x, ops.rsqrt(ops.add(ms, ops.scalar(eps))));
  return weight === null ? y : ops.mul(y, weight);
}

/** LayerNorm over the last axis (biased variance), with optional affine weight and bias. */
export function layerNorm<T>(ops: Ops<T>, x: T, weight: T | null, bias: T | null, eps: number): T {
  const mu = ops.mean(x, [-1], true);
  const centered = ops.sub(x, mu);
  const variance = ops.mean(ops.square(centered), [-1], true);
  let y = ops.mul(centered, ops.rsqrt(ops.add(variance, ops.scalar(eps))));
  if (weight !== null) y = ops.mul(y, weight);
  if (bias !== null) y = ops.add(y, bias);
  return y;
}

/**
 * GroupNorm on NCHW input with `groups` groups and per-channel affine (PyTorch semantics, biased variance).
 * `channels`, `height` and `width` must be given because graphs are built without shape inference.
 */
export function groupNorm<T>(ops: Ops<T>, x: T, weight: T, bias: T, dims: { channels: number; height: number; width: number; groups: number; eps: number }): T {
  const { channels, height, width, groups, eps } = dims;
  const g = ops.reshape(x, [-1, groups, (channels / groups) * height * width]);
  const mu = ops.mean(g, [-1], true);
  const centered = ops.sub(g, mu);
  const variance = ops.mean(ops.square(centered), [-1], true);
  const normed = ops.reshape(ops.mul(centered, ops.rsqrt(ops.add(variance, ops.scalar(eps)))), [-1, channels, height, width]);
  return ops.add(ops.mul(normed, ops.reshape(weight, [1, channels, 1, 1])), ops.reshape(bias, [1, channels, 1, 1]));
}
