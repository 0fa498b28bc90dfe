import type { Ops } from '@bigr/core';

/** Channel count and spatial size of an NCHW feature map (graphs are built without shape inference). */
export interface FeatureDims {
  /** Channels C. */
  readonly channels: number;
  /** Height H. */
  readonly height: number;
  /** Width W. */
  readonly width: number;
}

/** GroupNorm settings shared by every block (docs/algorithm.md §1.2: 32 groups, eps 1e-6). */
export interface NormSettings {
  /** Number of groups. */
  readonly groups: number;
  /** Epsilon added to the variance. */
  readonly eps: number;
}

/**
 * PyTorch `Conv2d` with parameters `${prefix}.weight` (OIHW) and `${prefix}.bias`: a k×k convolution with the
 * given stride and padding `[top, left, bottom, right]`.
 */
export function conv2dLayer<T>(ops: Ops<T>, x: T, prefix: string, stride: number, pads: readonly [number, number, number, number]): T {
  return ops.conv2d(x, ops.param(`${prefix}.weight`), ops.param(`${prefix}.bias`), { strides: stride, pads });
}

/** 3×3 convolution, stride 1, zero padding 1 (size-preserving). */
export function conv3x3<T>(ops: Ops<T>, x: T, prefix: string): T {
  return conv2dLayer(ops, x, prefix, 1, [1, 1, 1, 1]);
}

/** 1×1 convolution (a per-pixel linear map). */
export function conv1x1<T>(ops: Ops<T>, x: T, prefix: string): T {
  return conv2dLayer(ops, x, prefix, 1, [0, 0, 0, 0]);
}
