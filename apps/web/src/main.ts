// The page: plain DOM, no framework. The model runs in a module worker (worker.ts); this file draws and wires the
// controls. `window.bigr` exposes the same operations for scripted use (the browser test and the benchmark).
import { required } from '@bigr/core';
import type { Backend, ReadyInfo, Reply, Request } from './protocol.js';
import { loadTestSet, type TestSet } from './testSet.js';

type JobReply = Exclude<Reply, { type: 'ready' } | { type: 'loading' } | { type: 'progress' } | { type: 'error' }> | Extract<Reply, { type: 'error' }>;
type Job = { resolve: (r: JobReply) => void; onProgress?: (current: number, total: number) => void };
type JobRequest = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const threadsParam = params.get('threads');
// wasm by default: the sampler's thousands of small runs per image are slower on WebGPU (?backend=webgpu|auto opts in).
const backend = (params.get('backend') ?? 'wasm') as Backend;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const jobs = new Map<number, Job>();
let nextId = 1;
let readyResolve!: (info: ReadyInfo) => void;
let readyReject!: (err: Error) => void;
const ready = new Promise<ReadyInfo>((res, rej) => {
  readyResolve = res;
  readyReject = rej;
});

function setStatus(text: string, state: 'ok' | 'busy' | 'error' = 'ok'): void {
  const el = $('status');
  el.textContent = text;
  el.dataset['state'] = state;
}

worker.onmessage = (event: MessageEvent<Reply>) => {
  const msg = event.data;
  if (msg.type === 'loading') setStatus(msg.message, 'busy');
  else if (msg.type === 'ready') readyResolve(msg.info);
  else if (msg.type === 'progress') jobs.get(msg.id)?.onProgress?.(msg.current, msg.total);
  else if (msg.type === 'error' && msg.id === null) readyReject(new Error(`${msg.name}: ${msg.message}`));
  else if (msg.id !== null) {
    const job = jobs.get(msg.id);
    jobs.delete(msg.id);
    job?.resolve(msg);
  }
};
worker.onerror = (e) => readyReject(new Error(e.message));

function send(req: JobRequest, onProgress?: (current: number, total: number) => void): { id: number; done: Promise<JobReply> } {
  const id = nextId++;
  const done = new Promise<JobReply>((resolve) => jobs.set(id, { resolve, ...(onProgress ? { onProgress } : {}) }));
  worker.postMessage({ ...req, id } as Request);
  return { id, done };
}

function expect<T extends JobReply['type']>(reply: JobReply, type: T): Extract<JobReply, { type: T }> {
  if (reply.type === 'error') throw new Error(`${reply.name}: ${reply.message}`);
  if (reply.type === 'cancelled') throw Object.assign(new Error('Cancelled.'), { name: 'AbortError' });
  if (reply.type !== type) throw new Error(`Unexpected reply ${reply.type}.`);
  return reply as Extract<JobReply, { type: T }>;
}

// ---- drawing ----
function drawImages(canvas: HTMLCanvasElement, images: Float32Array, count: number, size: number, cols: number, gap = 1): void {
  const rows = Math.ceil(count / cols);
  canvas.width = cols * size + (cols - 1) * gap;
  canvas.height = rows * size + (rows - 1) * gap;
  const ctx = required(canvas.getContext('2d'), 'canvas 2D context');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(size, size);
  for (let k = 0; k < count; k++) {
    for (let p = 0; p < size * size; p++) {
      const v = Math.round(Math.min(1, Math.max(0, required(images[k * size * size + p], 'pixel'))) * 255);
      img.data.set([v, v, v, 255], p * 4);
    }
    ctx.putImageData(img, (k % cols) * (size + gap), Math.floor(k / cols) * (size + gap));
  }
}

function drawGray(canvas: HTMLCanvasElement, pixels: Uint8Array, size: number): void {
  canvas.width = size;
  canvas.height = size;
  const ctx = required(canvas.getContext('2d'), 'canvas 2D context');
  const img = ctx.createImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    const v = required(pixels[p], 'pixel');
    img.data.set([v, v, v, 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

// ---- operations (also window.bigr) ----
let testSet: TestSet | undefined;

function loadedTestSet(): TestSet {
  if (!testSet) throw new Error('The test set is still loading; try again in a moment.');
  return testSet;
}

function testImage(i: number): Uint8Array {
  const t = loadedTestSet();
  if (!Number.isInteger(i) || i < 0 || i >= t.count) throw new RangeError(`Test image ${i} does not exist; use 0..${t.count - 1}.`);
  return t.images.subarray(i * t.size * t.size, (i + 1) * t.size * t.size);
}

interface GenerateResult {
  codes: number[];
  codeShape: number[];
  images: number[];
  imageShape: number[];
  seeds: number[];
  ms: number;
}

let current: { id: number } | undefined;

async function generate(opts: { classIndex: number; seed: number; n: number }, onProgress?: (c: number, t: number) => void): Promise<GenerateResult> {
  await ready;
  const job = send({ type: 'generate', ...opts }, onProgress);
  current = job;
  const r = expect(await job.done, 'generated');
  return { codes: [...r.codes], codeShape: r.codeShape, images: [...r.images], imageShape: r.imageShape, seeds: r.seeds, ms: r.ms };
}

async function inpaint(
  opts: { testIndex: number; mask: Uint8Array; samples: number; seed: number },
  onProgress?: (c: number, t: number) => void,
): Promise<{ images: Float32Array; imageShape: number[]; ms: number }> {
  const info = await ready;
  const size = info.imageSize;
  const pixels = testImage(opts.testIndex);
  const image = Float32Array.from(pixels, (v) => v / 255);
  // The mask is painted on the unpadded image; the sampler takes it in pixels of the padded tokenizer input.
  const pad = loadedTestSet().size === size ? 2 : 0;
  const full = size + 2 * pad;
  const mask = new Uint8Array(full * full);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[(y + pad) * full + x + pad] = required(opts.mask[y * size + x], 'mask pixel') ? 1 : 0;
  const job = send({ type: 'inpaint', image, size, mask, maskSize: full, samples: opts.samples, seed: opts.seed }, onProgress);
  current = job;
  const r = expect(await job.done, 'inpainted');
  return { images: r.images, imageShape: r.imageShape, ms: r.ms };
}

async function search(opts: {
  width: number;
  height: number;
  gray: Uint8Array;
  k: number;
}): Promise<{ ids: number[]; distances: number[]; bits: number; ms: number }> {
  await ready;
  const job = send({ type: 'search', ...opts });
  const r = expect(await job.done, 'searched');
  return { ids: r.ids, distances: r.distances, bits: r.bits, ms: r.ms };
}

function cancel(): void {
  if (current) worker.postMessage({ type: 'cancel', id: current.id } as Request);
}

async function decodeToGray(file: Blob): Promise<{ width: number; height: number; gray: Uint8Array }> {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = required(canvas.getContext('2d', { willReadFrequently: true }), 'canvas 2D context');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const gray = new Uint8Array(bitmap.width * bitmap.height);
  // PIL's 'L' conversion (ITU-R 601-2 luma), as the Node image loader uses.
  for (let p = 0; p < gray.length; p++) {
    const r = required(rgba[4 * p], 'red');
    const g = required(rgba[4 * p + 1], 'green');
    const b = required(rgba[4 * p + 2], 'blue');
    gray[p] = Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000);
  }
  return { width: bitmap.width, height: bitmap.height, gray };
}

declare global {
  interface Window {
    bigr: {
      ready: Promise<ReadyInfo>;
      generate: typeof generate;
      inpaint: typeof inpaint;
      search: typeof search;
      cancel: typeof cancel;
      testImage: (i: number) => number[];
      lastSearch?: { ids: number[]; distances: number[] };
      lastGenerate?: GenerateResult;
      lastInpaint?: { images: number[]; imageShape: number[] };
    };
  }
}
window.bigr = { ready, generate, inpaint, search, cancel, testImage: (i) => [...testImage(i)] };

// ---- UI ----
function busy(section: 'gen' | 'inp', on: boolean): void {
  $<HTMLButtonElement>(`${section}-run`).disabled = on;
  $<HTMLButtonElement>(`${section}-cancel`).disabled = !on;
  if (!on) $<HTMLProgressElement>(`${section}-progress`).value = 0;
}

function progressTo(section: 'gen' | 'inp'): (c: number, t: number) => void {
  const bar = $<HTMLProgressElement>(`${section}-progress`);
  return (c, t) => {
    bar.max = t;
    bar.value = c;
  };
}

function describe(err: unknown): string {
  return (err as Error)?.name === 'AbortError' ? 'Cancelled.' : `Error: ${(err as Error)?.message ?? err}`;
}

$('gen-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const classIndex = Number($<HTMLSelectElement>('gen-class').value);
  const seed = Math.max(0, Math.floor(Number($<HTMLInputElement>('gen-seed').value) || 0));
  const n = Number($<HTMLSelectElement>('gen-n').value);
  busy('gen', true);
  $('gen-info').textContent = 'Generating…';
  try {
    const r = await generate({ classIndex, seed, n }, progressTo('gen'));
    window.bigr.lastGenerate = r;
    const [, , h] = r.imageShape as [number, number, number, number];
    drawImages($('gen-grid'), Float32Array.from(r.images), n, h, Math.min(n, 8));
    $('gen-info').textContent = `${n} images, seeds ${r.seeds[0]}–${r.seeds[n - 1]}, ${(r.ms / 1000).toFixed(1)} s (${(r.ms / 1000 / n).toFixed(2)} s/image).`;
    $('gen-grid').setAttribute(
      'aria-label',
      `${n} generated images of class ${$<HTMLSelectElement>('gen-class').selectedOptions[0]?.textContent ?? classIndex}`,
    );
  } catch (err) {
    $('gen-info').textContent = describe(err);
  } finally {
    busy('gen', false);
  }
});
$('gen-cancel').addEventListener('click', cancel);

// Inpainting: paint a mask (pointer events) over the test image.
const maskCanvas = $<HTMLCanvasElement>('inp-mask');
let mask = new Uint8Array(28 * 28);
function redrawMask(): void {
  const size = maskCanvas.width;
  const ctx = required(maskCanvas.getContext('2d'), 'canvas 2D context');
  const img = ctx.createImageData(size, size);
  for (let p = 0; p < size * size; p++) if (mask[p]) img.data.set([255, 64, 64, 150], p * 4);
  ctx.putImageData(img, 0, 0);
}
function showInpaintImage(): void {
  if (!testSet) return;
  const i = Number($<HTMLInputElement>('inp-index').value) || 0;
  drawGray($('inp-image'), testImage(i), testSet.size);
}
function paintAt(e: PointerEvent): void {
  const rect = maskCanvas.getBoundingClientRect();
  const size = maskCanvas.width;
  const cx = ((e.clientX - rect.left) / rect.width) * size;
  const cy = ((e.clientY - rect.top) / rect.height) * size;
  const r = Number($<HTMLInputElement>('inp-brush').value);
  for (let y = Math.floor(cy - r); y <= cy + r; y++)
    for (let x = Math.floor(cx - r); x <= cx + r; x++) {
      if (x >= 0 && y >= 0 && x < size && y < size && (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) mask[y * size + x] = 1;
    }
  redrawMask();
}
maskCanvas.addEventListener('pointerdown', (e) => {
  maskCanvas.setPointerCapture(e.pointerId);
  paintAt(e);
});
maskCanvas.addEventListener('pointermove', (e) => {
  if (maskCanvas.hasPointerCapture(e.pointerId)) paintAt(e);
});
function presetMask(fn: (x: number, y: number, size: number) => boolean): void {
  const size = maskCanvas.width;
  mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[y * size + x] = fn(x, y, size) ? 1 : 0;
  redrawMask();
}
$('inp-left').addEventListener('click', () => presetMask((x, _y, s) => x < s / 2));
$('inp-center').addEventListener('click', () => presetMask((x, y, s) => Math.abs(x - s / 2 + 0.5) < s / 4 && Math.abs(y - s / 2 + 0.5) < s / 4));
$('inp-clear').addEventListener('click', () => presetMask(() => false));
$('inp-index').addEventListener('change', showInpaintImage);
$('inp-run').addEventListener('click', async () => {
  if (!mask.some((v) => v)) {
    $('inp-info').textContent = 'Paint a mask first (or use one of the mask buttons).';
    return;
  }
  busy('inp', true);
  $('inp-info').textContent = 'Inpainting…';
  try {
    const samples = 4;
    const r = await inpaint(
      { testIndex: Number($<HTMLInputElement>('inp-index').value) || 0, mask, samples, seed: Number($<HTMLInputElement>('inp-seed').value) || 0 },
      progressTo('inp'),
    );
    window.bigr.lastInpaint = { images: [...r.images], imageShape: r.imageShape };
    const [, , h] = r.imageShape as [number, number, number, number];
    drawImages($('inp-result'), r.images, samples, h, samples);
    $('inp-info').textContent = `${samples} samples in ${(r.ms / 1000).toFixed(1)} s.`;
  } catch (err) {
    $('inp-info').textContent = describe(err);
  } finally {
    busy('inp', false);
  }
});
$('inp-cancel').addEventListener('click', cancel);

// Search: drop or choose a file, or use a test image.
async function runSearch(query: { width: number; height: number; gray: Uint8Array }): Promise<void> {
  drawGray($('search-query'), query.gray, query.width === query.height ? query.width : Math.min(query.width, query.height));
  if (query.width !== query.height) {
    const c = $<HTMLCanvasElement>('search-query');
    c.width = query.width;
    c.height = query.height;
    const ctx = required(c.getContext('2d'), 'canvas 2D context');
    const img = ctx.createImageData(query.width, query.height);
    for (let p = 0; p < query.gray.length; p++) {
      const v = required(query.gray[p], 'pixel');
      img.data.set([v, v, v, 255], p * 4);
    }
    ctx.putImageData(img, 0, 0);
  }
  $('search-info').textContent = 'Searching…';
  try {
    const r = await search({ ...query, k: 8 });
    window.bigr.lastSearch = { ids: r.ids, distances: r.distances };
    const list = $('search-results');
    list.replaceChildren();
    const names = (await ready).classNames;
    const t = loadedTestSet();
    r.ids.forEach((id, j) => {
      const li = document.createElement('li');
      const c = document.createElement('canvas');
      c.className = 'pixels';
      drawGray(c, testImage(id), t.size);
      const name = names[required(t.labels[id], 'test label')];
      c.setAttribute('role', 'img');
      c.setAttribute('aria-label', `test image ${id}, ${name}`);
      li.append(c, `#${id} ${name} · d=${r.distances[j]}`);
      list.append(li);
    });
    $('search-info').textContent = `8 nearest of ${t.count} test images by Hamming distance (of ${r.bits} bits) in ${r.ms.toFixed(0)} ms.`;
  } catch (err) {
    $('search-info').textContent = describe(err);
  }
}
async function searchFile(file: File): Promise<void> {
  try {
    await runSearch(await decodeToGray(file));
  } catch (err) {
    $('search-info').textContent = `Could not read ${file.name}: ${(err as Error).message}`;
  }
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void searchFile(file);
});
$<HTMLInputElement>('search-file').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void searchFile(file);
});
$('search-test').addEventListener('click', () => {
  const i = Number($<HTMLInputElement>('search-index').value) || 0;
  const { size } = loadedTestSet();
  void runSearch({ width: size, height: size, gray: new Uint8Array(testImage(i)) });
});

// ---- start ----
const base = new URL('.', location.href);
worker.postMessage({
  type: 'init',
  modelUrl: new URL('models/fashion-mnist', base).href,
  wasmPaths: new URL('ort/', base).href,
  indexUrl: new URL('data/test-index.bigrhash', base).href,
  backend,
  ...(threadsParam ? { threads: Number(threadsParam) } : {}),
} as Request);

Promise.all([ready, loadTestSet(new URL('data/', base).href)])
  .then(([info, set]) => {
    testSet = set;
    const select = $<HTMLSelectElement>('gen-class');
    select.replaceChildren(...info.classNames.map((name, i) => new Option(name, String(i))));
    select.disabled = false;
    for (const id of ['gen-run', 'inp-run', 'search-test']) $<HTMLButtonElement>(id).disabled = false;
    $('engine').textContent =
      `${info.engine}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${info.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
    showInpaintImage();
    presetMask((x, y, s) => Math.abs(x - s / 2 + 0.5) < s / 4 && Math.abs(y - s / 2 + 0.5) < s / 4);
    setStatus(
      `Ready: model loaded in ${(info.loadMs / 1000).toFixed(1)} s on ${info.engine} (${info.threads} thread${info.threads === 1 ? '' : 's'}); ` +
        `${info.indexSize} test codes indexed.`,
    );
  })
  .catch((err: Error) => setStatus(`Could not start: ${err.message}`, 'error'));
