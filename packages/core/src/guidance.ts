/**
 * Classifier-free guidance of a binary bit head in logit space, after the temperature (docs/algorithm.md §4.3), and
 * the flip-to-bit probability of the XOR target. Float32 arithmetic step by step (`Math.fround`), as the official
 * PyTorch sampler computes it (the scale is a Python float, which PyTorch rounds to float32 for a float32 tensor).
 * One definition for the transcoder, which applies it at every diffusion step, and for predictors and tests.
 */

/** Guided flip logit ℓ = ℓ_u/τ + s·(ℓ_c/τ − ℓ_u/τ). */
export function guidedLogit(condLogit: number, uncondLogit: number, scale: number, temperature = 1): number {
  const f = Math.fround;
  const lc = f(condLogit / temperature);
  const lu = f(uncondLogit / temperature);
  return f(lu + f(f(scale) * f(lc - lu)));
}

/** P(z0 = 1) from the guided flip logit and the current bit x_t (flip targets): q = σ(ℓ), p0 = x ? 1 − q : q. */
export function flipToZeroProbability(guided: number, currentBit: 0 | 1): number {
  const q = Math.fround(1 / (1 + Math.exp(-guided)));
  return currentBit === 1 ? Math.fround(1 - q) : q;
}
