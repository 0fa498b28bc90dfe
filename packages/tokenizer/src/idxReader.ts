import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CpuTensor, FormatError, NotFoundError, readIdx, required, type IdxLimits } from '@bigr/core';
import { padImages } from './imageIo.js';

// The IDX parser itself lives in @bigr/core (eval's classifier scripts use it too); re-exported here.
export { type IdxDType, type IdxArray, type IdxLimits, isGzip, parseIdx, readIdx } from '@bigr/core';

/** A labelled image set: images [N, C, H, W] float32 in [0, 1] and labels. */
export interface LabelledImages {
  /** Images in [0, 1]. */
  readonly images: CpuTensor<'float32'>;
  /** Class index per image. */
  readonly labels: Int32Array;
  /** Class names, index = label. */
  readonly classNames: readonly string[];
}

/** Fashion-MNIST class names, index = label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

async function findFile(dir: string, base: string): Promise<string> {
  for (const name of [base, `${base}.gz`]) {
    const p = join(dir, name);
    try {
      await access(p);
      return p;
    } catch {
      // try next
    }
  }
  throw new NotFoundError(`Cannot find ${base} or ${base}.gz in ${dir}. Point to the directory holding the (Fashion-)MNIST IDX files.`);
}

/** Options of {@link loadIdxImageSet}. */
export interface LoadIdxImageSetOptions extends IdxLimits {
  /** Keep only the first `limit` images. */
  readonly limit?: number;
  /** Zero padding on each side (2 turns 28×28 into the 32×32 of the `fashion-mnist-32` preset). Default 0. */
  readonly pad?: number;
  /** Class names by label (default {@link FASHION_MNIST_CLASSES}; pass digits for MNIST). */
  readonly classNames?: readonly string[];
}

/**
 * Loads an MNIST-style split from `dir`: `{split}-images-idx3-ubyte[.gz]` and `{split}-labels-idx1-ubyte[.gz]` with
 * split `'train'` or `'t10k'` (alias `'test'`). Images become [N, 1, H, W] in [0, 1] (byte/255), optionally padded.
 */
export async function loadIdxImageSet(dir: string, split: 'train' | 'test' | 't10k', options: LoadIdxImageSetOptions = {}): Promise<LabelledImages> {
  const prefix = split === 'test' ? 't10k' : split;
  if (prefix !== 'train' && prefix !== 't10k') throw new ConfigError(`Unknown split "${String(split)}"; use 'train' or 'test'.`);
  const imgPath = await findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = await findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = await readIdx(imgPath, options);
  const lbl = await readIdx(lblPath, options);
  if (img.dtype !== 'uint8' || img.shape.length !== 3) {
    throw new FormatError(`${imgPath}: expected uint8 images [N, H, W] but found ${img.dtype} [${img.shape.join(', ')}].`);
  }
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1)
    throw new FormatError(`${lblPath}: expected uint8 labels [N] but found ${lbl.dtype} [${lbl.shape.join(', ')}].`);
  if (lbl.shape[0] !== img.shape[0])
    throw new FormatError(`${imgPath} has ${img.shape[0]} images but ${lblPath} has ${lbl.shape[0]} labels; the files do not belong together.`);
  const [total, h, w] = img.shape as [number, number, number];
  const n = options.limit === undefined ? total : Math.min(total, Math.max(0, Math.floor(options.limit)));
  const bytes = img.data as Uint8Array;
  const px = new Float32Array(n * h * w);
  for (let i = 0; i < px.length; i++) px[i] = required(bytes[i], 'pixel byte') / 255;
  const labels = Int32Array.from((lbl.data as Uint8Array).subarray(0, n));
  let images = new CpuTensor<'float32'>(px, [n, 1, h, w]);
  if (options.pad) images = padImages(images, options.pad);
  const classNames = options.classNames ?? FASHION_MNIST_CLASSES;
  const maxLabel = labels.reduce((m, v) => Math.max(m, v), -1);
  if (maxLabel >= classNames.length)
    throw new FormatError(`${lblPath}: label ${maxLabel} has no class name (${classNames.length} names given); pass options.classNames.`);
  return { images, labels, classNames: [...classNames] };
}
