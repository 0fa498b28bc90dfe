import {
  ConfigError,
  CpuTensor,
  createRng,
  FormatError,
  NotFoundError,
  packBits,
  parseSafetensors,
  throwIfAborted,
  unpackBits,
  type Engine,
  type LongRunningOptions,
  type NamedTensors,
  type PackedCodes,
  type ProgressCallback,
  type Tensor,
} from '@bigr/core';
import { BackboneFeatureModel } from '@bigr/backbone';
import { TranscoderSampler } from '@bigr/transcoder';
import {
  createBigrPredictor,
  generate as sampleGenerate,
  inpaint as sampleInpaint,
  SETTING_KEYS,
  type ImageEditResult,
  type RegionMask,
  type SamplingSettings,
} from '@bigr/sampler';
import { BaeTokenizer, type HashIndex, padImages, stackImages, type Neighbours, type RasterImage } from '@bigr/tokenizer';
import type { MaskedBitPredictor } from '@bigr/core';
import type { BigrModelConfig } from './bigrModelDir.js';
import type { GenerateOutput, GenerateRequest, SamplingOptions } from './bigrPipeline.js';
import type { DecodeOptions, EncodedImages } from './tokenizerPipeline.js';
import type { TokenizerModelConfig } from './tokenizerModelDir.js';
import { clampImages, concatBatches, imageGeometry, rasterToModel, unpadImages, type ImageGeometry } from './imageLayout.js';
import { validateBigrModel, validateTokenizerModel } from './modelConfigs.js';
import { imageSeeds } from './seeds.js';
import { classIndex as classIndexOf } from './classIndex.js';

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

/** Images the web pipeline accepts: rasters (any size; center-cropped and resized) or a float tensor [B, C, H, W] in [0, 1]. */
export type WebImageSource = RasterImage | readonly RasterImage[] | Tensor<'float32'>;

/** Options of {@link WebBigrPipeline.inpaint}. */
export interface WebRegionEditRequest extends SamplingOptions, DecodeOptions {
  /** The image to edit (one image is repeated to `samples` rows). */
  readonly image?: WebImageSource;
  /** Codes [B, N, K] to edit instead of an image. */
  readonly bits?: Tensor<'uint8'>;
  /** The region to regenerate, in pixels of the tokenizer's (padded) input or in tokens. */
  readonly region: RegionMask;
  /** Samples when one image is given. Default 8. */
  readonly samples?: number;
  /** Seed of the sampling stream. Default 0. */
  readonly seed?: number;
}

function isTensorLike(x: unknown): x is Tensor<'float32'> {
  return typeof x === 'object' && x !== null && 'shape' in x && 'data' in x && 'dtype' in x;
}

function webModelImages(source: WebImageSource, geom: ImageGeometry): CpuTensor<'float32'> {
  if (isTensorLike(source)) {
    const [b, c, h, w] = source.shape as [number, number, number, number];
    if (source.shape.length !== 4 || c !== geom.channels || h !== w || (h !== geom.size && h !== geom.inner) || source.dtype !== 'float32') {
      throw new ConfigError(
        `Images have shape [${source.shape.join(', ')}] (${source.dtype}); expected float32 [B, ${geom.channels}, ${geom.size}, ${geom.size}] ` +
          `(or [B, ${geom.channels}, ${geom.inner}, ${geom.inner}] before padding) in [0, 1].`,
      );
    }
    const t = new CpuTensor<'float32'>(source.data as Float32Array, [b, c, h, w]);
    return h === geom.inner && geom.pad > 0 ? padImages(t, geom.pad) : t;
  }
  const list = Array.isArray(source) ? (source as readonly RasterImage[]) : [source as RasterImage];
  if (list.length === 0) throw new ConfigError('No images given; pass at least one raster or a tensor.');
  return stackImages(
    list.map((r) => {
      const t = rasterToModel(r, geom);
      return new CpuTensor<'float32'>(t.data, t.shape.slice(1));
    }),
  );
}

function samplingSettingsOf(request: Partial<SamplingSettings>): Partial<SamplingSettings> {
  const out: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) if (request[k] !== undefined) out[k] = request[k];
  return out as Partial<SamplingSettings>;
}

function progressOf(onProgress: ProgressCallback | undefined, index: number, count: number, task: string): ProgressCallback | undefined {
  if (!onProgress) return undefined;
  return (e) => onProgress({ ...e, task, current: index * e.total + e.current, total: count * e.total, message: `image ${index + 1} of ${count}` });
}

/** Images per tokenizer call (bounds memory). */
const CHUNK = 64;

/**
 * A BiGR model (backbone + binary transcoder + tokenizer) built from in-memory files — the browser counterpart of
 * `BigrPipeline` (which reads model directories in Node). Generation follows `BigrPipeline.generate` exactly (image k
 * sampled alone from `createRng(seeds[k])`), so on engines that compute the same probabilities the codes are
 * bit-identical to the Node pipeline's for the same class and seed.
 *
 * ```ts
 * const bigr = await WebBigrPipeline.fromBytes(await fetchBigrModel('models/fashion-mnist'), new OnnxWebEngine());
 * const { images, codes } = await bigr.generate({ classes: 'sneaker', n: 4, seed: 7 });
 * ```
 */
export class WebBigrPipeline {
  /** The model's config (architecture, class names). */
  readonly config: BigrModelConfig;
  /** The tokenizer's config. */
  readonly tokenizerConfig: TokenizerModelConfig;
  /** The tokenizer on its engine. */
  readonly tokenizer: BaeTokenizer;
  /** The backbone as a token feature model. */
  readonly featureModel: BackboneFeatureModel;
  /** The transcoder as a bit-head sampler. */
  readonly head: TranscoderSampler;
  /** The engine everything runs on. */
  readonly engine: Engine;
  /** How images are brought to the tokenizer's input. */
  readonly geometry: ImageGeometry;

  private constructor(parts: {
    config: BigrModelConfig;
    tokenizerConfig: TokenizerModelConfig;
    tokenizer: BaeTokenizer;
    features: BackboneFeatureModel;
    head: TranscoderSampler;
    engine: Engine;
  }) {
    this.config = parts.config;
    this.tokenizerConfig = parts.tokenizerConfig;
    this.tokenizer = parts.tokenizer;
    this.featureModel = parts.features;
    this.head = parts.head;
    this.engine = parts.engine;
    this.geometry = imageGeometry(parts.tokenizer, parts.tokenizerConfig);
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
    const head = await TranscoderSampler.create(engine, weights, config.transcoder);
    const tokenizer = await BaeTokenizer.create(engine, tokenizerConfig.bae, tokWeights);
    return new WebBigrPipeline({ config, tokenizerConfig, tokenizer, features, head, engine });
  }

  /** Class names (index = label). */
  get classNames(): readonly string[] {
    return this.config.classNames;
  }

  /** Number of classes (the null class is this number). */
  get numClasses(): number {
    return this.config.backbone.numClasses;
  }

  /** The label of a class given by index or name ('none' / 'null' → the null class). */
  classIndex(spec: number | string): number {
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < 0 || spec > this.numClasses)
        throw new ConfigError(`Class ${spec} is out of range; this model has classes 0..${this.numClasses - 1} (${this.numClasses} is the null class).`);
      return spec;
    }
    if (spec === 'none' || spec === 'null') return this.numClasses;
    return classIndexOf(spec, this.classNames, this.numClasses);
  }

  /** The predictor (backbone + transcoder) with `diffusionSteps`. */
  predictor(diffusionSteps?: number): MaskedBitPredictor {
    return createBigrPredictor(this.featureModel, this.head, diffusionSteps !== undefined ? { steps: diffusionSteps } : {});
  }

  /** The labels of a generate request (as `BigrPipeline.labels`). */
  labels(classes: GenerateRequest['classes'], n: number | undefined): Int32Array {
    if (Array.isArray(classes)) {
      const list = (classes as readonly (number | string)[]).map((c) => this.classIndex(c));
      const count = n ?? list.length;
      if (list.length !== count) throw new ConfigError(`classes has ${list.length} entries but n is ${count}; pass one class per image or a single class.`);
      return Int32Array.from(list);
    }
    const count = n ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`n is ${count}; expected a positive integer (e.g. 4).`);
    const spec = (classes as number | string | undefined) ?? 'all';
    const out = new Int32Array(count);
    if (spec === 'all') for (let i = 0; i < count; i++) out[i] = i % this.numClasses;
    else out.fill(this.classIndex(spec));
    return out;
  }

  /** Class-conditional generation, one seed per image (image k from `createRng(seeds[k])`, as `BigrPipeline.generate`). */
  async generate(request: GenerateRequest = {}): Promise<GenerateOutput> {
    const labels = this.labels(request.classes, request.n);
    const seeds = imageSeeds(labels.length, request);
    const predictor = this.predictor(request.diffusionSteps);
    const settings = samplingSettingsOf(request);
    const codes: CpuTensor<'uint8'>[] = [];
    const images: CpuTensor<'float32'>[] = [];
    for (let k = 0; k < labels.length; k++) {
      throwIfAborted(request.signal, 'generation');
      const onProgress = progressOf(request.onProgress, k, labels.length, 'generate');
      const r = await sampleGenerate({
        ...settings,
        predictor,
        condition: { kind: 'class', labels: labels.slice(k, k + 1) },
        rng: createRng(seeds[k]!),
        tokenizer: this.tokenizer,
        ...(request.signal ? { signal: request.signal } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      codes.push(r.codes);
      images.push(r.images!);
    }
    return { images: this.finish(concatBatches(images), request), codes: concatBatches(codes), labels, seeds };
  }

  /** Regenerates the tokens inside `region` unconditionally, keeping the rest (docs/algorithm.md §8.1). */
  async inpaint(request: WebRegionEditRequest): Promise<ImageEditResult> {
    if ((request.image === undefined) === (request.bits === undefined))
      throw new ConfigError('Pass exactly one of `image` (rasters or a tensor) or `bits` (codes [B, N, K]) as the source to edit.');
    const src = request.image !== undefined ? { image: webModelImages(request.image, this.geometry) } : { bits: request.bits! };
    const r = await sampleInpaint({
      ...samplingSettingsOf(request),
      predictor: this.predictor(request.diffusionSteps),
      tokenizer: this.tokenizer,
      rng: createRng(request.seed ?? 0),
      ...(request.samples !== undefined ? { samples: request.samples } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      ...src,
      region: request.region,
    });
    return r.images ? { ...r, images: this.finish(r.images, request) } : r;
  }

  /** Threshold codes of images (deterministic: equal images always get equal codes), as bits and packed. */
  async encode(source: WebImageSource, options: LongRunningOptions = {}): Promise<EncodedImages> {
    const images = webModelImages(source, this.geometry);
    const B = images.shape[0]!;
    const per = images.size / B;
    const parts: CpuTensor<'uint8'>[] = [];
    for (let s = 0; s < B; s += CHUNK) {
      throwIfAborted(options.signal, 'encoding');
      const b = Math.min(CHUNK, B - s);
      const chunk = new CpuTensor<'float32'>(images.data.subarray(s * per, (s + b) * per), [b, ...images.shape.slice(1)]);
      parts.push((await this.tokenizer.encode(chunk, { mode: 'threshold' })).bits);
      options.onProgress?.({ task: 'encode', current: s + b, total: B });
    }
    const bits = parts.length === 1 ? parts[0]! : concatBatches(parts);
    return { bits, packed: packBits(bits) };
  }

  /** Decodes codes (bits [B, N, K] or packed) to images, by default unpadded and clamped to [0, 1]. */
  async decode(codes: Tensor<'uint8'> | PackedCodes, options: DecodeOptions = {}): Promise<CpuTensor<'float32'>> {
    const bits = 'bytes' in codes ? unpackBits(codes) : codes;
    if (bits.shape.length !== 3 || bits.shape[1] !== this.tokenizer.tokens || bits.shape[2] !== this.tokenizer.bitsPerToken) {
      throw new ConfigError(
        `Codes have shape [${bits.shape.join(', ')}]; this tokenizer decodes [B, ${this.tokenizer.tokens}, ${this.tokenizer.bitsPerToken}]. ` +
          `Decode with the tokenizer the codes were encoded with.`,
      );
    }
    return this.finish(await this.tokenizer.decode(bits), options);
  }

  /** The k nearest neighbours by Hamming distance of each image's threshold code in `index`. */
  async search(index: HashIndex, images: WebImageSource, k: number, options: LongRunningOptions = {}): Promise<Neighbours[]> {
    if (index.tokens !== this.tokenizer.tokens || index.bitsPerToken !== this.tokenizer.bitsPerToken) {
      throw new ConfigError(
        `The index holds codes of ${index.tokens} tokens × ${index.bitsPerToken} bits; ` +
          `this tokenizer makes ${this.tokenizer.tokens} × ${this.tokenizer.bitsPerToken}. Use the index built with this model's tokenizer.`,
      );
    }
    return index.searchBatch((await this.encode(images, options)).packed, k);
  }

  /** Post-processes decoder output: unpadded and clamped unless `options` says otherwise. */
  finish(images: Tensor<'float32'>, options: DecodeOptions = {}): CpuTensor<'float32'> {
    let out = options.unpad === false ? new CpuTensor<'float32'>(images.data, images.shape) : unpadImages(images, this.geometry.pad);
    if (options.clamp !== false) out = clampImages(out);
    return out;
  }

  /** Releases every compiled graph. */
  async dispose(): Promise<void> {
    await this.featureModel.dispose();
    await this.tokenizer.dispose();
    const head = this.head as { dispose?: () => Promise<void> };
    if (head.dispose) await head.dispose();
  }
}
