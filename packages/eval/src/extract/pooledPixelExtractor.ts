/**
 * A deterministic stand-in for the Inception network (docs/evaluation.md §6.1 item 2), used to exercise the whole
 * pipeline (npz → batches → features → metrics) without weights:
 *
 * - pool: grayscale (channel mean) averaged over a `grid`×`grid` grid of cells → grid² values in 0…255;
 * - spatial: per-cell channel means over a `spatialGrid`×`spatialGrid` grid, HWC-flattened
 *   (index = (cy·G + cx)·C + c) → G²·C values;
 * - logits: pool/255 times a fixed matrix of `numClasses` columns drawn from the docs/evaluation.md §6.3 LCG with `seed`,
 *   entries in [−scale, scale].
 *
 * Cell boundaries are ⌊i·H/G⌋, so any image size works. The metrics it yields are meaningful only relative to
 * each other; its `name` records every parameter.
 */
import { required, CpuTensor, ConfigError, dims4, throwIfAborted, type Tensor } from '@bigr/core';
import type { ExtractedFeatures, ExtractOptions, FeatureExtractor } from './featureExtractor.js';
import { toUint8Nhwc } from './quantize.js';

/** Options for {@link createPooledPixelExtractor}. */
export interface PooledPixelExtractorOptions {
  /** Pool grid size (default 4 → 16 features). */
  grid?: number;
  /** Spatial grid size (default 4). */
  spatialGrid?: number;
  /** Number of logit classes (default 10). */
  numClasses?: number;
  /** LCG seed of the logit matrix (default 1). */
  seed?: number;
  /** Logit matrix scale (default 8). */
  scale?: number;
  /** Input channels (default 3). */
  channels?: number;
}

function cellMeans(img: Uint8Array, o: number, h: number, w: number, c: number, g: number, perChannel: boolean, out: Float32Array, oo: number): void {
  for (let cy = 0; cy < g; cy++) {
    const y0 = Math.floor((cy * h) / g);
    const y1 = Math.max(y0 + 1, Math.floor(((cy + 1) * h) / g));
    for (let cx = 0; cx < g; cx++) {
      const x0 = Math.floor((cx * w) / g);
      const x1 = Math.max(x0 + 1, Math.floor(((cx + 1) * w) / g));
      const sums = new Float64Array(c);
      for (let y = y0; y < Math.min(y1, h); y++)
        for (let x = x0; x < Math.min(x1, w); x++)
          for (let ch = 0; ch < c; ch++) sums[ch] = required(sums[ch], 'cell sum') + required(img[o + (y * w + x) * c + ch], 'pixel');
      const count = (Math.min(y1, h) - y0) * (Math.min(x1, w) - x0);
      if (perChannel) for (const [ch, sum] of sums.entries()) out[oo + (cy * g + cx) * c + ch] = sum / count;
      else out[oo + cy * g + cx] = sums.reduce((a, b) => a + b, 0) / (count * c);
    }
  }
}

/** Creates the deterministic pooled-pixel extractor. */
export function createPooledPixelExtractor(options: PooledPixelExtractorOptions = {}): FeatureExtractor {
  const g = options.grid ?? 4;
  const sg = options.spatialGrid ?? 4;
  const k = options.numClasses ?? 10;
  const seed = options.seed ?? 1;
  const scale = options.scale ?? 8;
  const channels = options.channels ?? 3;
  for (const [v, n] of [
    [g, 'grid'],
    [sg, 'spatialGrid'],
    [k, 'numClasses'],
    [channels, 'channels'],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`createPooledPixelExtractor: ${n} = ${v} must be a positive integer.`);
  }
  const dim = g * g;
  const weights = new Float64Array(dim * k);
  let s = seed >>> 0;
  for (let i = 0; i < weights.length; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    weights[i] = (2 * (s / 4294967296) - 1) * scale;
  }
  return {
    name: `pooled-pixels/grid${g}/spatial${sg}/classes${k}/seed${seed}/scale${scale}`,
    featureDim: dim,
    spatialDim: sg * sg * channels,
    numClasses: k,
    input: { channels },
    async extract(images: Tensor, opts: ExtractOptions = {}): Promise<ExtractedFeatures> {
      throwIfAborted(opts.signal, 'feature extraction');
      const u8 = toUint8Nhwc(images);
      const [n, h, w, c] = dims4(u8.shape, 'images');
      if (c !== channels) throw new ConfigError(`pooled-pixel extractor expects ${channels} channels but the images have ${c}.`);
      const pool = new Float32Array(n * dim);
      const spatial = new Float32Array(n * sg * sg * c);
      const logits = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        const o = i * h * w * c;
        cellMeans(u8.data, o, h, w, c, g, false, pool, i * dim);
        cellMeans(u8.data, o, h, w, c, sg, true, spatial, i * sg * sg * c);
        for (let j = 0; j < k; j++) {
          let acc = 0;
          for (let p = 0; p < dim; p++) acc += (required(pool[i * dim + p], 'pooled feature') / 255) * required(weights[p * k + j], 'logit weight');
          logits[i * k + j] = acc;
        }
      }
      return {
        pool: new CpuTensor(pool, [n, dim]),
        spatial: new CpuTensor(spatial, [n, sg * sg * c]),
        logits: new CpuTensor(logits, [n, k]),
      };
    },
  };
}
