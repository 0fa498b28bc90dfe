/**
 * A tokenizer's images ↔ codes, shared by {@link TokenizerPipeline} (Node: model directories, image files, index
 * files) and the browser's `WebBigrPipeline`: chunked encoding of tokenizer-input images, decoding with the
 * post-processing of {@link DecodeOptions}, and Hamming search of a {@link HashIndex}. Browser-safe.
 */
import { ConfigError, CpuTensor, createRng, packBits, throwIfAborted, unpackBits, type LongRunningOptions, type PackedCodes, type Tensor } from '@bigr/core';
import type { BaeTokenizer, CodeMode, HashIndex, Neighbours } from '@bigr/tokenizer';
import { clampImages, concatBatches, imageGeometry, unpadImages, type ImageGeometry } from './imageLayout.js';

export type { CodeMode } from '@bigr/tokenizer';

/** Options of {@link TokenizerCodec.encodeImages} (and the pipelines' `encode`). */
export interface TokenizerEncodeOptions extends LongRunningOptions {
  /** 'threshold' (deterministic, the default for hashing) or 'bernoulli' (seeded draws, as in training). */
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

/** Post-processing of decoded images. */
export interface DecodeOptions {
  /** Remove the tokenizer's padding (e.g. 32 → 28 px for Fashion-MNIST). Default true. */
  readonly unpad?: boolean;
  /** Clamp to [0, 1] as the official save path does. Default true. */
  readonly clamp?: boolean;
}

/** Images per tokenizer call (bounds memory). */
const CHUNK = 64;

/** A binary tokenizer with the geometry of its inputs: images ↔ codes. */
export class TokenizerCodec {
  /** The tokenizer on its engine. */
  readonly tokenizer: BaeTokenizer;
  /** How images are brought to the tokenizer's input. */
  readonly geometry: ImageGeometry;

  /** Wraps a loaded tokenizer whose model directory (or config) records `pad` (0 when absent). */
  constructor(tokenizer: BaeTokenizer, config: { readonly pad?: number }) {
    this.tokenizer = tokenizer;
    this.geometry = imageGeometry(tokenizer, config);
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

  /** Encodes tokenizer-input images [B, C, H, W] to binary codes (threshold codes by default), 64 images per call. */
  async encodeImages(images: CpuTensor<'float32'>, options: TokenizerEncodeOptions = {}): Promise<EncodedImages> {
    const mode = options.mode ?? 'threshold';
    if (mode !== 'threshold' && mode !== 'bernoulli')
      throw new ConfigError(`mode is "${String(mode)}"; expected 'threshold' (deterministic) or 'bernoulli' (seeded).`);
    const [B = 0, ...rest] = images.shape;
    const per = images.size / Math.max(1, B);
    const rng = createRng(options.seed ?? 0);
    const parts: CpuTensor<'uint8'>[] = [];
    for (let s = 0; s < B; s += CHUNK) {
      throwIfAborted(options.signal, 'encoding');
      const b = Math.min(CHUNK, B - s);
      const chunk = new CpuTensor<'float32'>(images.data.subarray(s * per, (s + b) * per), [b, ...rest]);
      const { bits } = await this.tokenizer.encode(chunk, mode === 'bernoulli' ? { mode, rng } : { mode });
      parts.push(bits);
      options.onProgress?.({ task: 'encode', current: s + b, total: B });
    }
    const [only] = parts;
    const bits = parts.length === 1 && only ? only : concatBatches(parts);
    return { bits, packed: packBits(bits) };
  }

  /** Decodes codes (bits [B, N, K] or packed) to images [B, C, H, W], by default unpadded and clamped to [0, 1]. */
  async decode(codes: Tensor<'uint8'> | PackedCodes, options: DecodeOptions = {}): Promise<CpuTensor<'float32'>> {
    const bits = 'bytes' in codes ? unpackBits(codes) : codes;
    if (bits.shape.length !== 3 || bits.shape[1] !== this.tokens || bits.shape[2] !== this.bitsPerToken) {
      throw new ConfigError(
        `Codes have shape [${bits.shape.join(', ')}]; this tokenizer decodes [B, ${this.tokens}, ${this.bitsPerToken}] (grid ${this.grid.join('×')}). ` +
          'Decode with the tokenizer the codes were encoded with.',
      );
    }
    return this.finish(await this.tokenizer.decode(bits), options);
  }

  /** Post-processes decoder output as {@link DecodeOptions} says. */
  finish(images: Tensor<'float32'>, options: DecodeOptions = {}): CpuTensor<'float32'> {
    let out = options.unpad === false ? new CpuTensor<'float32'>(images.data, images.shape) : unpadImages(images, this.geometry.pad);
    if (options.clamp !== false) out = clampImages(out);
    return out;
  }

  /** Throws unless `index` holds codes of this tokenizer's size. */
  checkIndex(index: HashIndex): void {
    if (index.tokens !== this.tokens || index.bitsPerToken !== this.bitsPerToken) {
      throw new ConfigError(
        `The index holds codes of ${index.tokens} tokens × ${index.bitsPerToken} bits; this tokenizer makes ${this.tokens} × ${this.bitsPerToken}. ` +
          'Use a new index or the one built with this tokenizer.',
      );
    }
  }

  /** The k nearest neighbours by Hamming distance in `index` of each of the packed `queries`. */
  searchCodes(index: HashIndex, queries: PackedCodes, k: number): Neighbours[] {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`k is ${k}; expected a positive integer (e.g. 5).`);
    this.checkIndex(index);
    return index.searchBatch(queries, k);
  }

  /** Releases the compiled graphs. */
  async dispose(): Promise<void> {
    await this.tokenizer.dispose();
  }
}
