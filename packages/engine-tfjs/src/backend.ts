import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ConfigError, EngineUnavailableError } from '@bigr/core';
import { registerCpuFallbackKernels } from './cpuFallback.js';
import { registerFastMatMulGradient } from './matMulGradient.js';

/**
 * Which tfjs backend to run on:
 * - `'wasm'`: `@tensorflow/tfjs-backend-wasm` (SIMD, single thread in Node), plus a CPU-fallback shim for the
 *   kernels wasm lacks (see {@link registerCpuFallbackKernels}). The default for training.
 * - `'cpu'`: the pure-JS reference backend (slow; used as the reference in tests).
 * - `'tensorflow'`: libtensorflow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, when the user
 *   installed one (both download libtensorflow at install time, so offline installs fail).
 */
export type TfjsBackendKind = 'wasm' | 'cpu' | 'tensorflow';

/** The packages tried, in order, for the `'tensorflow'` backend kind. */
export const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Options for {@link initTfjs}. */
export interface InitTfjsOptions {
  /**
   * For kind `'tensorflow'`: the native binding packages to try, in order. Defaults to
   * {@link TFJS_NODE_PACKAGES} (GPU build first).
   */
  readonly nodePackages?: readonly string[];
}

/** What {@link initTfjs} set up. */
export interface TfjsBackendInfo {
  /** The kind that was asked for. */
  readonly kind: TfjsBackendKind;
  /** The tfjs backend name now registered and initialised ('wasm', 'cpu' or 'tensorflow'). */
  readonly backendName: string;
  /** Kernels served on wasm by the CPU-fallback shim (empty for other kinds). */
  readonly fallbackKernels: readonly string[];
  /** For kind 'tensorflow': the native package that loaded. */
  readonly nodePackage?: string;
}

const initialised = new Map<string, Promise<TfjsBackendInfo>>();

/**
 * Stops the cpu backend's one-time "Hi, looks like you are running TensorFlow.js in Node.js" console warning
 * (library code must not print). The warning fires on the backend's first `write`, guarded by a `firstUse`
 * field; clearing that field before any tensor exists suppresses it without touching tfjs' global flags.
 */
function silenceCpuBackendGreeting(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && typeof cpu === 'object' && 'firstUse' in cpu) cpu.firstUse = false;
}

async function activate(backendName: string): Promise<void> {
  const ok = await tf.setBackend(backendName);
  if (!ok || tf.getBackend() !== backendName) {
    throw new EngineUnavailableError(`tfjs backend "${backendName}" failed to initialise (tf.setBackend returned false).`);
  }
  await tf.ready();
}

async function initWasm(): Promise<TfjsBackendInfo> {
  silenceCpuBackendGreeting();
  try {
    await activate('wasm');
  } catch (err) {
    throw new EngineUnavailableError(
      `The tfjs wasm backend could not be initialised (${(err as Error).message.split('\n')[0]}). ` +
        'Check that @tensorflow/tfjs-backend-wasm is installed with its .wasm files, or use device "cpu".',
      { cause: err },
    );
  }
  const fallbackKernels = registerCpuFallbackKernels();
  // Global (all backends): same math, explicit transposes; harmless on cpu, ~10× faster backward on wasm.
  registerFastMatMulGradient();
  return { kind: 'wasm', backendName: 'wasm', fallbackKernels };
}

async function initCpu(): Promise<TfjsBackendInfo> {
  silenceCpuBackendGreeting();
  await activate('cpu');
  return { kind: 'cpu', backendName: 'cpu', fallbackKernels: [] };
}

async function initTensorflow(packages: readonly string[]): Promise<TfjsBackendInfo> {
  const reasons: string[] = [];
  for (const pkg of packages) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const specifier: string = pkg;
      await import(specifier);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const notInstalled = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(e.message);
      reasons.push(
        notInstalled
          ? `${pkg} is not installed (its installer downloads libtensorflow; offline installs fail)`
          : `${pkg} failed to load: ${e.message.split('\n')[0]}`,
      );
      continue;
    }
    if (tf.findBackendFactory('tensorflow') == null) {
      reasons.push(`${pkg} loaded but registered no "tensorflow" backend with this copy of @tensorflow/tfjs (version mismatch?)`);
      continue;
    }
    try {
      await activate('tensorflow');
    } catch (err) {
      reasons.push(`${pkg} loaded but its backend failed to start: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    return { kind: 'tensorflow', backendName: 'tensorflow', fallbackKernels: [], nodePackage: pkg };
  }
  throw new EngineUnavailableError(`No native TensorFlow binding is usable: ${reasons.join('; ')}. Use the wasm engine (device "wasm" or "auto") instead.`);
}

/**
 * Initialises a tfjs backend and makes it tfjs' global backend, awaiting `tf.ready()` before any tensor
 * exists. For `'wasm'` it also registers the CPU-fallback kernel shim. Calling it again for an initialised
 * kind only switches the global backend back to it.
 *
 * tfjs has a single global backend per process: every tensor op runs on whichever backend was set last. The
 * engines of this package therefore switch to their backend at the start of every call (see
 * {@link useBackend}); tensors created on another backend are moved by tfjs on first use.
 */
export async function initTfjs(kind: TfjsBackendKind, options: InitTfjsOptions = {}): Promise<TfjsBackendInfo> {
  let info: Promise<TfjsBackendInfo> | undefined;
  const key = kind === 'tensorflow' ? `tensorflow:${(options.nodePackages ?? TFJS_NODE_PACKAGES).join(',')}` : kind;
  info = initialised.get(key);
  if (!info) {
    if (kind === 'wasm') info = initWasm();
    else if (kind === 'cpu') info = initCpu();
    else if (kind === 'tensorflow') info = initTensorflow(options.nodePackages ?? TFJS_NODE_PACKAGES);
    else {
      throw new ConfigError(`Unknown tfjs backend kind "${String(kind)}"; expected 'wasm', 'cpu' or 'tensorflow'.`);
    }
    initialised.set(key, info);
    info.catch(() => initialised.delete(key));
  }
  const result = await info;
  await activate(result.backendName);
  return result;
}

/**
 * Synchronously makes `backendName` (already initialised by {@link initTfjs}) the global tfjs backend.
 * Engines call this at the start of every operation, so two engines on different backends can coexist in one
 * process (each call runs on its own backend; tfjs moves tensors between backends when needed, which costs a
 * copy). Throws when the backend was never initialised.
 */
export function useBackend(backendName: string): void {
  if (tf.getBackend() === backendName) return;
  if (tf.engine().registry[backendName] == null) {
    throw new EngineUnavailableError(`tfjs backend "${backendName}" is not initialised; call initTfjs() for it first.`);
  }
  // For an initialised backend, Engine.setBackend switches synchronously before its first await.
  void tf.setBackend(backendName);
  if (tf.getBackend() !== backendName) {
    throw new EngineUnavailableError(`Could not switch the global tfjs backend to "${backendName}" (it is "${tf.getBackend()}").`);
  }
}
