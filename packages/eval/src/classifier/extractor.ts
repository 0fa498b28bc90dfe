import {
  ConfigError,
  CpuTensor,
  dims4,
  hashTensors,
  ShapeError,
  throwIfAborted,
  type CompiledGraph,
  type Engine,
  type NamedTensors,
  type Tensor,
} from '@bigr/core';
import type { ExtractOptions, FeatureExtractor } from '../extract/featureExtractor.js';
import { toUint8Nhwc } from '../extract/quantize.js';
import {
  FASHION_CLASSIFIER_PREPROCESSING,
  FASHION_CLASSIFIER_VERSION,
  fashionClassifierParameterShapes,
  parseFashionClassifierConfig,
  spatialDim,
  type FashionClassifierConfig,
} from './config.js';
import { FASHION_INPUT, fashionClassifierGraph, type FashionConvolution } from './graph.js';

/** Features of one batch from the evaluation network (all three are always produced). */
export interface FashionFeatures {
  /** Penultimate activations, float32 [N, hidden]. */
  readonly pool: CpuTensor<'float32'>;
  /** Logits, float32 [N, classes]. */
  readonly logits: CpuTensor<'float32'>;
  /** Pre-ReLU conv2 map, first channels, HWC-flattened, float32 [N, (S/4)²·spatialChannels]. */
  readonly spatial: CpuTensor<'float32'>;
}

/** The evaluation network as a {@link FeatureExtractor} (docs/evaluation.md §9.2). */
export interface FashionFeatureExtractor extends FeatureExtractor {
  /** Hex SHA-256 of the weights ({@link hashTensors}); part of {@link FeatureExtractor.name}. */
  readonly weightsHash: string;
  /** The architecture. */
  readonly config: FashionClassifierConfig;
  /** Features of uint8 NHWC [N, S, S, 1] images (or float32 NCHW in [−1, 1], quantised first). */
  extract(images: Tensor, options?: ExtractOptions): Promise<FashionFeatures>;
  /** Releases the compiled graph. */
  dispose(): Promise<void>;
}

/** Options of {@link createFashionFeatureExtractor}. */
export interface FashionFeatureExtractorOptions {
  /** Architecture of `params` (default {@link DEFAULT_FASHION_CLASSIFIER_CONFIG}). */
  readonly config?: Partial<FashionClassifierConfig>;
  /** Images per engine call. Default 500. */
  readonly batchSize?: number;
  /** Convolution implementation in the compiled graph. Default 'native' (ONNX Conv / tfjs conv2d). */
  readonly convolution?: FashionConvolution;
  /** Intra-op threads for the engine (onnxruntime). Default: the engine's default. */
  readonly threads?: number;
}

/** `fmnist-cnn-v1/sha256:<first 16 hex>/u8div255-noresize`: the extractor name recorded with every metric. */
export function fashionExtractorName(weightsHash: string): string {
  return `fmnist-cnn-v${FASHION_CLASSIFIER_VERSION}/sha256:${weightsHash.slice(0, 16)}/${FASHION_CLASSIFIER_PREPROCESSING}`;
}

function checkParams(params: NamedTensors, config: FashionClassifierConfig): void {
  for (const [name, shape] of fashionClassifierParameterShapes(config)) {
    const t = params.get(name);
    if (!t) throw new ConfigError(`Fashion classifier parameters lack "${name}" [${shape.join(', ')}]; load a complete model (loadFashionClassifier).`);
    if (t.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`Fashion classifier parameter "${name}" is ${t.dtype} [${t.shape.join(', ')}] but the config needs float32 [${shape.join(', ')}].`);
    }
  }
}

/**
 * Compiles the evaluation network on `engine` (onnxruntime in practice) and returns a feature extractor that runs
 * it batch by batch. Input pixels are converted to float32 exactly (0…255); the graph divides by 255.
 */
export async function createFashionFeatureExtractor(
  engine: Engine,
  params: NamedTensors,
  options: FashionFeatureExtractorOptions = {},
): Promise<FashionFeatureExtractor> {
  const config = parseFashionClassifierConfig(options.config ?? {});
  checkParams(params, config);
  const batchSize = options.batchSize ?? 500;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`Fashion feature extractor batchSize is ${batchSize}; expected a positive integer.`);
  const weightsHash = hashTensors(params);
  const graph = fashionClassifierGraph(config, { convolution: options.convolution ?? 'native' });
  const compiled: CompiledGraph = await engine.compile(graph, params, options.threads === undefined ? {} : { threads: options.threads });
  const s = config.imageSize;
  const pixels = s * s;
  const dims = { pool: config.hidden, logits: config.classes, spatial: spatialDim(config) } as const;
  let disposed = false;
  return {
    name: fashionExtractorName(weightsHash),
    weightsHash,
    config,
    featureDim: config.hidden,
    spatialDim: dims.spatial,
    numClasses: config.classes,
    input: { height: s, width: s, channels: 1 },
    async extract(images: Tensor, opts: ExtractOptions = {}): Promise<FashionFeatures> {
      if (disposed) throw new ConfigError('This Fashion feature extractor was disposed; create a new one.');
      const u8 = toUint8Nhwc(images);
      const [n, h, w, c] = dims4(u8.shape, 'images');
      if (h !== s || w !== s || c !== 1) {
        throw new ShapeError(`The Fashion classifier takes [N, ${s}, ${s}, 1] grayscale images without resizing, got [${u8.shape.join(', ')}].`);
      }
      const out = { pool: new Float32Array(n * dims.pool), logits: new Float32Array(n * dims.logits), spatial: new Float32Array(n * dims.spatial) };
      const src = u8.data;
      for (let start = 0; start < n; start += batchSize) {
        throwIfAborted(opts.signal, 'feature extraction');
        const b = Math.min(batchSize, n - start);
        const x = Float32Array.from(src.subarray(start * pixels, (start + b) * pixels));
        const res = await compiled.run({ [FASHION_INPUT]: new CpuTensor(x, [b, s, s, 1]) });
        for (const key of ['pool', 'logits', 'spatial'] as const) {
          const t = res[key];
          if (!t || t.size !== b * dims[key]) {
            throw new ShapeError(
              `The compiled Fashion classifier returned ${key} of shape [${t?.shape.join(', ') ?? 'missing'}]; expected [${b}, ${dims[key]}].`,
            );
          }
          out[key].set(t.data as Float32Array, start * dims[key]);
        }
      }
      return {
        pool: new CpuTensor(out.pool, [n, dims.pool]),
        logits: new CpuTensor(out.logits, [n, dims.logits]),
        spatial: new CpuTensor(out.spatial, [n, dims.spatial]),
      };
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await compiled.dispose();
    },
  };
}
