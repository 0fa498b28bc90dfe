/**
 * Image sources: a known number of uint8 NHWC images delivered in batches, e.g. `arr_0` of an ADM `.npz`
 * streamed from disk, an in-memory tensor, or a generator feeding samples straight from a model.
 */
import { ConfigError, CpuTensor, dims4, FormatError, ShapeError, throwIfAborted, type Tensor } from '@bigr/core';
import type { NpzReader } from '../io/npz.js';

/** A finite, re-iterable (unless documented otherwise) set of uint8 NHWC images. */
export interface ImageSource {
  /** Number of images. */
  readonly count: number;
  /** Yields uint8 [b, H, W, C] batches with b ≤ batchSize, covering all images in order. */
  batches(batchSize: number, options?: { signal?: AbortSignal }): AsyncIterable<Tensor<'uint8'>>;
}

/** Streams a uint8 (N, H, W, C) array (default `arr_0`) from an open `.npz`; the first axis is never loaded whole. */
export async function npzImageSource(npz: NpzReader, name = 'arr_0'): Promise<ImageSource> {
  const header = await npz.header(name);
  if (header.dtype !== 'uint8' || header.shape.length !== 4) {
    throw new FormatError(
      `${npz.path}: ${name} has dtype ${header.dtype} and shape (${header.shape.join(', ')}); images must be uint8 (N, H, W, C) as in ADM sample batches.`,
    );
  }
  const [count] = dims4(header.shape, `${npz.path}: ${name}`);
  return {
    count,
    async *batches(batchSize, options = {}) {
      for await (const b of npz.batches(name, batchSize, options)) yield new CpuTensor(b.data as Uint8Array, b.shape);
    },
  };
}

/** Serves an in-memory uint8 NHWC tensor in batches (views, no copies). */
export function tensorImageSource(images: Tensor): ImageSource {
  if (images.dtype !== 'uint8' || images.shape.length !== 4) {
    throw new ShapeError(`tensorImageSource: images have dtype ${images.dtype} and shape [${images.shape.join(', ')}]; expected uint8 [N, H, W, C].`);
  }
  const [n, h, w, c] = dims4(images.shape, 'tensorImageSource images');
  const per = h * w * c;
  return {
    count: n,
    async *batches(batchSize, options = {}) {
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize ${batchSize} must be a positive integer.`);
      for (let i = 0; i < n; i += batchSize) {
        throwIfAborted(options.signal, 'image iteration');
        const b = Math.min(batchSize, n - i);
        yield new CpuTensor((images.data as Uint8Array).subarray(i * per, (i + b) * per), [b, h, w, c]);
      }
    },
  };
}

/**
 * Wraps a one-shot async stream of uint8 NHWC batches (any batch sizes) of `count` images in total, e.g. images
 * produced by a sampler. It can be iterated once; the batchSize argument is ignored.
 */
export function streamImageSource(count: number, stream: AsyncIterable<Tensor<'uint8'>>): ImageSource {
  let used = false;
  return {
    count,
    async *batches(_batchSize, options = {}) {
      if (used) throw new ConfigError('streamImageSource can be iterated only once.');
      used = true;
      let seen = 0;
      for await (const b of stream) {
        throwIfAborted(options.signal, 'image iteration');
        seen += dims4(b.shape, 'streamImageSource batch')[0];
        if (seen > count) throw new ShapeError(`streamImageSource: the stream delivered more than the declared ${count} images.`);
        yield b;
      }
      if (seen !== count) throw new ShapeError(`streamImageSource: the stream delivered ${seen} images but ${count} were declared.`);
    },
  };
}
