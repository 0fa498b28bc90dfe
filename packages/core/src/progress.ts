import { AbortError } from './errors.js';

/**
 * Progress of a long operation (training, sampling, evaluation). `current` never decreases and `total`
 * stays constant within one `task`; the last event of a task has `current === total`.
 */
export interface ProgressEvent {
  /** What is running, e.g. 'train', 'sample', 'fid-stats'. */
  readonly task: string;
  /** Units done so far. */
  readonly current: number;
  /** Units in the whole task. */
  readonly total: number;
  /** Optional scalar readings at this point (loss, lr, ...). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** Optional human-readable detail. */
  readonly message?: string;
}

/** Receives {@link ProgressEvent}s. Library code never prints; callers decide how to show progress. */
export type ProgressCallback = (event: ProgressEvent) => void;

/** Options shared by every long-running operation. */
export interface LongRunningOptions {
  /** Stops the operation at the next safe point with an {@link AbortError}. */
  signal?: AbortSignal;
  /** Called as work advances. */
  onProgress?: ProgressCallback;
}

/** Throws {@link AbortError} when `signal` has been aborted. Call at safe points of long loops. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) {
    throw new AbortError(`The ${what} was aborted${signal.reason instanceof Error ? `: ${signal.reason.message}` : ''}.`);
  }
}
