/**
 * The tokenizer on every core: a worker pool ({@link SamplerPool} serving methods only) whose workers each load the
 * tokenizer of a BiGR or tokenizer model directory (one intra-op thread) and encode image files (reading and decoding
 * them in the worker too) or decode codes. A chunk's codes do not depend on the worker that made it; Bernoulli
 * codes use the chunk's own seed, as {@link TokenizerPipeline.encode} does.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, CpuTensor, packBits, type PackedCodes } from '@bigr/core';
import { SamplerPool } from '@bigr/sampler';
import type { SamplerWorkerModel, SamplerWorkerScript } from '@bigr/sampler';
import { chooseEngine } from './engineChoice.js';
import type { CodeMode, DecodeOptions } from './tokenizerCodec.js';
import { TokenizerPipeline } from './tokenizerPipeline.js';

/** Arguments of {@link tokenizerWorkerFactory}. */
export interface TokenizerWorkerArgs {
  /** A BiGR or tokenizer model directory. */
  readonly dir: string;
  /** Device word or engine name (default: `BIGR_DEVICE`, then 'auto'). */
  readonly device?: string;
}

/** Arguments of the workers' 'encode' method. */
export interface EncodeFilesArgs {
  /** Image files, in order. */
  readonly paths: readonly string[];
  /** Default 'threshold'. */
  readonly mode?: CodeMode;
  /** Seed of the Bernoulli draws of this chunk. */
  readonly seed?: number;
}

/** Arguments of the workers' 'decode' method. */
export interface DecodeCodesArgs extends DecodeOptions {
  /** Bits [B, N, K] (0/1), row-major. */
  readonly bits: Uint8Array;
  /** Shape of `bits`. */
  readonly shape: readonly number[];
}

/** The pool factory: loads the tokenizer and offers 'encode' (files → bits) and 'decode' (bits → images). */
export async function tokenizerWorkerFactory(args: unknown): Promise<SamplerWorkerModel> {
  const a = args as Partial<TokenizerWorkerArgs> | null;
  if (!a || typeof a.dir !== 'string') throw new ConfigError('tokenizerWorkerFactory needs { dir } (a BiGR or tokenizer model directory).');
  const tok = await TokenizerPipeline.fromDirectory(a.dir, await chooseEngine(a.device !== undefined ? { device: a.device } : {}));
  return {
    methods: {
      async encode(raw, signal) {
        const e = raw as EncodeFilesArgs;
        const { bits } = await tok.encode([...e.paths], { mode: e.mode ?? 'threshold', seed: e.seed ?? 0, signal });
        const data = bits.data.byteOffset === 0 && bits.data.byteLength === bits.data.buffer.byteLength ? bits.data : bits.data.slice();
        return { value: { bits: data, shape: bits.shape }, transfer: [data.buffer as ArrayBuffer] };
      },
      async decode(raw) {
        const d = raw as DecodeCodesArgs;
        const images = await tok.decode(new CpuTensor(d.bits, d.shape), d);
        const data = images.data.byteOffset === 0 && images.data.byteLength === images.data.buffer.byteLength ? images.data : images.data.slice();
        return { value: { data, shape: images.shape }, transfer: [data.buffer as ArrayBuffer] };
      },
    },
    dispose: () => tok.dispose(),
  };
}

function sibling(name: string): string {
  const js = new URL(`./${name}.js`, import.meta.url);
  return existsSync(fileURLToPath(js)) ? js.href : new URL(`./${name}.ts`, import.meta.url).href;
}

/** Options of {@link createTokenizerPool}. */
export interface TokenizerPoolOptions extends Omit<TokenizerWorkerArgs, 'dir'> {
  /** Worker threads (default every core). */
  readonly workers?: number;
  /** Worker entry override (running from TypeScript sources). */
  readonly workerScript?: SamplerWorkerScript;
}

/** A pool of tokenizer workers over `dir` (see the module comment). */
export function createTokenizerPool(dir: string, options: TokenizerPoolOptions = {}): Promise<SamplerPool> {
  const { workers, workerScript, ...rest } = options;
  return SamplerPool.create({
    factory: { module: sibling('parallelTokenizer'), exportName: 'tokenizerWorkerFactory', args: { dir, ...rest } },
    ...(workers !== undefined ? { workers } : {}),
    ...(workerScript ? { workerScript } : {}),
  });
}

/** Encodes the image files `paths` in one worker call; bits and packed codes as {@link TokenizerPipeline.encode} gives them. */
export async function encodeFilesOnPool(
  pool: SamplerPool,
  args: EncodeFilesArgs,
  signal?: AbortSignal,
): Promise<{ bits: CpuTensor<'uint8'>; packed: PackedCodes }> {
  const r = await pool.call<{ bits: Uint8Array; shape: number[] }>('encode', args, signal ? { signal } : {});
  const bits = new CpuTensor<'uint8'>(r.bits, r.shape);
  return { bits, packed: packBits(bits) };
}

/** Decodes bits on one worker (unpadded and clamped by default, as {@link TokenizerPipeline.decode}). */
export async function decodeOnPool(
  pool: SamplerPool,
  bits: CpuTensor<'uint8'>,
  options: DecodeOptions = {},
  signal?: AbortSignal,
): Promise<CpuTensor<'float32'>> {
  const r = await pool.call<{ data: Float32Array; shape: number[] }>('decode', { bits: bits.data, shape: bits.shape, ...options }, signal ? { signal } : {});
  return new CpuTensor<'float32'>(r.data, r.shape);
}
