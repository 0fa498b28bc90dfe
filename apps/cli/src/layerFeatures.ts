import { join } from 'node:path';
import { ConfigError, CpuTensor, getOrThrow, required, type Engine, type LongRunningOptions, type NamedTensors, type Rng } from '@bigr/core';
import { BACKBONE_INPUTS, extractBackboneParameters, multiLayerRepresentationGraph, nullClassIndex, type BackboneConfig } from '@bigr/backbone';
import { cachedFeatures, extractFeatures } from '@bigr/probe';
import type { BaeTokenizer, CodeMode } from '@bigr/tokenizer';

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
 * Average-pooled hidden states of the given blocks for images [N, C, H, W] in [0, 1]: encode to codes with the
 * tokenizer, run the backbone unmasked with the null class, pool over image tokens. Returns one [N, D] array per layer.
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
  const graph = await engine.compile(multiLayerRepresentationGraph(backbone, layers), extractBackboneParameters(weights, backbone));
  const n = required(images.shape[0], 'image count');
  const per = images.size / Math.max(1, n);
  const D = backbone.dim;
  try {
    const indices = Array.from({ length: n }, (_, i) => i);
    const { features } = await extractFeatures(
      indices,
      async (batch) => {
        const b = batch.length;
        const start = required(batch[0], 'first index of a batch');
        const imgs = new CpuTensor<'float32'>(images.data.subarray(start * per, (start + b) * per), [b, ...images.shape.slice(1)]);
        const { bits } = await tokenizer.encode(imgs, options.codes === 'bernoulli' ? { mode: 'bernoulli', rng: options.rng } : { mode: 'threshold' });
        const out = await graph.run({
          [BACKBONE_INPUTS.bits]: new CpuTensor(Float32Array.from(bits.data), bits.shape),
          [BACKBONE_INPUTS.labels]: new CpuTensor(new Int32Array(b).fill(nullClassIndex(backbone)), [b]),
        });
        const row = new Float32Array(b * layers.length * D);
        layers.forEach((l, j) => {
          const p = required(out[`pooled_${l}`], `pooled_${l} output`).data as Float32Array;
          for (let i = 0; i < b; i++) row.set(p.subarray(i * D, (i + 1) * D), (i * layers.length + j) * D);
        });
        return new CpuTensor(row, [b, layers.length * D]);
      },
      {
        batchSize: options.batchSize ?? 64,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
    );
    const result = new Map<number, Float32Array>();
    layers.forEach((l, j) => {
      const f = new Float32Array(n * D);
      for (let i = 0; i < n; i++) f.set(features.subarray((i * layers.length + j) * D, (i * layers.length + j + 1) * D), i * D);
      result.set(l, f);
    });
    return result;
  } finally {
    await graph.dispose();
  }
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
