/**
 * The feature-extractor abstraction (docs/evaluation.md §6.1): metrics never see images, only features produced by an
 * opaque network — the FID Inception (ONNX, user-supplied), a small domain classifier (§9), or a
 * deterministic fake for tests.
 */
import type { CpuTensor, Tensor } from '@bigr/core';

/** What a {@link FeatureExtractor} expects as input (uint8 NHWC after quantisation, see `toUint8Nhwc`). */
export interface ImageInputSpec {
  /** Required image height, or undefined for any size. */
  readonly height?: number;
  /** Required image width, or undefined for any size. */
  readonly width?: number;
  /** Channels (3 for RGB, 1 for grayscale). */
  readonly channels: number;
}

/** Features of one batch of N images. */
export interface ExtractedFeatures {
  /** Global features for FID, precision/recall and KID: float32 [N, featureDim] (Inception pool3: 2048). */
  readonly pool: CpuTensor<'float32'>;
  /** Spatial features for sFID, already sliced and HWC-flattened per docs/evaluation.md §3: float32 [N, spatialDim]. */
  readonly spatial?: CpuTensor<'float32'>;
  /** Class logits for IS: float32 [N, numClasses] (Inception: 1008 unbiased logits). */
  readonly logits?: CpuTensor<'float32'>;
}

/** Options passed to {@link FeatureExtractor.extract}. */
export interface ExtractOptions {
  /** Abort the extraction at the next safe point. */
  signal?: AbortSignal;
}

/** A frozen network mapping images to features. */
export interface FeatureExtractor {
  /**
   * Identifier recorded with every metric: network, weight hash and preprocessing mode
   * (e.g. `inception-2015-12-05/sha256:6726…/tf1-bilinear-299`). Numbers are only comparable for equal ids.
   */
  readonly name: string;
  /** Dimension of {@link ExtractedFeatures.pool}. */
  readonly featureDim: number;
  /** Dimension of {@link ExtractedFeatures.spatial}, or undefined when not produced (no sFID). */
  readonly spatialDim?: number;
  /** Number of classes of {@link ExtractedFeatures.logits}, or undefined when not produced (no IS). */
  readonly numClasses?: number;
  /** Expected input. */
  readonly input: ImageInputSpec;
  /**
   * Features of a batch: uint8 NHWC [N, H, W, C] in 0…255, or float32 NCHW [N, C, H, W] model output in
   * [−1, 1], which is first quantised to uint8 with the docs/evaluation.md §1.1 rule (`toUint8Nhwc`).
   */
  extract(images: Tensor, options?: ExtractOptions): Promise<ExtractedFeatures>;
}
