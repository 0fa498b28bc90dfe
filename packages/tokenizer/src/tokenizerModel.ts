import {
  ConfigError,
  CpuTensor,
  dims3,
  dims4,
  ShapeError,
  packBits,
  required,
  type BinaryTokenizer,
  type CompileOptions,
  type CompiledGraph,
  type Engine,
  type NamedTensors,
  type PackedCodes,
  type Rng,
  type Tensor,
} from '@bigr/core';
import { latentGrid, validateConfig, type BaeConfig } from './config.js';
import { decoderGraph, encoderGraph } from './baeGraph.js';
import { loadBaeParameters } from './parameters.js';
import { binarize, type CodeMode } from './quantizer.js';

/** Options of {@link BaeTokenizer.create}. */
export interface BaeTokenizerOptions {
  /** Image height the graphs are compiled for (default `config.resolution`); a multiple of the downsampling factor. */
  readonly height?: number;
  /** Image width (default `config.resolution`). */
  readonly width?: number;
  /** Largest batch sent to the engine at once; bigger inputs are split (default 32). Bounds peak memory. */
  readonly maxBatch?: number;
  /** Passed to `Engine.compile` (e.g. onnxruntime threads). */
  readonly compile?: CompileOptions;
}

/** Options of {@link BaeTokenizer.encode}. */
export interface EncodeOptions {
  /** `'bernoulli'` (official pipeline, needs `rng`) or `'threshold'` (deterministic, paper Eq. 1). */
  readonly mode: CodeMode;
  /** Source of the Bernoulli uniforms (one float32 uniform per bit, C order over [B, N, K]). */
  readonly rng?: Rng;
}

/** Result of {@link BaeTokenizer.encode}. */
export interface EncodeResult {
  /** Bits [B, N, K], uint8 0/1, token layout (docs/algorithm.md §0). */
  readonly bits: CpuTensor<'uint8'>;
  /** Probabilities P(bit = 1) [B, N, K]. */
  readonly probabilities: CpuTensor<'float32'>;
}

/**
 * The B-AE as a {@link BinaryTokenizer} on any {@link Engine}: one encoder and one decoder graph, compiled from the
 * shared definitions (tfjs or onnxruntime). Images are [B, C, H, W] float32 in [0, 1] (docs/algorithm.md §0).
 *
 * ```ts
 * const engine = await resolveEngine({ purpose: 'inference' });
 * const tok = await BaeTokenizer.create(engine, baePreset('bae-256-d24'), weights);
 * const { bits } = await tok.encode(images, { mode: 'threshold' });
 * const recon = await tok.decode(bits);
 * ```
 */
export class BaeTokenizer implements BinaryTokenizer {
  /** Architecture. */
  readonly config: BaeConfig;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** Latent grid (rows, cols). */
  readonly grid: readonly [number, number];
  /** (channels, height, width) of the images it takes. */
  readonly imageShape: readonly [channels: number, height: number, width: number];
  /** Name of the engine the graphs run on. */
  readonly engineName: string;
  readonly #encoder: CompiledGraph;
  readonly #decoder: CompiledGraph;
  readonly #maxBatch: number;

  private constructor(config: BaeConfig, height: number, width: number, engineName: string, enc: CompiledGraph, dec: CompiledGraph, maxBatch: number) {
    this.config = config;
    this.bitsPerToken = config.codeDim;
    this.grid = Object.freeze(latentGrid(config, height, width)) as readonly [number, number];
    this.imageShape = Object.freeze([config.inChannels, height, width] as const);
    this.engineName = engineName;
    this.#encoder = enc;
    this.#decoder = dec;
    this.#maxBatch = maxBatch;
  }

  /**
   * Compiles encoder and decoder for `config` with `parameters` (official names; a raw `ae.*` state dict is
   * accepted, see `loadBaeParameters`) on `engine`.
   */
  static async create(engine: Engine, config: BaeConfig, parameters: ReadonlyMap<string, CpuTensor>, options: BaeTokenizerOptions = {}): Promise<BaeTokenizer> {
    const c = validateConfig(config);
    const height = options.height ?? c.resolution;
    const width = options.width ?? c.resolution;
    latentGrid(c, height, width);
    const maxBatch = options.maxBatch ?? 32;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ConfigError(`maxBatch must be a positive integer, got ${maxBatch}.`);
    const params: NamedTensors = loadBaeParameters(c, parameters);
    const enc = await engine.compile(encoderGraph(c, height, width), params, options.compile);
    let dec: CompiledGraph;
    try {
      dec = await engine.compile(decoderGraph(c, height, width), params, options.compile);
    } catch (err) {
      await enc.dispose();
      throw err;
    }
    return new BaeTokenizer(c, height, width, engine.name, enc, dec, maxBatch);
  }

  /** Tokens per image N = rows·cols. */
  get tokens(): number {
    return this.grid[0] * this.grid[1];
  }

  /** Encoder probabilities P(bit = 1), [B, N, K], without binarising. */
  async probabilities(images: Tensor<'float32'>): Promise<CpuTensor<'float32'>> {
    const [c, h, w] = this.imageShape;
    if (images.dtype !== 'float32' || images.shape.length !== 4 || images.shape[1] !== c || images.shape[2] !== h || images.shape[3] !== w) {
      throw new ShapeError(
        `B-AE encode: images have dtype ${images.dtype} and shape [${images.shape.join(', ')}] but float32 [B, ${c}, ${h}, ${w}] was expected ` +
          `(pixels in [0, 1], NCHW). Resize/crop with loadImage/centerCropResize, or create the tokenizer with height/width options.`,
      );
    }
    const [b] = dims4(images.shape, 'B-AE encode images');
    const per = c * h * w;
    const nk = this.tokens * this.bitsPerToken;
    const out = new Float32Array(b * nk);
    for (let start = 0; start < b; start += this.#maxBatch) {
      const n = Math.min(this.#maxBatch, b - start);
      const chunk = new CpuTensor(images.data.subarray(start * per, (start + n) * per), [n, c, h, w]);
      const r = await this.#encoder.run({ image: chunk });
      out.set(required(r['probabilities'], 'encoder output "probabilities"').data as Float32Array, start * nk);
    }
    return new CpuTensor(out, [b, this.tokens, this.bitsPerToken]);
  }

  /**
   * Encodes images [B, C, H, W] in [0, 1] to bits [B, N, K] and their probabilities. `'bernoulli'` (what the official
   * pipeline uses) draws one float32 uniform u per bit from `rng`, in the C order of the official latent (B, K, h, w),
   * and sets b = 1[u < p]; `'threshold'` is 1[p > 0.5].
   */
  async encode(images: Tensor<'float32'>, options: EncodeOptions): Promise<EncodeResult> {
    const probabilities = await this.probabilities(images);
    if (options.mode !== 'bernoulli') {
      return { bits: new CpuTensor(binarize(probabilities.data, options.mode), probabilities.shape), probabilities };
    }
    // Uniforms are consumed in the official C order of the latent (B, K, h, w), so recorded torch.bernoulli draws
    // replay bit-exactly; the bits are then laid out as tokens [B, N, K].
    const [b, n, k] = dims3(probabilities.shape, 'encoder probabilities');
    const latentOrder = new Float32Array(probabilities.size);
    const p = probabilities.data;
    for (let i = 0; i < b; i++)
      for (let t = 0; t < n; t++) for (let j = 0; j < k; j++) latentOrder[(i * k + j) * n + t] = required(p[(i * n + t) * k + j], 'probability');
    const drawn = binarize(latentOrder, 'bernoulli', options.rng);
    const bits = new Uint8Array(probabilities.size);
    for (let i = 0; i < b; i++)
      for (let t = 0; t < n; t++) for (let j = 0; j < k; j++) bits[(i * n + t) * k + j] = required(drawn[(i * k + j) * n + t], 'drawn bit');
    return { bits: new CpuTensor(bits, probabilities.shape), probabilities };
  }

  /** Decodes bits [B, N, K] (uint8 0/1 or float32 0.0/1.0) to images [B, C, H, W] (not clamped). */
  async decode(bits: Tensor<'uint8'> | Tensor<'float32'>): Promise<CpuTensor<'float32'>> {
    const n = this.tokens;
    const k = this.bitsPerToken;
    if (bits.shape.length !== 3 || bits.shape[1] !== n || bits.shape[2] !== k) {
      throw new ShapeError(
        `B-AE decode: bits have shape [${bits.shape.join(', ')}] but [B, ${n}, ${k}] (token layout) was expected ` +
          `for a ${this.grid[0]}x${this.grid[1]} grid with K = ${k}.`,
      );
    }
    const [b] = dims3(bits.shape, 'B-AE decode bits');
    const [c, h, w] = this.imageShape;
    const per = c * h * w;
    const out = new Float32Array(b * per);
    const src = bits.data;
    for (let start = 0; start < b; start += this.#maxBatch) {
      const m = Math.min(this.#maxBatch, b - start);
      const f = new Float32Array(src.subarray(start * n * k, (start + m) * n * k));
      const r = await this.#decoder.run({ bits: new CpuTensor(f, [m, n, k]) });
      out.set(required(r['image'], 'decoder output "image"').data as Float32Array, start * per);
    }
    return new CpuTensor(out, [b, c, h, w]);
  }

  /** decode(encode(images)): reconstructions [B, C, H, W] (threshold codes unless told otherwise). */
  async reconstruct(images: Tensor<'float32'>, options: EncodeOptions = { mode: 'threshold' }): Promise<CpuTensor<'float32'>> {
    const { bits } = await this.encode(images, options);
    return this.decode(bits);
  }

  /**
   * Binary hash of images for retrieval: the deterministic (threshold) codes of each image, packed 8 bits per byte
   * (`PackedCodes`, N·ceil(K/8) bytes per image). Identical images always get identical hashes.
   */
  async hash(images: Tensor<'float32'>): Promise<PackedCodes> {
    const { bits } = await this.encode(images, { mode: 'threshold' });
    return packBits(bits);
  }

  /** Releases both compiled graphs. */
  async dispose(): Promise<void> {
    await this.#encoder.dispose();
    await this.#decoder.dispose();
  }
}
