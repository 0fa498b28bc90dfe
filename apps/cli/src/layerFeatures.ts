import { join } from 'node:path';
import { ConfigError, CpuTensor, dims4, getOrThrow, throwIfAborted, type Engine, type LongRunningOptions, type NamedTensors, type Rng } from '@bigr/core';
import { extractBackboneParameters, type BackboneConfig } from '@bigr/backbone';
import { cachedFeatures } from '@bigr/probe';
import { layerFeatureGraph, runLayerFeatures, unpadImages } from '@bigr/pipeline';
import type { BaeTokenizer, CodeMode, LabelledImages } from '@bigr/tokenizer';
import type { ProbeDataset } from '@bigr/probe';

/** Parses `--layer`: 'all', a single index, or a comma list; 'default' is `fallback`. */
export function parseLayers(value: string, config: BackboneConfig, fallback: number): number[] {
  if (value === 'all') return Array.from({ length: config.layers }, (_, i) => i);
  if (value === '' || value === 'default') return [fallback];
  const layers = value.split(',').map((s) => Number(s.trim()));
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= config.layers) {
      throw new ConfigError(`--layer "${value}" is not valid; use 'all', or 0-based block indices in 0…${config.layers - 1} (comma-separated).`);
    }
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** Options of {@link extractLayerFeatures}. */
export interface LayerFeatureOptions extends LongRunningOptions {
  /** Code binarisation (default 'bernoulli', as the official pipeline). */
  readonly codes: CodeMode;
  /** Uniforms for Bernoulli codes (consumed in image order, so results do not depend on the batch size). */
  readonly rng: Rng;
  /** Images per engine call. Default 64. */
  readonly batchSize?: number;
}

/**
 * Average-pooled hidden states of the given blocks for images [N, C, H, W] in [0, 1] of a model loaded by hand (the
 * study's variant models): `runLayerFeatures` of `@bigr/pipeline` (what `BigrPipeline.layerFeatures` runs) on a graph
 * compiled for this call. Returns one [N, D] array per layer.
 */
export async function extractLayerFeatures(
  engine: Engine,
  backbone: BackboneConfig,
  weights: NamedTensors,
  tokenizer: BaeTokenizer,
  images: CpuTensor<'float32'>,
  layers: readonly number[],
  options: LayerFeatureOptions,
): Promise<Map<number, Float32Array>> {
  const graph = await engine.compile(layerFeatureGraph(backbone, layers), extractBackboneParameters(weights, backbone));
  try {
    const { codes, ...rest } = options;
    const features = await runLayerFeatures(graph, backbone, tokenizer, images, layers, { ...rest, mode: codes });
    return new Map([...features].map(([l, f]) => [l, f.data] as const));
  } finally {
    await graph.dispose();
  }
}

/**
 * The tokenizer's codes as probe features — the backbone's input, the baseline its blocks are compared with: each
 * image's N·K bits flattened in (token, bit) order as 0/1 floats. Binarised as `options.codes` with the uniforms of
 * `options.rng` consumed in image order, so for the same seed these are exactly the codes `runLayerFeatures` feeds the
 * backbone (docs/evaluation.md §8.8). Returns [images, N·K].
 */
export async function codeFeatures(
  tokenizer: BaeTokenizer,
  images: CpuTensor<'float32'>,
  options: LayerFeatureOptions,
): Promise<{ features: Float32Array; dim: number }> {
  const [n, c, h, w] = dims4(images.shape, 'probe images');
  const per = c * h * w;
  const batchSize = options.batchSize ?? 64;
  let features: Float32Array | null = null;
  let dim = 0;
  for (let start = 0; start < n; start += batchSize) {
    throwIfAborted(options.signal, 'code extraction');
    const b = Math.min(batchSize, n - start);
    const chunk = new CpuTensor<'float32'>(images.data.subarray(start * per, (start + b) * per), [b, c, h, w]);
    const { bits } = await tokenizer.encode(chunk, options.codes === 'bernoulli' ? { mode: 'bernoulli', rng: options.rng } : { mode: 'threshold' });
    dim = bits.size / b;
    features ??= new Float32Array(n * dim);
    features.set(Float32Array.from(bits.data), start * dim);
    options.onProgress?.({ task: 'codes', current: start + b, total: n });
  }
  return { features: features ?? new Float32Array(0), dim };
}

/** Raw-pixel features x/255 (docs/evaluation.md §8.8 baseline): the unpadded image, flattened. */
export function pixelFeatures(images: LabelledImages, pad: number): ProbeDataset {
  const x = unpadImages(images.images, pad);
  const n = images.labels.length;
  return { features: Float32Array.from(x.data), labels: images.labels, dim: x.size / Math.max(1, n) };
}

/** Path of the cached features of one layer: `<stem>.l<NN>.safetensors` (or exactly `single` when given). */
export function layerFeaturePath(dir: string, stem: string, layer: number): string {
  return join(dir, `${stem}.l${String(layer).padStart(2, '0')}.safetensors`);
}

/** The cache key of a features file (a JSON string, so the file describes itself). */
export function layerFeatureKey(info: { modelHash: string; data: string; split: string; count: number; layer: number; codes: CodeMode; seed: number }): string {
  return JSON.stringify({ kind: 'bigr-layer-features', pooling: 'mean-image-tokens', condition: 'null-class', mask: 'none', ...info });
}

/**
 * Features of several layers with one safetensors cache file per layer (probe's `cachedFeatures`, keyed by model hash,
 * data, split, count, layer, code mode and seed). Layers whose cache matches are read; if any is missing, one pass
 * computes all requested layers.
 */
export async function cachedLayerFeatures(
  paths: ReadonlyMap<number, string>,
  keyOf: (layer: number) => string,
  labels: Int32Array,
  compute: () => Promise<Map<number, Float32Array>>,
  dim: number,
): Promise<{ features: Map<number, Float32Array>; fromCache: boolean }> {
  let all: Promise<Map<number, Float32Array>> | null = null;
  const features = new Map<number, Float32Array>();
  let fromCache = true;
  for (const [layer, path] of paths) {
    const r = await cachedFeatures(path, keyOf(layer), async () => {
      all ??= compute();
      return { features: getOrThrow(await all, layer, 'layer features'), labels, dim };
    });
    fromCache &&= r.fromCache;
    features.set(layer, r.features);
  }
  return { features, fromCache };
}
