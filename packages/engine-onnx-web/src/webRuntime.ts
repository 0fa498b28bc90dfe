import * as ort from 'onnxruntime-web';

/** The onnxruntime-web module this package runs on. */
export type OrtWebModule = typeof ort;

/** Where and how onnxruntime-web runs; see {@link configureOrtWeb}. */
export interface OrtWebSettings {
  /**
   * URL prefix (ending in '/') of onnxruntime-web's `ort-wasm-simd-threaded*.wasm` / `.mjs` files, served by the
   * page itself (copy them from `node_modules/onnxruntime-web/dist/`). Default: onnxruntime-web's own default.
   */
  readonly wasmPaths?: string;
  /**
   * WebAssembly threads. Default: every logical core (`navigator.hardwareConcurrency`) when the page is
   * cross-origin isolated (threads need SharedArrayBuffer), else 1.
   */
  readonly threads?: number;
}

/** The effective runtime settings after {@link configureOrtWeb}. */
export interface OrtWebInfo {
  /** WebAssembly threads in use. */
  readonly threads: number;
  /** Whether the page is cross-origin isolated (SharedArrayBuffer, so threads, available). */
  readonly crossOriginIsolated: boolean;
  /** Whether the browser exposes WebGPU (`navigator.gpu`) and returned an adapter. */
  readonly webgpu: boolean;
}

function hardwareThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

function isCrossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/**
 * Applies `settings` to onnxruntime-web's global environment. onnxruntime-web reads these once, when the first
 * session is created, so call this before compiling anything; later calls only report.
 */
export function configureOrtWeb(settings: OrtWebSettings = {}): OrtWebInfo {
  const isolated = isCrossOriginIsolated();
  const threads = settings.threads ?? (isolated ? hardwareThreads() : 1);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads = ${threads}; use a whole number >= 1.`);
  ort.env.wasm.numThreads = isolated ? threads : 1;
  ort.env.wasm.simd = true;
  if (settings.wasmPaths !== undefined) ort.env.wasm.wasmPaths = settings.wasmPaths;
  ort.env.logLevel = 'error';
  return { threads: isolated ? threads : 1, crossOriginIsolated: isolated, webgpu: false };
}

/** Whether WebGPU can be used here: `navigator.gpu` exists and hands out an adapter. */
export async function hasWebGpu(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

/** The onnxruntime-web module (statically imported, so bundlers include it). */
export function ortWeb(): OrtWebModule {
  return ort;
}
