/// <reference lib="webworker" />
// The model runs here, off the page's main thread: onnxruntime-web (wasm SIMD, threads when the page is
// cross-origin isolated, or WebGPU) through @bigr/engine-onnx-web, and the sampler through @bigr/pipeline.
import { AbortError, CpuTensor, required } from '@bigr/core';
import { configureOrtWeb, hasWebGpu, OnnxWebEngine } from '@bigr/engine-onnx-web';
import { fetchBigrModel, WebBigrPipeline } from '@bigr/pipeline';
import { HashIndex } from '@bigr/tokenizer';
import type { Reply, Request } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

let pipeline: WebBigrPipeline | undefined;
let index: HashIndex | undefined;
const jobs = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function post(reply: Reply, transfer: Transferable[] = []): void {
  self.postMessage(reply, transfer);
}

async function init(req: Extract<Request, { type: 'init' }>): Promise<void> {
  const t0 = performance.now();
  const info = configureOrtWeb({ wasmPaths: req.wasmPaths, ...(req.threads !== undefined ? { threads: req.threads } : {}) });
  const backend = req.backend === 'webgpu' || (req.backend === 'auto' && (await hasWebGpu())) ? 'webgpu' : 'wasm';
  const engine = new OnnxWebEngine({ executionProvider: backend });
  post({ type: 'loading', message: 'Downloading the model…' });
  const files = await fetchBigrModel(req.modelUrl, {
    onProgress: (e) => post({ type: 'loading', message: `Downloading the model… ${e.message ?? ''}` }),
  });
  post({ type: 'loading', message: 'Compiling the ONNX graphs…' });
  pipeline = await WebBigrPipeline.fromBytes(files, engine);
  const res = await fetch(req.indexUrl);
  if (!res.ok) throw new Error(`${req.indexUrl}: HTTP ${res.status}`);
  index = HashIndex.deserialize(new Uint8Array(await res.arrayBuffer()), req.indexUrl);
  post({
    type: 'ready',
    info: {
      engine: engine.name,
      backend,
      threads: info.threads,
      crossOriginIsolated: info.crossOriginIsolated,
      classNames: pipeline.classNames,
      loadMs: performance.now() - t0,
      indexSize: index.size,
      imageSize: pipeline.geometry.inner,
    },
  });
}

async function run(req: Exclude<Request, { type: 'init' } | { type: 'cancel' }>, signal: AbortSignal): Promise<void> {
  const bigr = pipeline;
  if (!bigr || !index) throw new Error('The model is not loaded yet.');
  const onProgress = (e: { current: number; total: number }): void => post({ type: 'progress', id: req.id, current: e.current, total: e.total });
  const t0 = performance.now();
  if (req.type === 'generate') {
    const r = await bigr.generate({ classes: req.classIndex, n: req.n, seed: req.seed, signal, onProgress });
    const codes = new Uint8Array(r.codes.data);
    const images = new Float32Array(r.images.data);
    post(
      {
        type: 'generated',
        id: req.id,
        codes,
        codeShape: [...r.codes.shape],
        images,
        imageShape: [...r.images.shape],
        seeds: [...r.seeds],
        labels: [...r.labels],
        ms: performance.now() - t0,
      },
      [codes.buffer, images.buffer],
    );
  } else if (req.type === 'inpaint') {
    const image = new CpuTensor<'float32'>(req.image, [1, 1, req.size, req.size]);
    const mask = new CpuTensor<'uint8'>(req.mask, [req.maskSize, req.maskSize]);
    const r = await bigr.inpaint({ image, region: { kind: 'image', image: mask }, samples: req.samples, seed: req.seed, signal, onProgress });
    const decoded = required(r.images, 'inpainted images');
    const images = new Float32Array(decoded.data);
    post({ type: 'inpainted', id: req.id, images, imageShape: [...decoded.shape], ms: performance.now() - t0 }, [images.buffer]);
  } else {
    const [found] = await bigr.search(index, { width: req.width, height: req.height, channels: 1, data: req.gray }, req.k, { signal });
    const hits = required(found, 'hits of the one query');
    post({ type: 'searched', id: req.id, ids: [...hits.ids], distances: [...hits.distances], bits: index.bytesPerCode * 8, ms: performance.now() - t0 });
  }
}

function errorReply(id: number | null, err: unknown): Reply {
  const e = err as Error;
  return { type: 'error', id, name: e?.name ?? 'Error', message: e?.message ?? String(err) };
}

self.onmessage = (event: MessageEvent<Request>) => {
  const req = event.data;
  if (req.type === 'cancel') {
    jobs.get(req.id)?.abort();
    return;
  }
  if (req.type === 'init') {
    init(req).catch((err) => post(errorReply(null, err)));
    return;
  }
  const controller = new AbortController();
  jobs.set(req.id, controller);
  // One job at a time: the engine's sessions are not re-entrant.
  queue = queue.then(async () => {
    try {
      controller.signal.throwIfAborted();
      await run(req, controller.signal);
    } catch (err) {
      if (err instanceof AbortError || (err as Error)?.name === 'AbortError') post({ type: 'cancelled', id: req.id });
      else post(errorReply(req.id, err));
    } finally {
      jobs.delete(req.id);
    }
  });
};
