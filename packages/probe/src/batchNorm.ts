import { required, type Ops } from '@bigr/core';

/**
 * Training-mode BatchNorm without affine parameters as a graph over {@link Ops}: normalises `x` over axis −2 with
 * that axis' mean and *biased* variance, x̂ = (x − μ)/√(σ² + ε). For `x` of shape [batch, dim] this is
 * BatchNorm1d's training forward; for [groups, batch, dim] every group (a gradient-accumulation micro-batch, docs/evaluation.md §8.4)
 * is normalised with its own statistics. Differentiable; running statistics are not touched (see
 * {@link BatchNormNoAffine.updateRunningStats}).
 */
export function batchNormTraining<T>(ops: Ops<T>, x: T, eps: number): T {
  const mean = ops.mean(x, [-2], true);
  const centered = ops.sub(x, mean);
  const variance = ops.mean(ops.square(centered), [-2], true);
  return ops.mul(centered, ops.rsqrt(ops.add(variance, ops.scalar(eps))));
}

/**
 * BatchNorm1d without affine parameters (docs/evaluation.md §8.2): training mode normalises with the batch mean and
 * biased variance and updates running statistics (running variance from the unbiased batch variance);
 * eval mode uses the running statistics.
 */
export class BatchNormNoAffine {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;

  /** `dim` features, ε (default 1e-6, MAE) and momentum (default 0.1, PyTorch). */
  constructor(
    readonly dim: number,
    readonly eps = 1e-6,
    readonly momentum = 0.1,
  ) {
    this.runningMean = new Float64Array(dim);
    this.runningVar = new Float64Array(dim).fill(1);
  }

  /**
   * Updates the running statistics from one training batch of rows [n, dim] (float64): mean ← (1 − m)·mean + m·μ,
   * var ← (1 − m)·var + m·σ²_unbiased, as BatchNorm1d does in training mode. Returns the batch mean and biased
   * variance.
   */
  updateRunningStats(x: Float32Array, n: number): { mean: Float64Array; biasedVar: Float64Array } {
    const d = this.dim;
    const mean = new Float64Array(d);
    const ss = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = required(mean[j], 'mean') + required(x[i * d + j], 'feature');
    for (let j = 0; j < d; j++) mean[j] = required(mean[j], 'mean') / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const c = required(x[i * d + j], 'feature') - required(mean[j], 'mean');
        ss[j] = required(ss[j], 'sum of squares') + c * c;
      }
    }
    const biasedVar = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const sj = required(ss[j], 'sum of squares');
      const bv = sj / n;
      biasedVar[j] = bv;
      const unbiased = n > 1 ? sj / (n - 1) : bv;
      this.runningMean[j] = (1 - this.momentum) * required(this.runningMean[j], 'running mean') + this.momentum * required(mean[j], 'mean');
      this.runningVar[j] = (1 - this.momentum) * required(this.runningVar[j], 'running variance') + this.momentum * unbiased;
    }
    return { mean, biasedVar };
  }

  /** Normalises rows [n, dim] in training mode (updates running stats); returns a new array. */
  forwardTrain(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    const { mean, biasedVar } = this.updateRunningStats(x, n);
    const out = new Float32Array(n * d);
    const inv = Float64Array.from(biasedVar, (v) => 1 / Math.sqrt(v + this.eps));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) out[i * d + j] = (required(x[i * d + j], 'feature') - required(mean[j], 'mean')) * required(inv[j], 'inverse deviation');
    return out;
  }

  /** Normalises rows [n, dim] with the running statistics. */
  forwardEval(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    const inv = new Float64Array(d);
    for (let j = 0; j < d; j++) inv[j] = 1 / Math.sqrt(required(this.runningVar[j], 'running variance') + this.eps);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++)
        out[i * d + j] = (required(x[i * d + j], 'feature') - required(this.runningMean[j], 'running mean')) * required(inv[j], 'inverse deviation');
    return out;
  }
}
