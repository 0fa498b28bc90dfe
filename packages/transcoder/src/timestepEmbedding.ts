/**
 * Sinusoidal timestep embedding followed by an MLP (DiT `TimestepEmbedder`, docs/algorithm.md §3 step 2):
 * e = [cos(τ·f), sin(τ·f)] (cosine first), f_i = exp(−ln(10000)·i/128), t_emb = Lin₂(SiLU(Lin₁(e))).
 */
import { required, linear } from '@bigr/core';
import type { Ops } from '@bigr/core';
import { TIMESTEP_EMBEDDING_DIM } from './config.js';

const f32 = Math.fround;

/**
 * The float32 frequencies f_i = exp(−ln(maxPeriod)·i/half), i = 0…half−1, rounded like PyTorch's float32 evaluation
 * (the scalar −ln(maxPeriod) is cast to float32 first).
 */
export function timestepFrequencies(dim: number = TIMESTEP_EMBEDDING_DIM, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(half);
  const c = f32(-Math.log(maxPeriod));
  for (let i = 0; i < half; i++) out[i] = Math.exp(f32(f32(c * i) / half));
  return out;
}

/** CPU reference of the sinusoids [cos(τ f), sin(τ f)] for each τ, float32, shape [n, dim] row-major. */
export function timestepSinusoids(tau: ArrayLike<number>, dim: number = TIMESTEP_EMBEDDING_DIM): Float32Array {
  const f = timestepFrequencies(dim);
  const half = f.length;
  const out = new Float32Array(tau.length * 2 * half);
  for (let r = 0; r < tau.length; r++) {
    const t = required(tau[r], 'τ');
    for (let i = 0; i < half; i++) {
      const arg = f32(t * required(f[i], 'frequency'));
      out[r * 2 * half + i] = Math.cos(arg);
      out[r * 2 * half + half + i] = Math.sin(arg);
    }
  }
  return out;
}

/**
 * Timestep embedding layer: `tau` is a float32 tensor of shape [n] holding the integer denoiser times τ = t − 1;
 * returns [n, Dh]. Parameters `${prefix}.t_embedder.mlp.0.*` (Dh×256) and `${prefix}.t_embedder.mlp.2.*` (Dh×Dh).
 */
export function timestepEmbedding<T>(ops: Ops<T>, tau: T, prefix: string): T {
  const f = timestepFrequencies();
  const args = ops.mul(ops.reshape(tau, [-1, 1]), ops.constant(f, [1, f.length]));
  const e = ops.concat([ops.cos(args), ops.sin(args)], 1);
  const h = ops.silu(linear(ops, e, `${prefix}.t_embedder.mlp.0`));
  return linear(ops, h, `${prefix}.t_embedder.mlp.2`);
}
