/** Messages between the page (main.ts) and the model worker (worker.ts). */

/** Which onnxruntime-web backend the worker uses. */
export type Backend = 'auto' | 'wasm' | 'webgpu';

/** Page → worker. */
export type Request =
  | { type: 'init'; modelUrl: string; wasmPaths: string; indexUrl: string; threads?: number; backend: Backend }
  | { type: 'generate'; id: number; classIndex: number; seed: number; n: number }
  | { type: 'inpaint'; id: number; image: Float32Array; size: number; mask: Uint8Array; maskSize: number; samples: number; seed: number }
  | { type: 'search'; id: number; width: number; height: number; gray: Uint8Array; k: number }
  | { type: 'cancel'; id: number };

/** What the worker reports once the model is loaded. */
export interface ReadyInfo {
  readonly engine: string;
  readonly backend: 'wasm' | 'webgpu';
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  readonly classNames: readonly string[];
  readonly loadMs: number;
  readonly indexSize: number;
  readonly imageSize: number;
}

/** Worker → page. */
export type Reply =
  | { type: 'ready'; info: ReadyInfo }
  | { type: 'loading'; message: string }
  | { type: 'progress'; id: number; current: number; total: number }
  | {
      type: 'generated';
      id: number;
      codes: Uint8Array;
      codeShape: number[];
      images: Float32Array;
      imageShape: number[];
      seeds: number[];
      labels: number[];
      ms: number;
    }
  | { type: 'inpainted'; id: number; images: Float32Array; imageShape: number[]; ms: number }
  | { type: 'searched'; id: number; ids: number[]; distances: number[]; bits: number; ms: number }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id: number | null; name: string; message: string };
