import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  CpuTensor,
  createRng,
  FormatError,
  NotFoundError,
  packBits,
  parseJsonBounded,
  sha256OfFile,
  throwIfAborted,
  unpackBits,
  type Engine,
  type LongRunningOptions,
  type PackedCodes,
  type Tensor,
} from '@bigr/core';
import { HashIndex, type BaeTokenizer, type Neighbours } from '@bigr/tokenizer';
import { BIGR_FORMAT, confinedSubdirectory } from './bigrModelDir.js';
import { loadTokenizer, type TokenizerModelConfig } from './tokenizerModelDir.js';
import { chooseEngine, type EngineChoice } from './engineChoice.js';
import { clampImages, concatBatches, imageGeometry, toModelImages, unpadImages, type ImageGeometry, type ImageSource } from './images.js';
import { resolveModelSource, type LoadSourceOptions, type ModelSource } from './sources.js';
import type { CodesFile } from './codesFile.js';

/** Options of {@link TokenizerPipeline.load}. */
export interface TokenizerPipelineLoadOptions extends EngineChoice, LoadSourceOptions {}

/** How codes are made: 'threshold' (deterministic, the default for hashing) or 'bernoulli' (seeded draws, as in training). */
export type CodeMode = 'threshold' | 'bernoulli';

/** Options of {@link TokenizerPipeline.encode}. */
export interface TokenizerEncodeOptions extends LongRunningOptions {
  /** Default 'threshold'. */
  readonly mode?: CodeMode;
  /** Seed of the Bernoulli draws (consumed in image order, so results do not depend on batching). Default 0. */
  readonly seed?: number;
}

/** Codes of a batch of images. */
export interface EncodedImages {
  /** Bits [B, N, K] (0/1). */
  readonly bits: CpuTensor<'uint8'>;
  /** The same bits packed (LSB first per token), ready for a {@link HashIndex}. */
  readonly packed: PackedCodes;
}

/** Options of {@link TokenizerPipeline.decode}. */
export interface DecodeOptions {
  /** Remove the tokenizer's padding (e.g. 32 → 28 px for Fashion-MNIST). Default true. */
  readonly unpad?: boolean;
  /** Clamp to [0, 1] as the official save path does. Default true. */
  readonly clamp?: boolean;
}

/** Images per tokenizer call (bounds memory). */
const CHUNK = 64;

/**
 * A pretrained binary tokenizer (B-AE) ready to encode, decode and hash images — for users who only need binary
 * codes (hashing, retrieval, compression), without the generator.
 *
 * ```ts
 * const tok = await TokenizerPipeline.load('models/fashion-mnist');
 * const index = await tok.index(['a.png', 'b.png']);
 * const [hits] = await tok.search(index, 'query.png', 5);
 * ```
 */
export class TokenizerPipeline {
  /** The tokenizer on its engine. */
  readonly tokenizer: BaeTokenizer;
  /** The tokenizer directory's config. */
  readonly config: TokenizerModelConfig;
  /** The tokenizer model directory. */
  readonly dir: string;
  /** SHA-256 of the tokenizer weights (identifies which codes belong together). */
  readonly hash: string;
  /** How images are brought to the tokenizer's input. */
  readonly geometry: ImageGeometry;
  /** Name of the engine the graphs run on. */
  readonly engineName: string;

  /** Wraps an already loaded tokenizer (see {@link TokenizerPipeline.load}). */
  constructor(parts: { tokenizer: BaeTokenizer; config: TokenizerModelConfig; dir: string; hash: string; engineName: string }) {
    this.tokenizer = parts.tokenizer;
    this.config = parts.config;
    this.dir = parts.dir;
    this.hash = parts.hash;
    this.engineName = parts.engineName;
    this.geometry = imageGeometry(parts.tokenizer, parts.config);
  }

  /**
   * Loads the tokenizer of `source`: a tokenizer model directory, a BiGR model directory (its `tokenizer/`), or a
   * Hub repo id / official checkpoint (see {@link resolveModelSource}).
   */
  static async load(source: ModelSource, options: TokenizerPipelineLoadOptions = {}): Promise<TokenizerPipeline> {
    const { dir } = await resolveModelSource(source, options);
    const engine = await chooseEngine(options);
    return TokenizerPipeline.fromDirectory(dir, engine);
  }

  /** Loads the tokenizer of a local BiGR or tokenizer model directory onto `engine`. */
  static async fromDirectory(dir: string, engine: Engine): Promise<TokenizerPipeline> {
    const tokDir = await tokenizerDirectoryOf(dir);
    const { tokenizer, config } = await loadTokenizer(tokDir, engine);
    return new TokenizerPipeline({ tokenizer, config, dir: tokDir, hash: await sha256OfFile(join(tokDir, 'model.safetensors')), engineName: engine.name });
  }

  /** Latent grid [rows, cols]. */
  get grid(): readonly [number, number] {
    return this.tokenizer.grid;
  }

  /** Tokens per image N. */
  get tokens(): number {
    return this.tokenizer.tokens;
  }

  /** Bits per token K. */
  get bitsPerToken(): number {
    return this.tokenizer.bitsPerToken;
  }

  /** Brings images (paths, rasters or tensors) to the tokenizer's input [B, C, H, W]. */
  images(source: ImageSource): Promise<CpuTensor<'float32'>> {
    return toModelImages(source, this.geometry);
  }

  /** Encodes images to binary codes (threshold codes by default). */
  async encode(source: ImageSource, options: TokenizerEncodeOptions = {}): Promise<EncodedImages> {
    const mode = options.mode ?? 'threshold';
    if (mode !== 'threshold' && mode !== 'bernoulli')
      throw new ConfigError(`mode is "${String(mode)}"; expected 'threshold' (deterministic) or 'bernoulli' (seeded).`);
    const images = await this.images(source);
    const B = images.shape[0]!;
    const per = images.size / B;
    const rng = createRng(options.seed ?? 0);
    const parts: CpuTensor<'uint8'>[] = [];
    for (let s = 0; s < B; s += CHUNK) {
      throwIfAborted(options.signal, 'encoding');
      const b = Math.min(CHUNK, B - s);
      const chunk = new CpuTensor<'float32'>(images.data.subarray(s * per, (s + b) * per), [b, ...images.shape.slice(1)]);
      const { bits } = await this.tokenizer.encode(chunk, mode === 'bernoulli' ? { mode, rng } : { mode });
      parts.push(bits);
      options.onProgress?.({ task: 'encode', current: s + b, total: B });
    }
    const bits = parts.length === 1 ? parts[0]! : concatBatches(parts);
    return { bits, packed: packBits(bits) };
  }

  /** Threshold hash codes of images, packed (equal images always get equal codes). */
  async hashImages(source: ImageSource, options: LongRunningOptions = {}): Promise<PackedCodes> {
    return (await this.encode(source, options)).packed;
  }

  /** Decodes codes (bits [B, N, K] or packed) to images [B, C, H, W], by default unpadded and clamped to [0, 1]. */
  async decode(codes: Tensor<'uint8'> | PackedCodes, options: DecodeOptions = {}): Promise<CpuTensor<'float32'>> {
    const bits = 'bytes' in codes ? unpackBits(codes) : codes;
    if (bits.shape.length !== 3 || bits.shape[1] !== this.tokens || bits.shape[2] !== this.bitsPerToken) {
      throw new ConfigError(
        `Codes have shape [${bits.shape.join(', ')}]; this tokenizer decodes [B, ${this.tokens}, ${this.bitsPerToken}] (grid ${this.grid.join('×')}). ` +
          `Decode with the tokenizer the codes were encoded with.`,
      );
    }
    const raw = await this.tokenizer.decode(bits);
    return this.finish(raw, options);
  }

  /** Post-processes decoder output as {@link DecodeOptions} says. */
  finish(images: Tensor<'float32'>, options: DecodeOptions = {}): CpuTensor<'float32'> {
    let out = options.unpad === false ? new CpuTensor<'float32'>(images.data, images.shape) : unpadImages(images, this.geometry.pad);
    if (options.clamp !== false) out = clampImages(out);
    return out;
  }

  /** A {@link CodesFile} record of bits made by this tokenizer (write it with `writeCodesFile`). */
  codesFile(bits: CpuTensor<'uint8'>, options: { codeMode?: string; sources?: readonly string[] } = {}): CodesFile {
    return {
      bits,
      grid: this.grid,
      tokenizerHash: this.hash,
      imageShape: this.tokenizer.imageShape,
      pad: this.geometry.pad,
      codeMode: options.codeMode ?? 'threshold',
      sources: options.sources ?? [],
    };
  }

  /** Hashes images into `index` (a new {@link HashIndex} when omitted); ids continue from the index's size. */
  async index(source: ImageSource, index?: HashIndex, options: LongRunningOptions = {}): Promise<HashIndex> {
    const packed = await this.hashImages(source, options);
    const target = index ?? new HashIndex(this.tokens, this.bitsPerToken, Math.max(1, packed.batch));
    if (target.tokens !== this.tokens || target.bitsPerToken !== this.bitsPerToken) {
      throw new ConfigError(
        `The index holds codes of ${target.tokens} tokens × ${target.bitsPerToken} bits; this tokenizer makes ${this.tokens} × ${this.bitsPerToken}. ` +
          `Use a new index or the tokenizer it was built with.`,
      );
    }
    const first = target.size;
    target.add(
      packed,
      Array.from({ length: packed.batch }, (_, i) => first + i),
    );
    return target;
  }

  /** The k nearest indexed images of each query image by Hamming distance of their threshold codes. */
  async search(index: HashIndex, queries: ImageSource, k: number, options: LongRunningOptions = {}): Promise<Neighbours[]> {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`k is ${k}; expected a positive integer (e.g. 5).`);
    return index.searchBatch(await this.hashImages(queries, options), k);
  }

  /** Releases the compiled graphs. */
  async dispose(): Promise<void> {
    await this.tokenizer.dispose();
  }
}

/** The tokenizer directory of a BiGR model directory (its `tokenizer/`), or `dir` itself for a tokenizer directory. */
export async function tokenizerDirectoryOf(dir: string): Promise<string> {
  let config: { format?: unknown; tokenizer?: unknown };
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`Model directory ${dir} has no config.json. Pass a BiGR model directory or a tokenizer directory.`);
    throw err;
  }
  if (text.length > 16 * 1024 * 1024) throw new FormatError(`${path} is larger than 16 MB; it is not a model config.`);
  try {
    config = parseJsonBounded(text, { source: path }) as typeof config;
  } catch (err) {
    throw new FormatError(`${path} is not valid JSON (${(err as Error).message}). Fix or re-create the model's config.json.`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new FormatError(`${path} holds ${JSON.stringify(config)}, not a model config object.`);
  return config.format === BIGR_FORMAT ? join(dir, confinedSubdirectory(dir, config.tokenizer, 'tokenizer')) : dir;
}
