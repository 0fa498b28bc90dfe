/**
 * For the tests: writes a tiny random-weight BiGR model directory (backbone + transcoder or categorical head + B-AE
 * tokenizer; bidirectional or causal, as the study variants of docs/algorithm.md §13) and small PNG images, so CLI tests
 * can run every command end to end in seconds without a trained model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng } from '@bigr/core';
import { initialiseBackbone, resolveBackboneConfig, type AttentionKind, type BackboneConfig } from '@bigr/backbone';
import { CategoricalLoss, resolveCategoricalHeadConfig, resolveTranscoderConfig, TranscoderLoss } from '@bigr/transcoder';
import type { BigrHeadKind, BigrModelConfig, BigrModelConfigCommon } from '@bigr/pipeline';
import { encodePng, initBaeParameters, validateConfig, type BaeConfig } from '@bigr/tokenizer';
import { BIGR_FORMAT, saveBigrModel } from '../bigrModelDir.js';
import { saveTokenizerModel, TOKENIZER_FORMAT } from '../tokenizerModelDir.js';

/** Options of {@link writeTinyModel}. */
export interface TinyModelOptions {
  /** Image channels: 1 (Fashion-MNIST-like, default) or 3. */
  readonly channels?: 1 | 3;
  /** Zero padding of the dataset images (default 2: 28×28 images padded to the 32×32 tokenizer input). */
  readonly pad?: number;
  /** Bits per token K (default 12, which exercises the padding bits of packed codes). */
  readonly bitsPerToken?: number;
  /** Class names (default three Fashion-MNIST names). */
  readonly classNames?: readonly string[];
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
  /** The per-token head: 'transcoder' (default, no `head` field written) or 'categorical' (a study variant). */
  readonly head?: BigrHeadKind;
  /** Backbone attention (default 'bidirectional'; 'causal' = the study's AR variants). */
  readonly attention?: AttentionKind;
  /** The transcoder's default diffusion steps S (`transcoder.inferenceSteps`; default 100). */
  readonly inferenceSteps?: number;
}

/** Paths and geometry of a tiny model written by {@link writeTinyModel}. */
export interface TinyModel {
  /** The BiGR model directory (pass as --model). */
  readonly modelDir: string;
  /** Its tokenizer sub-directory (a tokenizer model directory). */
  readonly tokenizerDir: string;
  /** Tokenizer input size (32). */
  readonly resolution: number;
  /** Latent grid (4×4). */
  readonly grid: readonly [number, number];
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Zero padding of the input images. */
  readonly pad: number;
  /** Image channels. */
  readonly channels: 1 | 3;
  /** Class names. */
  readonly classNames: readonly string[];
}

/**
 * Writes `<root>/model` (BiGR model directory with its `tokenizer/` copy) holding random weights: a B-AE with
 * nf 8, 8× downsampling (32 px → 4×4 tokens of K bits) and a 2-layer, width-32 backbone with a 1-block transcoder.
 */
export async function writeTinyModel(root: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const channels = options.channels ?? 1;
  const pad = options.pad ?? 2;
  const K = options.bitsPerToken ?? 12;
  const classNames = options.classNames ?? ['T-shirt/top', 'Trouser', 'Bag'];
  const rng = createRng(`tiny-model/${options.seed ?? 0}`);
  const bae: BaeConfig = validateConfig({
    nf: 8,
    chMult: [1, 1, 2, 2],
    resBlocks: 1,
    attnResolutions: [],
    embDim: 16,
    codeDim: K,
    inChannels: channels,
    resolution: 32,
    normFirst: true,
    normGroups: 4,
    normEps: 1e-6,
  });
  const tokenizerSrc = join(root, 'tokenizer-src');
  await saveTokenizerModel(
    tokenizerSrc,
    { format: TOKENIZER_FORMAT, version: 1, bae, pad, classNames: [...classNames] },
    initBaeParameters(bae, rng.fork('bae')),
  );
  const backbone: BackboneConfig = resolveBackboneConfig({
    dim: 32,
    layers: 2,
    heads: 2,
    bitsPerToken: K,
    tokens: 16,
    numClasses: classNames.length,
    multipleOf: 32,
    ...(options.attention ? { attention: options.attention } : {}),
  });
  const weights = initialiseBackbone(backbone, rng.fork('backbone'));
  const common: BigrModelConfigCommon = { format: BIGR_FORMAT, version: 1, backbone, classNames: [...classNames], tokenizer: 'tokenizer' };
  let config: BigrModelConfig;
  if (options.head === 'categorical') {
    const categorical = resolveCategoricalHeadConfig({ bitsPerToken: K, featureDim: backbone.dim });
    for (const [k, v] of new CategoricalLoss(categorical).initParameters(rng.fork('categorical'))) weights.set(k, v);
    config = { ...common, head: 'categorical', categorical };
  } else {
    const transcoder = resolveTranscoderConfig({
      bitsPerToken: K,
      featureDim: backbone.dim,
      width: 32,
      blocks: 1,
      ...(options.inferenceSteps !== undefined ? { inferenceSteps: options.inferenceSteps } : {}),
    });
    for (const [k, v] of new TranscoderLoss(transcoder).initParameters(rng.fork('transcoder'))) weights.set(k, v);
    config = { ...common, transcoder };
  }
  const modelDir = join(root, 'model');
  await saveBigrModel(modelDir, config, weights, tokenizerSrc);
  return { modelDir, tokenizerDir: join(modelDir, 'tokenizer'), resolution: 32, grid: [4, 4], bitsPerToken: K, pad, channels, classNames };
}

/**
 * Writes a deterministic test pattern PNG (`width`×`height`, gray or RGB): a bright rectangle whose position and
 * brightness depend on `variant`, over a dark gradient. Returns the path.
 */
export async function writeTestPng(path: string, options: { width?: number; height?: number; channels?: 1 | 3; variant?: number } = {}): Promise<string> {
  const w = options.width ?? 28;
  const h = options.height ?? 28;
  const c = options.channels ?? 1;
  const v = options.variant ?? 0;
  const data = new Uint8Array(w * h * c);
  const x0 = (v * 5) % Math.max(1, w - 8);
  const y0 = (v * 3) % Math.max(1, h - 8);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const inside = x >= x0 && x < x0 + w / 2 && y >= y0 && y < y0 + h / 2;
      for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = inside ? 200 + ((v * 17 + ch * 20) % 55) : ((x + y + ch * 7) * 3) % 60;
    }
  await writeFile(path, encodePng({ width: w, height: h, channels: c, data }));
  return path;
}

/** Writes a mask PNG (white inside the box [x0, x1) × [y0, y1), black elsewhere). Returns the path. */
export async function writeMaskPng(path: string, box: { x0: number; y0: number; x1: number; y1: number }, width = 28, height = 28): Promise<string> {
  const data = new Uint8Array(width * height);
  for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) data[y * width + x] = 255;
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, encodePng({ width, height, channels: 1, data }));
  return path;
}
