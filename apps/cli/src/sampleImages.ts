import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ConfigError, CpuTensor, dims3, dims4, FormatError, NotFoundError, parseJsonBounded, pathExists, required } from '@bigr/core';
import { legacySidecarPath, sidecarPath as sidecarPathOf } from './outputs.js';
import { NpzReader } from '@bigr/eval';
import { IMAGE_EXTENSIONS, loadRaster } from '@bigr/tokenizer';

/** Images to evaluate: uint8 grayscale NHWC at the evaluation network's size. */
export interface SampleSet {
  /** uint8 [N, S, S, 1]. */
  readonly images: CpuTensor<'uint8'>;
  /** How they were read. */
  readonly format: 'png-folder' | 'npz' | 'png-grid';
  /** Border removed from every side (e.g. 2 for 32×32 samples of a padded model), 0 if none. */
  readonly cropped: number;
}

/**
 * Brings [n, h, w, c] uint8 images to [n, size, size, 1]: channels averaged (rounded) to gray, and a centred border of
 * (h − size)/2 removed when the images are larger by an even margin (generated 32×32 Fashion-MNIST samples are the
 * 28×28 image padded by 2). Any other size is an error: the evaluation network never resizes.
 */
export function toEvalSize(
  data: Uint8Array,
  n: number,
  h: number,
  w: number,
  c: number,
  size: number,
  what: string,
): { images: CpuTensor<'uint8'>; cropped: number } {
  if (h !== w || h < size || (h - size) % 2 !== 0) {
    throw new ConfigError(
      `${what} has ${h}×${w} images; the evaluation network takes ${size}×${size} ` +
        `(or ${size + 4}×${size + 4} padded samples, centre-cropped) and never resizes.`,
    );
  }
  const m = (h - size) / 2;
  const out = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let s = 0;
        const o = ((i * h + y + m) * w + x + m) * c;
        for (let ch = 0; ch < c; ch++) s += required(data[o + ch], 'pixel');
        out[(i * size + y) * size + x] = c === 1 ? s : Math.round(s / c);
      }
    }
  }
  return { images: new CpuTensor(out, [n, size, size, 1]), cropped: m };
}

async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries
    .map((e) => String(e))
    .filter((e) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(e).toLowerCase()))
    .sort()
    .map((e) => join(dir, e));
}

async function fromFolder(dir: string, size: number, limit: number): Promise<SampleSet> {
  let files = await listImages(dir);
  if (files.length === 0)
    throw new NotFoundError(
      `${dir} contains no images (${IMAGE_EXTENSIONS.join(', ')}). Pass a folder of samples, a .npz (arr_0) or a grid PNG from \`bigr generate\`.`,
    );
  if (limit > 0) files = files.slice(0, limit);
  const firstFile = required(files[0], 'first sample file');
  const first = await loadRaster(firstFile, { channels: 1 });
  const { height: h, width: w } = first;
  const data = new Uint8Array(files.length * h * w);
  for (const [i, file] of files.entries()) {
    const r = i === 0 ? first : await loadRaster(file, { channels: 1 });
    if (r.width !== w || r.height !== h)
      throw new FormatError(`${file} is ${r.width}×${r.height} but ${firstFile} is ${w}×${h}; all samples must have one size.`);
    data.set(r.data, i * h * w);
  }
  const { images, cropped } = toEvalSize(data, files.length, h, w, 1, size, dir);
  return { images, format: 'png-folder', cropped };
}

async function fromNpz(path: string, size: number, limit: number): Promise<SampleSet> {
  const npz = await NpzReader.open(path);
  try {
    if (!npz.has('arr_0'))
      throw new FormatError(`${path} has no arr_0 (arrays: ${npz.names.join(', ')}); sample batches store uint8 images (N, H, W[, C]) there.`);
    const a = await npz.read('arr_0');
    if (a.dtype !== 'uint8' || (a.shape.length !== 3 && a.shape.length !== 4)) {
      throw new FormatError(`${path}: arr_0 is ${a.dtype} (${a.shape.join(', ')}); expected uint8 (N, H, W) or (N, H, W, C) images.`);
    }
    const nhwc: [number, number, number, number] = a.shape.length === 4 ? dims4(a.shape, `${path}: arr_0`) : [...dims3(a.shape, `${path}: arr_0`), 1];
    const [n0, h, w, c] = nhwc;
    const n = limit > 0 ? Math.min(limit, n0) : n0;
    const { images, cropped } = toEvalSize((a.data as Uint8Array).subarray(0, n * h * w * c), n, h, w, c, size, path);
    return { images, format: 'npz', cropped };
  } finally {
    await npz.close();
  }
}

async function fromGrid(path: string, size: number, limit: number): Promise<SampleSet> {
  // `grid.png.json` (since 0.2), or `grid.json` as older versions named it.
  const sidecarPath = (await pathExists(sidecarPathOf(path))) ? sidecarPathOf(path) : legacySidecarPath(path);
  let sidecar: { labels?: unknown; config?: { cols?: unknown; n?: unknown } };
  try {
    if ((await stat(sidecarPath)).size > 64 * 1024 * 1024) throw new Error('too large');
    sidecar = parseJsonBounded(await readFile(sidecarPath, 'utf8'), { source: sidecarPath }) as typeof sidecar;
    if (typeof sidecar !== 'object' || sidecar === null) throw new Error('not an object');
  } catch {
    throw new NotFoundError(
      `${path} is a single image; reading it as a sample grid needs the ${sidecarPath} sidecar written by \`bigr generate\`. ` +
        `Pass a folder of PNGs or a .npz instead.`,
    );
  }
  const n0 = Array.isArray(sidecar.labels) ? sidecar.labels.length : Number(sidecar.config?.n);
  const cols0 = Number(sidecar.config?.cols);
  if (!(n0 > 0)) throw new FormatError(`${sidecarPath} records no sample count (labels / config.n).`);
  const cols = cols0 > 0 ? cols0 : Math.ceil(Math.sqrt(n0));
  const rows = Math.ceil(n0 / cols);
  const img = await loadRaster(path, { channels: 1 });
  const pad = 2;
  const tw = (img.width + pad) / cols - pad;
  const th = (img.height + pad) / rows - pad;
  if (!Number.isInteger(tw) || !Number.isInteger(th))
    throw new FormatError(`${path} is ${img.width}×${img.height}, which is not a ${rows}×${cols} grid with ${pad}-pixel gaps.`);
  const n = limit > 0 ? Math.min(limit, n0) : n0;
  const data = new Uint8Array(n * th * tw);
  for (let i = 0; i < n; i++) {
    const oy = Math.floor(i / cols) * (th + pad);
    const ox = (i % cols) * (tw + pad);
    for (let y = 0; y < th; y++) data.set(img.data.subarray((oy + y) * img.width + ox, (oy + y) * img.width + ox + tw), (i * th + y) * tw);
  }
  const { images, cropped } = toEvalSize(data, n, th, tw, 1, size, path);
  return { images, format: 'png-grid', cropped };
}

/** Reads samples from a folder of images, an ADM-style `.npz` (arr_0) or a grid PNG with its `bigr generate` sidecar. */
export async function loadSampleSet(path: string, size: number, limit = 0): Promise<SampleSet> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch {
    throw new NotFoundError(`--samples ${path} does not exist.`);
  }
  if (s.isDirectory()) return fromFolder(path, size, limit);
  if (path.toLowerCase().endsWith('.npz')) return fromNpz(path, size, limit);
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase())) return fromGrid(path, size, limit);
  throw new ConfigError(`--samples ${path} is neither a folder, a .npz nor an image grid.`);
}
