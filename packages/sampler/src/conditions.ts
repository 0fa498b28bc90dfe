/**
 * Helpers for the core {@link Condition} union: batch size, construction and "is this unconditional?" checks.
 */
import { ConfigError, CpuTensor, dims2 } from '@bigr/core';
import type { Condition } from '@bigr/core';

/** Number of samples a condition describes (labels, embedding rows or interpolation pairs). */
export function conditionBatchSize(condition: Condition): number {
  switch (condition.kind) {
    case 'class':
      return condition.labels.length;
    case 'embedding':
      if (condition.vectors.shape.length !== 2) {
        throw new ConfigError(`Embedding condition has shape [${condition.vectors.shape.join(', ')}]; expected [B, D]. Pass one embedding row per sample.`);
      }
      return dims2(condition.vectors.shape, 'embedding condition')[0];
    case 'interpolate':
      if (condition.a.length !== condition.b.length) {
        throw new ConfigError(
          `Interpolation condition has ${condition.a.length} first classes but ${condition.b.length} second classes; pass one pair per sample.`,
        );
      }
      return condition.a.length;
  }
}

/** A class condition for `labels` (one per sample). */
export function classCondition(labels: ArrayLike<number>): Condition {
  return { kind: 'class', labels: Int32Array.from(labels) };
}

/** The unconditional condition (the null class) for `batch` samples. */
export function unconditional(batch: number, nullClass: number): Condition {
  return { kind: 'class', labels: new Int32Array(batch).fill(nullClass) };
}

/** Weighted mixture of two classes per sample (docs/algorithm.md §8.2): `w·Emb[a] + (1−w)·Emb[b]`. */
export function interpolationCondition(a: ArrayLike<number>, b: ArrayLike<number>, weight: number): Condition {
  if (!Number.isFinite(weight)) throw new ConfigError(`Interpolation weight ${weight} is not finite; pass a number such as 0.5.`);
  return { kind: 'interpolate', a: Int32Array.from(a), b: Int32Array.from(b), weight };
}

function allEqual(labels: Int32Array, value: number): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i] !== value) return false;
  return true;
}

/**
 * True when every sample is conditioned on the null class, so the conditional and unconditional branches are
 * identical and classifier-free guidance has no effect (inpainting, outpainting and enrichment, docs/algorithm.md §8).
 * Interpolations count when both classes are null, or when the weight puts everything on a null class.
 */
export function isUnconditional(condition: Condition, nullClass: number): boolean {
  switch (condition.kind) {
    case 'class':
      return allEqual(condition.labels, nullClass);
    case 'embedding':
      return false;
    case 'interpolate': {
      const aNull = allEqual(condition.a, nullClass);
      const bNull = allEqual(condition.b, nullClass);
      return (aNull && bNull) || (aNull && condition.weight === 1) || (bNull && condition.weight === 0);
    }
  }
}

/** Copies a condition while repeating each sample `times` times in a row (sample-major), e.g. 1 image → 8 samples. */
export function repeatCondition(condition: Condition, times: number): Condition {
  if (times === 1) return condition;
  const rep = (x: Int32Array): Int32Array => {
    const out = new Int32Array(x.length * times);
    for (const [i, v] of x.entries()) out.fill(v, i * times, (i + 1) * times);
    return out;
  };
  switch (condition.kind) {
    case 'class':
      return { kind: 'class', labels: rep(condition.labels) };
    case 'interpolate':
      return { kind: 'interpolate', a: rep(condition.a), b: rep(condition.b), weight: condition.weight };
    case 'embedding': {
      const [b, d] = condition.vectors.shape as [number, number];
      const src = condition.vectors.data;
      const out = new Float32Array(b * times * d);
      for (let i = 0; i < b; i++) for (let t = 0; t < times; t++) out.set(src.subarray(i * d, (i + 1) * d), (i * times + t) * d);
      return { kind: 'embedding', vectors: new CpuTensor(out, [b * times, d]) };
    }
  }
}
