import {
  ConfigError,
  FormatError,
  NotFoundError,
  parseSafetensors,
  throwIfAborted,
  type CpuTensor,
  type Engine,
  type LongRunningOptions,
  type NamedTensors,
} from '@bigr/core';
import { BackboneFeatureModel, type KvCacheFeatureModel } from '@bigr/backbone';
import { BaeTokenizer } from '@bigr/tokenizer';
import { createBigrHead, createKvFeatureModel, type BigrHead } from './bigrHead.js';
import type { BigrModelConfig } from './bigrModelDir.js';
import { BigrPipelineBase, type RegionEditRequest } from './bigrSampling.js';
import type { TokenizerModelConfig } from './tokenizerModelDir.js';
import { webModelImages, type WebImageSource } from './imageLayout.js';
import { validateBigrModel, validateTokenizerModel } from './modelConfigs.js';
import { TokenizerCodec } from './tokenizerCodec.js';

/** The four files of a BiGR model directory, in memory (e.g. fetched by {@link fetchBigrModel}). */
export interface BigrModelBytes {
  /** Parsed config.json of the model. */
  readonly config: unknown;
  /** model.safetensors (backbone + transcoder). */
  readonly weights: Uint8Array;
  /** Parsed config.json of the tokenizer sub-directory. */
  readonly tokenizerConfig: unknown;
  /** The tokenizer's model.safetensors. */
  readonly tokenizerWeights: Uint8Array;
  /** Where the files came from (for messages). Default 'model'. */
  readonly source?: string;
}

/** Options of {@link fetchBigrModel}. */
export interface FetchModelOptions extends LongRunningOptions {
  /** The fetch function (default `globalThis.fetch`). */
  readonly fetch?: (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;
  /** Largest accepted file, in bytes (default 512 MiB). */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_FETCH = 512 * 1024 * 1024;

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

function checkSubdirectory(value: unknown, where: string): string {
  if (
    typeof value !== 'string' ||
    value === '' ||
    value.startsWith('/') ||
    value.includes('\\') ||
    value.includes('://') ||
    value.split('/').some((p) => p === '..' || p === '.')
  ) {
    throw new ConfigError(`${where}: "tokenizer" is ${JSON.stringify(value)}; it must be a relative path inside the model (e.g. "tokenizer"). Fix the config.`);
  }
  return value.replace(/\/+$/, '');
}

async function fetchBytes(url: string, options: FetchModelOptions, done: number, onBytes: (n: number) => void): Promise<Uint8Array> {
  const doFetch = options.fetch ?? ((u: string, init?: { signal?: AbortSignal }) => globalThis.fetch(u, init));
  throwIfAborted(options.signal, 'model download');
  const res = await doFetch(url, options.signal ? { signal: options.signal } : {});
  if (!res.ok) {
    if (res.status === 404)
      throw new NotFoundError(`${url} was not found (HTTP 404). Serve the model directory's files (config.json, model.safetensors, tokenizer/) at that URL.`);
    throw new FormatError(`${url}: HTTP ${res.status} ${res.statusText}. Check that the model files are served.`);
  }
  const max = options.maxBytes ?? DEFAULT_MAX_FETCH;
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) throw new FormatError(`${url} is ${declared} bytes, above the limit of ${max}; raise maxBytes if the model is genuine.`);
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    if (buf.length > max) throw new FormatError(`${url} is ${buf.length} bytes, above the limit of ${max}; raise maxBytes if the model is genuine.`);
    onBytes(done + buf.length);
    return buf;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw new FormatError(`${url} is larger than the limit of ${max} bytes; raise maxBytes if the model is genuine.`);
    }
    chunks.push(value);
    onBytes(done + total);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function fetchJson(url: string, options: FetchModelOptions): Promise<unknown> {
  const bytes = await fetchBytes(url, { ...options, maxBytes: Math.min(options.maxBytes ?? DEFAULT_MAX_FETCH, 16 * 1024 * 1024) }, 0, () => undefined);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new FormatError(`${url} is not valid JSON (${(err as Error).message}). Serve the model's config.json unchanged.`, { cause: err });
  }
}

/**
 * Fetches a BiGR model directory served over HTTP (`<baseUrl>/config.json`, `model.safetensors` and the tokenizer
 * sub-directory named by the config). Progress events count downloaded bytes (`task: 'download'`).
 */
export async function fetchBigrModel(baseUrl: string, options: FetchModelOptions = {}): Promise<BigrModelBytes> {
  const config = await fetchJson(joinUrl(baseUrl, 'config.json'), options);
  const sub = checkSubdirectory((config as { tokenizer?: unknown } | null)?.tokenizer, joinUrl(baseUrl, 'config.json'));
  const tokenizerConfig = await fetchJson(joinUrl(baseUrl, `${sub}/config.json`), options);
  const report = (n: number): void => options.onProgress?.({ task: 'download', current: n, total: 0, message: `${(n / 1e6).toFixed(1)} MB` });
  const weights = await fetchBytes(joinUrl(baseUrl, 'model.safetensors'), options, 0, report);
  const tokenizerWeights = await fetchBytes(joinUrl(baseUrl, `${sub}/model.safetensors`), options, weights.length, report);
  return { config, weights, tokenizerConfig, tokenizerWeights, source: baseUrl };
}

/** Options of {@link WebBigrPipeline.inpaint} (and `outpaint`): the region edit of `BigrPipeline` on in-memory images. */
export type WebRegionEditRequest = RegionEditRequest<WebImageSource>;

/**
 * A BiGR model (backbone + per-token head + tokenizer; every variant of docs/algorithm.md §13) built from in-memory files — the browser counterpart of
 * `BigrPipeline` (which reads model directories in Node). Generation follows `BigrPipeline.generate` exactly (image k
 * sampled alone from `createRng(seeds[k])`), so on engines that compute the same probabilities the codes are
 * bit-identical to the Node pipeline's for the same class and seed.
 *
 * ```ts
 * const bigr = await WebBigrPipeline.fromBytes(await fetchBigrModel('models/fashion-mnist'), new OnnxWebEngine());
 * const { images, codes } = await bigr.generate({ classes: 'sneaker', n: 4, seed: 7 });
 * ```
 */
export class WebBigrPipeline extends BigrPipelineBase<WebImageSource> {
  /** The tokenizer's config. */
  readonly tokenizerConfig: TokenizerModelConfig;
  /** The tokenizer on its engine. */
  readonly tokenizer: BaeTokenizer;
  readonly #codec: TokenizerCodec;

  private constructor(parts: {
    config: BigrModelConfig;
    tokenizerConfig: TokenizerModelConfig;
    tokenizer: BaeTokenizer;
    features: BackboneFeatureModel;
    kv: KvCacheFeatureModel | null;
    head: BigrHead;
    engine: Engine;
  }) {
    super(parts);
    this.tokenizerConfig = parts.tokenizerConfig;
    this.tokenizer = parts.tokenizer;
    this.#codec = new TokenizerCodec(parts.tokenizer, parts.tokenizerConfig);
  }

  protected get codec(): TokenizerCodec {
    return this.#codec;
  }

  protected async modelImages(source: WebImageSource): Promise<CpuTensor<'float32'>> {
    return webModelImages(source, this.geometry);
  }

  /** Validates the files (as model directories are validated) and compiles the model on `engine`. */
  static async fromBytes(files: BigrModelBytes, engine: Engine): Promise<WebBigrPipeline> {
    const source = files.source ?? 'model';
    const weights: NamedTensors = parseSafetensors(files.weights, { source: `${source}/model.safetensors` }).tensors;
    const config = validateBigrModel(files.config, weights, { model: source, configPath: `${source}/config.json`, weightsPath: `${source}/model.safetensors` });
    const sub = checkSubdirectory(config.tokenizer, `${source}/config.json`);
    const tokWeights = parseSafetensors(files.tokenizerWeights, { source: `${source}/${sub}/model.safetensors` }).tensors;
    const tokenizerConfig = validateTokenizerModel(files.tokenizerConfig, tokWeights, {
      model: `${source}/${sub}`,
      configPath: `${source}/${sub}/config.json`,
      weightsPath: `${source}/${sub}/model.safetensors`,
    });
    const features = new BackboneFeatureModel(engine, config.backbone, weights);
    const kv = createKvFeatureModel(engine, config, weights);
    const head = await createBigrHead(engine, weights, config);
    const tokenizer = await BaeTokenizer.create(engine, tokenizerConfig.bae, tokWeights);
    return new WebBigrPipeline({ config, tokenizerConfig, tokenizer, features, kv, head, engine });
  }
}
