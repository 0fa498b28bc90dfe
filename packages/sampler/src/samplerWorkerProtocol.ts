/**
 * Messages between a {@link SamplerPool} and its worker threads, and the contract of the model factory a worker
 * loads. Internal to the pool, exported for factory authors.
 */
import type { BinaryTokenizer, MaskedBitPredictor } from '@bigr/core';
import type { SamplingSettings } from './settings.js';

/** What a {@link WorkerMethod} returns: a structured-cloneable value and the buffers to transfer with it. */
export interface WorkerMethodResult {
  /** The value sent back to `SamplerPool.call`. */
  readonly value: unknown;
  /** ArrayBuffers inside `value` to move instead of copy. */
  readonly transfer?: readonly ArrayBuffer[];
}

/** A named operation a worker offers besides sampling (e.g. encoding image files with its tokenizer). */
export type WorkerMethod = (args: unknown, signal: AbortSignal) => Promise<WorkerMethodResult>;

/** What a model factory returns inside a worker: the predictor (and optionally a tokenizer to decode with). */
export interface SamplerWorkerModel {
  /** The predictor sampling jobs use (a pool that only serves {@link SamplerWorkerModel.methods} needs none). */
  readonly predictor?: MaskedBitPredictor;
  /** Operations reachable through `SamplerPool.call(name, args)`. */
  readonly methods?: Readonly<Record<string, WorkerMethod>>;
  /** Decodes codes to images when a job asks for images. */
  readonly tokenizer?: BinaryTokenizer;
  /**
   * Settings the model's predictor needs, which take precedence over every job's settings (e.g. `commit: 'threshold'`
   * for a head that passes whole sampled tokens as 0.5 ± c/2 per bit, such as the categorical head of
   * docs/algorithm.md §13.1).
   */
  readonly settings?: Partial<SamplingSettings>;
  /** Releases the model (called when the pool is disposed). */
  dispose?(): Promise<void>;
  /** Numbers about the job just finished (e.g. engine time, FLOP), returned with its result; called once per job. */
  jobStats?(): Readonly<Record<string, number>>;
}

/**
 * A model factory: a function exported by an ES module, called once in every worker with `args` (structured-cloned
 * from the pool's options). It builds its own engine sessions there; each worker's onnxruntime sessions see
 * `BIGR_THREADS` set to the pool's per-worker thread count.
 */
export type SamplerWorkerFactory = (args: unknown) => Promise<SamplerWorkerModel>;

/** Where a worker finds its model factory. */
export interface SamplerFactorySpec {
  /** Module to import in the worker: an absolute file URL (e.g. `new URL('./factory.js', import.meta.url).href`) or a package name. */
  readonly module: string;
  /** Exported {@link SamplerWorkerFactory}; default 'default'. */
  readonly exportName?: string;
  /** Structured-cloneable argument of the factory (e.g. a model directory and diffusion steps). */
  readonly args?: unknown;
}

/** @internal Pool → worker. */
export type ToWorker =
  | { readonly type: 'init'; readonly factory: SamplerFactorySpec; readonly threads: number }
  | {
      readonly type: 'sample';
      readonly id: number;
      readonly labels: Int32Array;
      readonly seeds: readonly (number | string)[];
      readonly settings: Partial<SamplingSettings>;
      readonly decode: boolean;
    }
  | { readonly type: 'call'; readonly id: number; readonly method: string; readonly args: unknown }
  | { readonly type: 'abort'; readonly id: number }
  | { readonly type: 'close' };

/** @internal A serialised error. */
export interface WorkerErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** @internal Worker → pool. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: WorkerErrorInfo }
  | { readonly type: 'progress'; readonly id: number; readonly current: number; readonly total: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly codes: Uint8Array;
      readonly codesShape: readonly number[];
      readonly images: Float32Array | null;
      readonly imagesShape: readonly number[] | null;
      readonly stats: Readonly<Record<string, number>> | null;
    }
  | { readonly type: 'called'; readonly id: number; readonly value: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: WorkerErrorInfo }
  | { readonly type: 'closed' };
