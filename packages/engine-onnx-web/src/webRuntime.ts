// The WebAssembly-only build: the build with WebGPU (JSEP) runs every wasm session several times slower (measured
// 4.8 vs 1.5 s per image of the bundled model), so it is loaded only for the WebGPU engine (ortWebGpu).
import * as ort from 'onnxruntime-web/wasm';

/** An onnxruntime-web module (the wasm-only build or the WebGPU build). */
export type OrtWebModule = typeof ort;

let settings: { threads: number; wasmPaths?: string } | undefined;
let webgpu: Promise<OrtWebModule> | undefined;

function applySettings(m: OrtWebModule): void {
  const s = settings ?? { threads: 1 };
  m.env.wasm.numThreads = s.threads;
  m.env.wasm.simd = true;
  if (s.wasmPaths !== undefined) m.env.wasm.wasmPaths = s.wasmPaths;
  m.env.logLevel = 'error';
}

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
 * Applies `options` to onnxruntime-web's global environment. onnxruntime-web reads these once, when the first
 * session is created, so call this before compiling anything; later calls only report.
 */
export function configureOrtWeb(options: OrtWebSettings = {}): OrtWebInfo {
  const isolated = isCrossOriginIsolated();
  const threads = options.threads ?? (isolated ? hardwareThreads() : 1);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads = ${threads}; use a whole number >= 1.`);
  settings = { threads: isolated ? threads : 1, ...(options.wasmPaths !== undefined ? { wasmPaths: options.wasmPaths } : {}) };
  applySettings(ort);
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

/** The wasm-only onnxruntime-web module (statically imported, so bundlers include it). */
export function ortWeb(): OrtWebModule {
  return ort;
}

/**
 * The onnxruntime-web build with WebGPU, loaded on first use with the settings of {@link configureOrtWeb} (it loads
 * the `ort-wasm-simd-threaded.jsep.*` files from `wasmPaths`).
 */
export function ortWebGpu(): Promise<OrtWebModule> {
  webgpu ??= import('onnxruntime-web/webgpu').then((m) => {
    const mod = m as unknown as OrtWebModule;
    applySettings(mod);
    return mod;
  });
  return webgpu;
}
