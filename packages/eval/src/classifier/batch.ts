import { required, ConfigError, ShapeError } from '@bigr/core';

/**
 * Float32 copy of images `indices` of a uint8 [n, S·S] array, as the graph input [B, S, S, 1] (raw values
 * 0…255; the graph divides by 255).
 */
export function gatherImages(images: Uint8Array, pixels: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * pixels);
  for (let i = 0; i < indices.length; i++) {
    const src = required(indices[i], 'example index') * pixels;
    out.set(images.subarray(src, src + pixels), i * pixels);
  }
  return out;
}

/** One-hot labels in the batch-last layout [classes, B]. Labels must be integers in [0, classes). */
export function oneHotBatchLast(labels: ArrayLike<number>, indices: ArrayLike<number>, classes: number): Float32Array {
  const b = indices.length;
  const out = new Float32Array(classes * b);
  for (let i = 0; i < b; i++) {
    const index = required(indices[i], 'example index');
    const y = labels[index];
    if (y === undefined || !Number.isInteger(y) || y < 0 || y >= classes) {
      throw new ConfigError(`Label ${y} of example ${index} is outside [0, ${classes}); labels must be class indices 0…${classes - 1}.`);
    }
    out[y * b + i] = 1;
  }
  return out;
}

/** Checks that `images` holds a whole number of S·S images matching `labels`; returns the count. */
export function checkDataset(images: Uint8Array, labels: ArrayLike<number>, imageSize: number): number {
  const pixels = imageSize * imageSize;
  if (images.length % pixels !== 0) {
    throw new ShapeError(
      `images has ${images.length} bytes, not a multiple of ${pixels} (${imageSize}×${imageSize} grayscale). ` +
        `Pass n·${pixels} uint8 pixels, row-major per image.`,
    );
  }
  const n = images.length / pixels;
  if (labels.length !== n) {
    throw new ShapeError(`images holds ${n} images but labels has ${labels.length} entries; pass one label per image.`);
  }
  return n;
}

/** Index of the largest value of each row of a row-major [n, k] array (first on ties). */
export function argmaxRows(values: ArrayLike<number>, k: number): Int32Array {
  const n = Math.floor(values.length / k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (required(values[i * k + j], 'value') > required(values[i * k + best], 'value')) best = j;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows of [n, k] logits whose argmax equals the label. */
export function classificationAccuracy(logits: ArrayLike<number>, k: number, labels: ArrayLike<number>): number {
  const pred = argmaxRows(logits, k);
  if (pred.length !== labels.length) throw new ShapeError(`logits hold ${pred.length} rows of ${k} but there are ${labels.length} labels.`);
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) hit++;
  return pred.length === 0 ? 0 : hit / pred.length;
}
