/**
 * Pooled backbone representations of several blocks in one pass (docs/algorithm.md §7.1, docs/evaluation.md §8.1):
 * images → codes with the tokenizer → the backbone on unmasked codes with the null class → the mean over image tokens
 * of each requested block's output. The one implementation behind {@link BigrPipeline.features} /
 * {@link BigrPipeline.layerFeatures} and the CLI's `bigr features`, `bigr probe` and the study's probe.
 */
import { ConfigError, CpuTensor, dims4, required, throwIfAborted, type CompiledGraph, type LongRunningOptions, type Rng } from '@bigr/core';
import { BACKBONE_INPUTS, multiLayerRepresentationGraph, nullClassIndex, type BackboneConfig } from '@bigr/backbone';
import type { BaeTokenizer, CodeMode } from '@bigr/tokenizer';

/** Images per tokenizer + backbone call when not given (bounds memory; results do not depend on it beyond rounding). */
export const DEFAULT_FEATURE_BATCH = 64;

/** Options of {@link runLayerFeatures}. */
export interface LayerFeatureRunOptions extends LongRunningOptions {
  /** Code binarisation: 'threshold' (deterministic) or 'bernoulli' (draws from `rng`, as the official pipeline). */
  readonly mode: CodeMode;
  /** Uniforms of the Bernoulli codes, consumed in image order (so the codes do not depend on the batch size). */
  readonly rng: Rng;
  /** Images per tokenizer + backbone call. Default {@link DEFAULT_FEATURE_BATCH}. */
  readonly batchSize?: number;
}

/** Sorted distinct layers, each a block of `backbone` (ConfigError naming the bad one otherwise). */
export function checkFeatureLayers(backbone: BackboneConfig, layers: readonly number[]): number[] {
  if (layers.length === 0) throw new ConfigError('No layer given; pass at least one 0-based block index.');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= backbone.layers)
      throw new ConfigError(`Layer ${l} does not exist; this backbone has blocks 0…${backbone.layers - 1} (0-based).`);
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/** The graph {@link runLayerFeatures} runs: blocks 0…max(layers) once, one `pooled_<l>` output per layer. */
export function layerFeatureGraph(backbone: BackboneConfig, layers: readonly number[]): ReturnType<typeof multiLayerRepresentationGraph> {
  return multiLayerRepresentationGraph(backbone, checkFeatureLayers(backbone, layers));
}

/**
 * Pooled features [N, D] of each of `layers` for tokenizer-input images [N, C, H, W] in [0, 1], with `graph` compiled
 * from {@link layerFeatureGraph} for the same layers. Progress is reported per batch as task 'features'.
 */
export async function runLayerFeatures(
  graph: CompiledGraph,
  backbone: BackboneConfig,
  tokenizer: BaeTokenizer,
  images: CpuTensor<'float32'>,
  layers: readonly number[],
  options: LayerFeatureRunOptions,
): Promise<Map<number, CpuTensor<'float32'>>> {
  const wanted = checkFeatureLayers(backbone, layers);
  const batchSize = options.batchSize ?? DEFAULT_FEATURE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`Feature batch size is ${batchSize}; expected a positive integer (e.g. 64).`);
  if (options.mode !== 'threshold' && options.mode !== 'bernoulli')
    throw new ConfigError(`Code mode is "${String(options.mode)}"; expected 'threshold' (deterministic) or 'bernoulli' (seeded, official).`);
  const [n, c, h, w] = dims4(images.shape, 'feature images');
  const per = c * h * w;
  const D = backbone.dim;
  const features = new Map(wanted.map((l) => [l, new Float32Array(n * D)] as const));
  const nullClass = nullClassIndex(backbone);
  for (let start = 0; start < n; start += batchSize) {
    throwIfAborted(options.signal, 'feature extraction');
    const b = Math.min(batchSize, n - start);
    const chunk = new CpuTensor<'float32'>(images.data.subarray(start * per, (start + b) * per), [b, c, h, w]);
    const { bits } = await tokenizer.encode(chunk, options.mode === 'bernoulli' ? { mode: 'bernoulli', rng: options.rng } : { mode: 'threshold' });
    const out = await graph.run({
      [BACKBONE_INPUTS.bits]: new CpuTensor(Float32Array.from(bits.data), bits.shape),
      [BACKBONE_INPUTS.labels]: new CpuTensor(new Int32Array(b).fill(nullClass), [b]),
    });
    for (const [l, f] of features) f.set(required(out[`pooled_${l}`], `pooled_${l} output`).data as Float32Array, start * D);
    options.onProgress?.({ task: 'features', current: start + b, total: n });
  }
  return new Map([...features].map(([l, f]) => [l, new CpuTensor(f, [n, D])] as const));
}
