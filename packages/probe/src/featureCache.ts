import { existsSync } from 'node:fs';
import { CpuTensor, dims2, ShapeError, readSafetensors, throwIfAborted, writeSafetensors, type LongRunningOptions } from '@bigr/core';

/** Any model that maps a batch of inputs to one feature vector per input ([b, dim]). */
export type FeatureFunction<I> = (batch: readonly I[]) => Promise<CpuTensor<'float32'>>;

/** Options of {@link extractFeatures}. */
export interface ExtractFeaturesOptions extends LongRunningOptions {
  /** Inputs per call. Default 64. */
  batchSize?: number;
}

/**
 * Runs `fn` over `inputs` in batches and concatenates the rows into one [n, dim] array. Works for our
 * backbone (layer features) or any function image → vector.
 */
export async function extractFeatures<I>(
  inputs: readonly I[],
  fn: FeatureFunction<I>,
  options: ExtractFeaturesOptions = {},
): Promise<{ features: Float32Array; dim: number }> {
  const batchSize = options.batchSize ?? 64;
  let out: Float32Array | null = null;
  let dim = 0;
  for (let start = 0; start < inputs.length; start += batchSize) {
    throwIfAborted(options.signal, 'feature extraction');
    const batch = inputs.slice(start, start + batchSize);
    const f = await fn(batch);
    if (f.shape.length !== 2 || f.shape[0] !== batch.length) {
      throw new ShapeError(`The feature function returned shape [${f.shape.join(', ')}] for ${batch.length} inputs; expected [${batch.length}, dim].`);
    }
    const [, width] = dims2(f.shape, 'feature batch');
    if (out === null) {
      dim = width;
      out = new Float32Array(inputs.length * dim);
    } else if (width !== dim) {
      throw new ShapeError(`Feature width changed from ${dim} to ${width} between batches; the function must return a fixed width.`);
    }
    out.set(f.data, start * dim);
    options.onProgress?.({ task: 'features', current: Math.min(start + batchSize, inputs.length), total: inputs.length });
  }
  return { features: out ?? new Float32Array(0), dim };
}

/**
 * Returns cached features from a safetensors file when its `key` metadata matches, otherwise computes them
 * with `compute` and caches them (atomic write), so a probe can be re-run without the model.
 */
export async function cachedFeatures(
  path: string,
  key: string,
  compute: () => Promise<{ features: Float32Array; labels: Int32Array; dim: number }>,
): Promise<{ features: Float32Array; labels: Int32Array; dim: number; fromCache: boolean }> {
  if (existsSync(path)) {
    const { tensors, metadata } = await readSafetensors(path);
    const f = tensors.get('features');
    const l = tensors.get('labels');
    if (metadata['key'] === key && f && l && f.dtype === 'float32' && l.dtype === 'int32') {
      return { features: f.data as Float32Array, labels: l.data as Int32Array, dim: dims2(f.shape, `${path}: features`)[1], fromCache: true };
    }
  }
  const r = await compute();
  const n = r.labels.length;
  await writeSafetensors(
    path,
    new Map([
      ['features', new CpuTensor(r.features, [n, r.dim])],
      ['labels', new CpuTensor(r.labels, [n])],
    ]),
    { key },
  );
  return { ...r, fromCache: false };
}
