import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, NotFoundError, parseJsonBounded, sha256OfFile, type CpuTensor, type Engine, type LongRunningOptions, type PackedCodes } from '@bigr/core';
import { HashIndex, type BaeTokenizer, type Neighbours } from '@bigr/tokenizer';
import { BIGR_FORMAT, confinedSubdirectory } from './bigrModelDir.js';
import { loadTokenizer, type TokenizerModelConfig } from './tokenizerModelDir.js';
import { chooseEngine, type EngineChoice } from './engineChoice.js';
import { toModelImages, type ImageSource } from './images.js';
import { resolveModelSource, type LoadSourceOptions, type ModelSource } from './sources.js';
import type { CodesFile } from './codesFile.js';
import { TokenizerCodec, type EncodedImages, type TokenizerEncodeOptions } from './tokenizerCodec.js';

/** Options of {@link TokenizerPipeline.load}. */
export interface TokenizerPipelineLoadOptions extends EngineChoice, LoadSourceOptions {}

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
export class TokenizerPipeline extends TokenizerCodec {
  /** The tokenizer directory's config. */
  readonly config: TokenizerModelConfig;
  /** The tokenizer model directory. */
  readonly dir: string;
  /** SHA-256 of the tokenizer weights (identifies which codes belong together). */
  readonly hash: string;
  /** Name of the engine the graphs run on. */
  readonly engineName: string;

  /** Wraps an already loaded tokenizer (see {@link TokenizerPipeline.load}). */
  constructor(parts: { tokenizer: BaeTokenizer; config: TokenizerModelConfig; dir: string; hash: string; engineName: string }) {
    super(parts.tokenizer, parts.config);
    this.config = parts.config;
    this.dir = parts.dir;
    this.hash = parts.hash;
    this.engineName = parts.engineName;
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

  /** Brings images (paths, rasters or tensors) to the tokenizer's input [B, C, H, W]. */
  images(source: ImageSource): Promise<CpuTensor<'float32'>> {
    return toModelImages(source, this.geometry);
  }

  /** Encodes images to binary codes (threshold codes by default). */
  async encode(source: ImageSource, options: TokenizerEncodeOptions = {}): Promise<EncodedImages> {
    return this.encodeImages(await this.images(source), options);
  }

  /** Threshold hash codes of images, packed (equal images always get equal codes). */
  async hashImages(source: ImageSource, options: LongRunningOptions = {}): Promise<PackedCodes> {
    return (await this.encode(source, options)).packed;
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
    this.checkIndex(target);
    const first = target.size;
    target.add(
      packed,
      Array.from({ length: packed.batch }, (_, i) => first + i),
    );
    return target;
  }

  /** The k nearest indexed images of each query image by Hamming distance of their threshold codes. */
  async search(index: HashIndex, queries: ImageSource, k: number, options: LongRunningOptions = {}): Promise<Neighbours[]> {
    this.checkIndex(index);
    return this.searchCodes(index, await this.hashImages(queries, options), k);
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
