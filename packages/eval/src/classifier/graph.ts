import { ConfigError, required, type GraphDefinition, type Ops } from '@bigr/core';
import { featureMapSize, parseFashionClassifierConfig, spatialDim, type FashionClassifierConfig } from './config.js';

/**
 * How the convolutions are computed: `'native'` = `ops.conv2d` (an ONNX `Conv` node on onnxruntime; on tfjs the
 * engine's own kernels, with its wasm-friendly window·matMul form when training). Kept as an option so a
 * future alternative layout can be selected without changing call sites.
 */
export type FashionConvolution = 'native';

/** Options of {@link fashionClassifierGraph}. */
export interface FashionClassifierGraphOptions {
  /** Convolution implementation. Default 'native'. */
  readonly convolution?: FashionConvolution;
}

/** Name of the graph input: float32 [batch, S, S, 1] holding the raw uint8 pixel values 0…255. */
export const FASHION_INPUT = 'images';

/** Outputs of {@link fashionClassifierForward}. */
export interface FashionForwardOutputs<T> {
  /** Penultimate ReLU activations [N, hidden] (FID / precision-recall / KID features). */
  readonly pool: T;
  /** Class logits [N, classes] (IS features). */
  readonly logits: T;
  /** Second convolution output before its ReLU, first `spatialChannels` channels, HWC-flattened [N, (S/4)²·k]. */
  readonly spatial: T;
  /** Logits in the batch-last layout [classes, N] (what the training loss uses, saving a transpose). */
  readonly logitsBatchLast: T;
}

/**
 * The evaluation network as a function of `ops` (docs/evaluation.md §9.2; architecture in {@link FashionClassifierConfig}).
 * `images` is float32 [N, S, S, 1] with values 0…255; the division by 255 happens here, so every engine sees the
 * same preprocessing. Parameters are read with `ops.param` under the names of
 * {@link fashionClassifierParameterShapes}.
 */
export function fashionClassifierForward<T>(
  ops: Ops<T>,
  images: T,
  config: FashionClassifierConfig,
  convolution: FashionConvolution = 'native',
): FashionForwardOutputs<T> {
  const s = config.imageSize;
  const [, c2] = config.channels;
  const m = featureMapSize(config);
  const c0 = config.stemChannels;
  const x = ops.div(images, ops.scalar(255));
  let y2: T; // conv2 output before ReLU, [c2, m, m, N]
  if (convolution === 'native') {
    let a = ops.reshape(x, [-1, 1, s, s]); // NHWC with C = 1 is NCHW
    if (c0 > 0) a = ops.relu(ops.conv2d(a, ops.param('conv0.weight'), ops.param('conv0.bias'), { strides: 1, pads: [1, 1, 1, 1] }));
    const options = { strides: 2, pads: [1, 1, 1, 1] as const };
    const a1 = ops.relu(ops.conv2d(a, ops.param('conv1.weight'), ops.param('conv1.bias'), options));
    const yn = ops.conv2d(a1, ops.param('conv2.weight'), ops.param('conv2.bias'), options); // [N, c2, m, m]
    y2 = ops.transpose(yn, [1, 2, 3, 0]);
  } else {
    throw new ConfigError(`Unknown convolution mode ${JSON.stringify(convolution)}; use 'native'.`);
  }
  // Spatial features: [k, m, m, N] → [N, m, m, k] → [N, m·m·k].
  const k = config.spatialChannels;
  const spatial = ops.reshape(ops.transpose(ops.slice(y2, 0, 0, k), [3, 1, 2, 0]), [-1, spatialDim(config)]);
  // Flatten in (h, w, c) order with the batch last: [c2, m·m, N] → [m·m, c2, N] → [m·m·c2, N].
  const a2 = ops.relu(y2);
  const flat = ops.reshape(ops.transpose(ops.reshape(a2, [c2, m * m, -1]), [1, 0, 2]), [m * m * c2, -1]);
  const h = ops.relu(ops.add(ops.matMul(ops.param('fc1.weight'), flat), ops.reshape(ops.param('fc1.bias'), [config.hidden, 1])));
  const logitsBatchLast = ops.add(ops.matMul(ops.param('fc2.weight'), h), ops.reshape(ops.param('fc2.bias'), [config.classes, 1]));
  return { pool: ops.transpose(h, [1, 0]), logits: ops.transpose(logitsBatchLast, [1, 0]), spatial, logitsBatchLast };
}

/**
 * The evaluation network as a {@link GraphDefinition}: input {@link FASHION_INPUT} float32 ['batch', S, S, 1]
 * (raw pixel values 0…255), outputs `pool`, `logits`, `spatial` (see {@link FashionForwardOutputs}).
 */
export function fashionClassifierGraph(config: Partial<FashionClassifierConfig> = {}, options: FashionClassifierGraphOptions = {}): GraphDefinition {
  const cfg = parseFashionClassifierConfig(config);
  const convolution = options.convolution ?? 'native';
  if (convolution !== 'native') {
    throw new ConfigError(`Unknown convolution mode ${JSON.stringify(convolution)}; use 'native'.`);
  }
  return {
    name: 'fashion_classifier',
    inputs: [{ name: FASHION_INPUT, dtype: 'float32', shape: ['batch', cfg.imageSize, cfg.imageSize, 1] }],
    outputs: ['pool', 'logits', 'spatial'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const out = fashionClassifierForward(ops, required(inputs[FASHION_INPUT], `graph input ${FASHION_INPUT}`), cfg, convolution);
      return { pool: out.pool, logits: out.logits, spatial: out.spatial };
    },
  };
}
