/**
 * Writes an ADM/LlamaGen sample batch (docs/evaluation.md §1.1): an `.npz` whose `arr_0` is uint8 (N, H, W, C) and, when
 * labels are given, `arr_1` int64 (N). Images are streamed from an {@link ImageSource} batch by batch (50,000
 * 256×256 images = 9.8 GB, ZIP64 is used automatically) and the file appears atomically when complete.
 */
import { ConfigError, ShapeError, throwIfAborted, type LongRunningOptions, type Tensor } from '@bigr/core';
import { NpzWriter } from '../io/npz.js';
import type { ImageSource } from './imageSource.js';

/** Options for {@link writeImageBatchNpz}. */
export interface WriteImageBatchOptions extends LongRunningOptions {
  /** Class labels, one per image (written as int64 `arr_1`). */
  labels?: ArrayLike<number>;
  /** Images per batch pulled from the source (default 64). */
  batchSize?: number;
  /** Force ZIP64 structures even for small files. */
  forceZip64?: boolean;
}

/** Streams `images` into `path` as `arr_0` (+ `arr_1` labels). Progress task: `write-samples`. */
export async function writeImageBatchNpz(path: string, images: ImageSource, options: WriteImageBatchOptions = {}): Promise<void> {
  const n = images.count;
  if (options.labels && options.labels.length !== n) {
    throw new ConfigError(`writeImageBatchNpz: ${options.labels.length} labels for ${n} images; pass one label per image.`);
  }
  const it = images.batches(options.batchSize ?? 64, { signal: options.signal })[Symbol.asyncIterator]();
  const first = await it.next();
  const geometry = first.done ? [0, 0, 0] : first.value.shape.slice(1);
  if (!first.done && (first.value.dtype !== 'uint8' || first.value.shape.length !== 4)) {
    throw new ShapeError(`writeImageBatchNpz: batches must be uint8 [b, H, W, C]; got ${first.value.dtype} [${first.value.shape.join(', ')}].`);
  }
  const writer = await NpzWriter.create(path, { zip64: options.forceZip64 ?? false });
  try {
    let written = 0;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let cur: IteratorResult<Tensor<'uint8'>> = first;
      while (!cur.done) {
        const b = cur.value;
        const [count, ...rest] = b.shape;
        if (count === undefined || rest.length !== 3 || rest.some((d, i) => d !== geometry[i])) {
          throw new ShapeError(`writeImageBatchNpz: batch of shape [${b.shape.join(', ')}] does not match the first batch's [*, ${geometry.join(', ')}].`);
        }
        written += count;
        if (written > n) throw new ShapeError(`writeImageBatchNpz: the source delivered more than its declared ${n} images.`);
        yield b.data;
        options.onProgress?.({ task: 'write-samples', current: written, total: n });
        throwIfAborted(options.signal, 'sample batch writing');
        cur = await it.next();
      }
    }
    await writer.addStreamed('arr_0', 'uint8', [n, ...geometry], chunks());
    if (options.labels) await writer.add('arr_1', { dtype: 'int64', shape: [n], data: BigInt64Array.from(Array.from(options.labels, (v) => BigInt(v))) });
    await writer.close();
  } catch (err) {
    await writer.abort();
    await it.return?.();
    throw err;
  }
}
