/**
 * Sampling on every core: a pool of worker threads, each with its own model (its own engine sessions, one intra-op
 * thread by default), that samples jobs of (labels, per-image seeds). onnxruntime-node runs a session synchronously
 * on the calling thread, so concurrency inside one thread gains nothing; separate threads do. Every image is drawn
 * from its own stream (`createRng(seed)`, see {@link ImageRngs}), so the bits of an image do not depend on the
 * worker that ran it or on the number of workers.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortError, BigrError, getOrThrow, ConfigError, CpuTensor, EngineUnavailableError, FormatError, NotFoundError, ShapeError } from '@bigr/core';
import type { LongRunningOptions } from '@bigr/core';
import type { SamplingSettings } from './settings.js';
import type { FromWorker, SamplerFactorySpec, SamplerWorkerModel, ToWorker, WorkerErrorInfo } from './samplerWorkerProtocol.js';

/** Where the worker script is (only needed when running from TypeScript sources, e.g. in tests). */
export interface SamplerWorkerScript {
  /** The worker entry module. */
  readonly url: URL;
  /** Node flags of the worker (e.g. a TypeScript loader). */
  readonly execArgv?: readonly string[];
}

/** Options of {@link SamplerPool.create}. */
export interface SamplerPoolOptions {
  /** The model factory every worker calls once. */
  readonly factory: SamplerFactorySpec;
  /** Worker threads; default every core (`os.availableParallelism()`). */
  readonly workers?: number;
  /** Intra-op threads of each worker's sessions (`BIGR_THREADS` inside the worker); default 1. */
  readonly threadsPerWorker?: number;
  /** Worker entry override; default `samplerWorker.js` next to this module. */
  readonly workerScript?: SamplerWorkerScript;
}

/** One job: images with their labels and seeds, sampled as one batch by one worker. */
export interface SampleJob extends LongRunningOptions {
  /** Class label per image (the null class for unconditional images). */
  readonly labels: ArrayLike<number>;
  /** Seed per image; image k draws from `createRng(seeds[k])`. */
  readonly seeds: readonly (number | string)[];
  /** Sampler settings (defaults: {@link DEFAULT_SAMPLING}). */
  readonly settings?: Partial<SamplingSettings>;
  /** Decode the codes to images with the worker's tokenizer. Default true. */
  readonly decode?: boolean;
}

/** Result of a {@link SampleJob}. */
export interface SampleJobResult {
  /** Codes [B, N, K] (0/1). */
  readonly codes: CpuTensor<'uint8'>;
  /** Images [B, C, H, W] (not clamped) when decoded. */
  readonly images?: CpuTensor<'float32'>;
  /** What the worker's model reported about the job ({@link SamplerWorkerModel.jobStats}), if anything. */
  readonly stats?: Readonly<Record<string, number>>;
}

const ERRORS: Record<string, new (message: string) => BigrError> = { ConfigError, ShapeError, FormatError, NotFoundError, EngineUnavailableError };

function toError(info: WorkerErrorInfo, where: string): Error {
  if (info.name === 'AbortError') return new AbortError(info.message);
  const Cls = ERRORS[info.name] ?? BigrError;
  const err = new Cls(info.name in ERRORS ? info.message : `${where}: ${info.name}: ${info.message}`);
  if (info.stack) err.stack = `${err.name}: ${err.message}\n    (in a sampler worker)\n${info.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

function defaultWorkerScript(): SamplerWorkerScript {
  const js = new URL('./samplerWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { url: js };
  // Running from TypeScript sources (this repository's tests): the same flags as this process when they load
  // TypeScript, else the repository's TypeScript loader.
  const url = new URL('./samplerWorker.ts', import.meta.url);
  if (process.execArgv.some((a) => a.startsWith('--import') || a.includes('loader'))) return { url, execArgv: process.execArgv };
  const loader = new URL('../../../apps/cli/src/testing/registerTsLoader.mjs', import.meta.url);
  return { url, execArgv: existsSync(fileURLToPath(loader)) ? ['--import', loader.href] : process.execArgv };
}

interface Pending {
  readonly id: number;
  /** The message that starts the work on a worker. */
  readonly message: ToWorker;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: SampleJob['onProgress'];
  /** Settles with the worker's 'result' or 'called' message. */
  readonly resolve: (m: Extract<FromWorker, { type: 'result' | 'called' }>) => void;
  readonly reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Pending | null;
  dead: Error | null;
}

/**
 * A pool of sampler worker threads (see the module comment). Jobs queue and run on the next free worker, one job per
 * worker at a time.
 *
 * ```ts
 * const pool = await SamplerPool.create({ factory: { module: factoryUrl, exportName: 'bigrSamplerFactory', args: { dir } } });
 * const { images } = await pool.sample({ labels: [7, 7], seeds: [0, 1] });
 * await pool.dispose();
 * ```
 */
export class SamplerPool {
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  private constructor(slots: Slot[]) {
    this.#slots = slots;
    for (const slot of slots) this.#listen(slot);
  }

  /** Starts the workers and waits until every one has loaded its model (the first failure is thrown). */
  static async create(options: SamplerPoolOptions): Promise<SamplerPool> {
    const workers = options.workers ?? availableParallelism();
    const threads = options.threadsPerWorker ?? 1;
    if (!Number.isInteger(workers) || workers < 1 || workers > 1024)
      throw new ConfigError(`workers = ${workers} is invalid; use a whole number >= 1 (default: every core, ${availableParallelism()} here).`);
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024)
      throw new ConfigError(`threadsPerWorker = ${threads} is invalid; use a whole number >= 1 (default 1).`);
    const script = options.workerScript ?? defaultWorkerScript();
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(script.url, { execArgv: [...(script.execArgv ?? [])] });
      slots.push({ worker, job: null, dead: null });
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (m: FromWorker): void => {
            if (m.type === 'ready') done(null);
            else if (m.type === 'init-error') done(toError(m.error, 'loading the model in a pool worker'));
          };
          const onError = (err: Error): void => done(err);
          const onExit = (code: number): void => done(new BigrError(`A sampler worker exited with code ${code} while loading its model.`));
          const done = (err: Error | null): void => {
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
            if (err) reject(err);
            else resolve();
          };
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
        }),
      );
      worker.postMessage({ type: 'init', factory: options.factory, threads } satisfies ToWorker);
    }
    const settled = await Promise.allSettled(ready);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw failed.reason;
    }
    return new SamplerPool(slots);
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  #listen(slot: Slot): void {
    const fail = (err: Error): void => {
      slot.dead = err;
      const job = slot.job;
      slot.job = null;
      job?.reject(err);
      if (this.#slots.every((s) => s.dead)) for (const p of this.#queue.splice(0)) p.reject(err);
      else this.#dispatch();
    };
    slot.worker.on('message', (m: FromWorker) => {
      const job = slot.job;
      if (m.type === 'progress') {
        if (job && job.id === m.id) job.onProgress?.({ task: 'sample', current: m.current, total: m.total });
        return;
      }
      if (m.type !== 'result' && m.type !== 'called' && m.type !== 'error') return;
      if (!job || job.id !== m.id) return;
      slot.job = null;
      if (m.type === 'error') job.reject(toError(m.error, 'in a pool worker'));
      else job.resolve(m);
      this.#dispatch();
    });
    slot.worker.on('error', (err) => fail(err instanceof Error ? err : new BigrError(String(err))));
    slot.worker.on('exit', (code) => {
      if (!this.#closed) fail(new BigrError(`A sampler worker exited unexpectedly (code ${code}).`));
    });
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.dead || slot.job) continue;
      const next = this.#queue.shift();
      if (!next) return;
      if (next.signal?.aborted) {
        next.reject(new AbortError('The pool job was aborted.'));
        continue;
      }
      slot.job = next;
      slot.worker.postMessage(next.message);
    }
  }

  #enqueue(
    make: (id: number) => ToWorker,
    signal: AbortSignal | undefined,
    onProgress: SampleJob['onProgress'],
  ): Promise<Extract<FromWorker, { type: 'result' | 'called' }>> {
    if (this.#closed) return Promise.reject(new ConfigError('The worker pool was disposed; create a new one.'));
    const dead = this.#slots.find((s) => s.dead);
    if (dead && this.#slots.every((s) => s.dead)) return Promise.reject(dead.dead);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      if (signal?.aborted) return reject(new AbortError('The pool job was aborted.'));
      const onAbort = (): void => {
        const i = this.#queue.indexOf(pending);
        if (i >= 0) {
          this.#queue.splice(i, 1);
          settle(() => reject(new AbortError('The pool job was aborted.')));
        }
        const slot = this.#slots.find((s) => s.job?.id === id);
        slot?.worker.postMessage({ type: 'abort', id } satisfies ToWorker);
      };
      // The abort listener lives only as long as the job (a shared signal sees many jobs).
      const settle = (f: () => void): void => {
        signal?.removeEventListener('abort', onAbort);
        f();
      };
      const pending: Pending = {
        id,
        message: make(id),
        signal,
        onProgress,
        resolve: (m) => settle(() => resolve(m)),
        reject: (e) => settle(() => reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /**
   * Runs the worker method `method` (from the factory's {@link SamplerWorkerModel.methods}) with structured-cloneable
   * `args` on the next free worker, and resolves to its value.
   */
  async call<T = unknown>(method: string, args: unknown, options: { readonly signal?: AbortSignal } = {}): Promise<T> {
    const m = await this.#enqueue((id) => ({ type: 'call', id, method, args }), options.signal, undefined);
    return (m as Extract<FromWorker, { type: 'called' }>).value as T;
  }

  /** Samples one job on the next free worker. Rejects with the worker's error class (e.g. {@link ConfigError}). */
  async sample(job: SampleJob): Promise<SampleJobResult> {
    if (job.labels.length !== job.seeds.length)
      throw new ConfigError(`A sampling job has ${job.labels.length} labels but ${job.seeds.length} seeds; pass one seed per image.`);
    if (job.labels.length === 0) throw new ConfigError('A sampling job has no images; pass at least one label and seed.');
    const labels = Int32Array.from(job.labels);
    const seeds = [...job.seeds];
    const settings = { ...(job.settings ?? {}) };
    const m = await this.#enqueue((id) => ({ type: 'sample', id, labels, seeds, settings, decode: job.decode ?? true }), job.signal, job.onProgress);
    if (m.type !== 'result') throw new BigrError('A pool worker answered a sampling job with a method result.');
    return {
      codes: new CpuTensor(m.codes, m.codesShape),
      ...(m.images && m.imagesShape ? { images: new CpuTensor(m.images, m.imagesShape) } : {}),
      ...(m.stats ? { stats: m.stats } : {}),
    };
  }

  /** Releases every worker's model and stops the workers. Jobs still queued are rejected. */
  async dispose(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(new AbortError('The sampler pool was disposed.'));
    await Promise.all(
      this.#slots.map(async (slot) => {
        if (!slot.dead) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 10_000);
            slot.worker.on('message', (m: FromWorker) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                resolve();
              }
            });
            slot.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
          });
        }
        await slot.worker.terminate();
      }),
    );
  }
}

/** One finished batch of {@link generateBatches}. */
export interface GeneratedBatch extends SampleJobResult {
  /** Batch index (0-based). */
  readonly index: number;
  /** Index of the batch's first image. */
  readonly start: number;
  /** Labels of the batch. */
  readonly labels: Int32Array;
  /** Seeds of the batch. */
  readonly seeds: readonly (number | string)[];
}

/** Options of {@link generateBatches}. */
export interface GenerateBatchesOptions extends LongRunningOptions {
  /** Label per image. */
  readonly labels: ArrayLike<number>;
  /** Seed per image. */
  readonly seeds: readonly (number | string)[];
  /** Images per job (batch k holds images [k·batchSize, (k + 1)·batchSize)). */
  readonly batchSize: number;
  /** Sampler settings. */
  readonly settings?: Partial<SamplingSettings>;
  /** Decode to images (default true). */
  readonly decode?: boolean;
  /** Jobs in flight at once; default twice the workers, so none waits for the caller between jobs. */
  readonly inFlight?: number;
  /** Batches to leave out (e.g. already on disk after a resume). */
  readonly skip?: (index: number) => boolean;
  /** Receives every batch, in index order, one at a time (a returned promise is awaited before the next). */
  readonly onBatch: (batch: GeneratedBatch) => void | Promise<void>;
}

/**
 * Generates `labels.length` images in batches of `batchSize` on a {@link SamplerPool}, several batches in flight,
 * delivering finished batches in order. Image k always gets `seeds[k]`, so the images are the same for any pool size
 * and any resume point. Progress counts images.
 */
export async function generateBatches(pool: SamplerPool, options: GenerateBatchesOptions): Promise<void> {
  const { labels, seeds, batchSize, signal, onProgress } = options;
  const n = labels.length;
  if (seeds.length !== n) throw new ConfigError(`generateBatches got ${n} labels but ${seeds.length} seeds; pass one seed per image.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize = ${batchSize} is invalid; use a whole number >= 1 (e.g. 50).`);
  const inFlight = options.inFlight ?? 2 * pool.size;
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new ConfigError(`inFlight = ${inFlight} is invalid; use a whole number >= 1.`);
  const batches = Math.ceil(n / batchSize);
  const todo: number[] = [];
  for (let k = 0; k < batches; k++) if (!options.skip?.(k)) todo.push(k);
  const labelArray = Int32Array.from(labels);
  let done = n - todo.reduce((a, k) => a + Math.min(batchSize, n - k * batchSize), 0);
  onProgress?.({ task: 'generate', current: done, total: n });

  const results = new Map<number, Promise<GeneratedBatch>>();
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const start = (k: number): void => {
    const s = k * batchSize;
    const e = Math.min(n, s + batchSize);
    const batchLabels = labelArray.slice(s, e);
    const batchSeeds = seeds.slice(s, e);
    const p = pool
      .sample({
        labels: batchLabels,
        seeds: batchSeeds,
        ...(options.settings ? { settings: options.settings } : {}),
        decode: options.decode ?? true,
        signal: controller.signal,
      })
      .then((r) => ({ ...r, index: k, start: s, labels: batchLabels, seeds: batchSeeds }));
    p.catch(() => undefined); // handled when awaited in order
    results.set(k, p);
  };
  try {
    // Batches start in `todo` order, at most `inFlight` ahead of the one being awaited.
    const queue = todo.values();
    const startNext = (): void => {
      const r = queue.next();
      if (!r.done) start(r.value);
    };
    for (let j = 0; j < Math.min(inFlight, todo.length); j++) startNext();
    for (const k of todo) {
      if (signal?.aborted) throw new AbortError('Generation was aborted.');
      const batch = await getOrThrow(results, k, 'started batch');
      results.delete(k);
      startNext();
      await options.onBatch(batch);
      done += batch.labels.length;
      onProgress?.({ task: 'generate', current: done, total: n });
    }
  } catch (err) {
    controller.abort();
    await Promise.allSettled(results.values());
    throw signal?.aborted ? new AbortError('Generation was aborted.') : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
