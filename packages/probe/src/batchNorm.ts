/**
 * BatchNorm1d without affine parameters (docs/evaluation.md §8.2): training mode normalises with the batch mean and
 * biased variance and updates running statistics (running variance from the unbiased batch variance);
 * eval mode uses the running statistics.
 */
export class BatchNormNoAffine {
  readonly runningMean: Float64Array;
  readonly runningVar: Float64Array;

  /** `dim` features, ε (default 1e-6, MAE) and momentum (default 0.1, PyTorch). */
  constructor(readonly dim: number, readonly eps = 1e-6, readonly momentum = 0.1) {
    this.runningMean = new Float64Array(dim);
    this.runningVar = new Float64Array(dim).fill(1);
  }

  /** Normalises rows [n, dim] in training mode (updates running stats); returns a new array. */
  forwardTrain(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    const mean = new Float64Array(d);
    const varB = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j]! /= n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const c = x[i * d + j]! - mean[j]!;
        varB[j]! += c * c;
      }
    }
    const out = new Float32Array(n * d);
    for (let j = 0; j < d; j++) {
      const biased = varB[j]! / n;
      const unbiased = n > 1 ? varB[j]! / (n - 1) : biased;
      this.runningMean[j] = (1 - this.momentum) * this.runningMean[j]! + this.momentum * mean[j]!;
      this.runningVar[j] = (1 - this.momentum) * this.runningVar[j]! + this.momentum * unbiased;
      varB[j] = 1 / Math.sqrt(biased + this.eps);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j]! - mean[j]!) * varB[j]!;
    return out;
  }

  /** Normalises rows [n, dim] with the running statistics. */
  forwardEval(x: Float32Array, n: number): Float32Array {
    const d = this.dim;
    const inv = new Float64Array(d);
    for (let j = 0; j < d; j++) inv[j] = 1 / Math.sqrt(this.runningVar[j]! + this.eps);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j]! - this.runningMean[j]!) * inv[j]!;
    return out;
  }
}
