import { join } from 'node:path';
import { ConfigError, CpuTensor, dims4, ShapeError, permutation, required, type Rng, type Tensor, pathExists } from '@bigr/core';
import { quantizeUnitToUint8 } from '@bigr/eval';
import { FASHION_MNIST_PAD } from '@bigr/tokenizer';
import { unpadImages } from '@bigr/pipeline';
import { DEBIAN_FASHION_MNIST, loadDataset } from './datasets.js';

/** True when `source` (as accepted by `loadDataset`) is a directory of MNIST-style IDX files for `split`. */
export async function isIdxDataset(source: string, split: 'train' | 'test'): Promise<boolean> {
  const dir = source === 'fashion-mnist' ? DEBIAN_FASHION_MNIST : source;
  const prefix = split === 'test' ? 't10k' : 'train';
  return (await pathExists(join(dir, `${prefix}-images-idx3-ubyte.gz`))) || (await pathExists(join(dir, `${prefix}-images-idx3-ubyte`)));
}

/** Zero padding `loadDataset` adds to the images of `source` (2 for IDX files: 28 → 32, else 0). */
export async function datasetPad(source: string, split: 'train' | 'test'): Promise<number> {
  return (await isIdxDataset(source, split)) ? FASHION_MNIST_PAD : 0;
}

/**
 * Float images [N, C, H, W] in [0, 1] (tokenizer/decoder convention) → grayscale uint8 NHWC [N, H, W, 1] with the
 * docs/evaluation.md §1.1 rule (x is mapped to 2x − 1 and quantised by `quantizeUnitToUint8`, i.e. round(255·clamp(x)) half up).
 * RGB inputs are averaged to one channel first.
 */
export function unitImagesToUint8(images: Tensor<'float32'>): CpuTensor<'uint8'> {
  if (images.shape.length !== 4) throw new ShapeError(`Images have shape [${images.shape.join(', ')}]; expected [N, C, H, W].`);
  const [n, c, h, w] = dims4(images.shape, 'images');
  const src = images.data;
  const out = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < h * w; p++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += required(src[(i * c + ch) * h * w + p], 'pixel');
      const x = c === 1 ? s : Math.fround(s / c);
      out[i * h * w + p] = Number.isNaN(x) ? 0 : quantizeUnitToUint8(Math.fround(Math.fround(2 * x) - 1));
    }
  }
  return new CpuTensor(out, [n, h, w, 1]);
}

/** A labelled split as uint8 NHWC grayscale images of the evaluation network's size (no resizing). */
export interface Uint8Split {
  /** uint8 [N, S, S, 1]. */
  readonly images: CpuTensor<'uint8'>;
  /** Class per image. */
  readonly labels: Int32Array;
  /** Class names. */
  readonly classNames: readonly string[];
}

/**
 * Loads a split at the size the evaluation network takes: IDX images are the raw 28×28 bytes (the 32×32 padding of
 * `loadDataset` is removed again); an image folder is loaded at `imageSize` (its own center-crop rule).
 */
export async function loadUint8Split(source: string, split: 'train' | 'test', imageSize: number, options: { limit?: number } = {}): Promise<Uint8Split> {
  const pad = await datasetPad(source, split);
  const data = await loadDataset(source, split, { channels: 1, imageSize: imageSize + 2 * pad, ...(options.limit ? { limit: options.limit } : {}) });
  const images = unpadImages(data.images, pad);
  const [n, , h, w] = dims4(images.shape, 'images');
  if (h !== imageSize || w !== imageSize) {
    throw new ShapeError(`${source} (${split}) has ${h}×${w} images; the evaluation network takes ${imageSize}×${imageSize} without resizing.`);
  }
  const u8 = new Uint8Array(n * h * w);
  for (let i = 0; i < u8.length; i++) u8[i] = Math.round(required(images.data[i], 'pixel') * 255);
  return { images: new CpuTensor(u8, [n, h, w, 1]), labels: data.labels, classNames: data.classNames };
}

/** A uniformly random permutation of 0…n−1 (the core Fisher–Yates). */
export { permutation };

/** n class labels, ⌊n/C⌋ per class (the first n mod C classes get one more), in random order (docs/evaluation.md §9.2). */
export function balancedLabels(n: number, classes: number, rng: Rng): Int32Array {
  // Position j of the unshuffled list holds class j mod C.
  return Int32Array.from(permutation(n, rng), (j) => j % classes);
}

/** Indices of a class-balanced random sample of size n from `labels` (⌊n/C⌋ per class, remainder to the first classes). */
export function classBalancedSample(labels: Int32Array, n: number, classes: number, rng: Rng): Int32Array {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[required(labels[i], 'label')]?.push(i);
  const out: number[] = [];
  for (const [c, pool] of byClass.entries()) {
    const want = Math.floor(n / classes) + (c < n % classes ? 1 : 0);
    if (pool.length < want) throw new ConfigError(`Class ${c} has only ${pool.length} images; a class-balanced sample of ${n} needs ${want}. Lower --n.`);
    const order = permutation(pool.length, rng.fork(`class-${c}`));
    for (const k of order.slice(0, want)) out.push(required(pool[k], 'image of the class'));
  }
  const shuffled = permutation(out.length, rng.fork('order'));
  return Int32Array.from(shuffled, (j) => required(out[j], 'sampled image'));
}

/** Rows `indices` of a uint8 NHWC batch. */
export function gatherUint8(images: Tensor<'uint8'>, indices: ArrayLike<number>): CpuTensor<'uint8'> {
  const [, h, w, c] = dims4(images.shape, 'images [N, H, W, C]');
  const per = h * w * c;
  const out = new Uint8Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) {
    const row = required(indices[i], 'row index');
    out.set(images.data.subarray(row * per, (row + 1) * per), i * per);
  }
  return new CpuTensor(out, [indices.length, h, w, c]);
}

/** Rows `indices` of a row-major [n, dim] matrix. */
export function gatherRows(data: Float32Array, dim: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) {
    const row = required(indices[i], 'row index');
    out.set(data.subarray(row * dim, (row + 1) * dim), i * dim);
  }
  return out;
}
