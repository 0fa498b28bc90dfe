import { ConfigError } from './errors.js';
import { required } from './invariants.js';

/** Gradients by parameter name (as {@link GradientResult.grads}) or as a plain list. */
export type GradientSet = ReadonlyMap<string, Float32Array> | readonly Float32Array[];

function arrays(grads: GradientSet): Iterable<Float32Array> {
  return Array.isArray(grads) ? grads : (grads as ReadonlyMap<string, Float32Array>).values();
}

/** Global L2 norm √(Σ g²) over all gradients, accumulated in float64. */
export function gradNorm(grads: GradientSet): number {
  let sq = 0;
  for (const g of arrays(grads)) {
    for (let i = 0; i < g.length; i++) {
      const v = required(g[i], 'gradient element');
      sq += v * v;
    }
  }
  return Math.sqrt(sq);
}

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Throw a ConfigError when the norm is NaN or infinite (PyTorch's `error_if_nonfinite`). Default false. */
  readonly errorIfNonfinite?: boolean;
}

/**
 * Clips gradients in place by their global L2 norm, like `torch.nn.utils.clip_grad_norm_`: with
 * coef = maxNorm / (norm + 1e-6), every gradient is multiplied by coef when coef < 1. Returns the norm before
 * clipping. A non-finite norm leaves the gradients untouched (callers usually skip such a step) unless
 * `errorIfNonfinite` is set.
 */
export function clipGradNorm(grads: GradientSet, maxNorm: number, options: ClipGradNormOptions = {}): number {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new ConfigError(`clipGradNorm maxNorm is ${maxNorm}; expected a finite number > 0 (BiGR uses 1.0).`);
  }
  const norm = gradNorm(grads);
  if (!Number.isFinite(norm)) {
    if (options.errorIfNonfinite) {
      throw new ConfigError(`The total gradient norm is ${norm}, so the gradients cannot be clipped. Lower the learning rate or check the loss for NaN/Inf.`);
    }
    return norm;
  }
  // torch.nn.utils.clip_grad_norm_ computes the coefficient as a float32 tensor: max_norm / (norm + 1e-6), clamped at 1.
  const coef = Math.fround(maxNorm / Math.fround(Math.fround(norm) + Math.fround(1e-6)));
  if (coef < 1) {
    for (const g of arrays(grads)) for (let i = 0; i < g.length; i++) g[i] = required(g[i], 'gradient element') * coef;
  }
  return norm;
}
