import { required, ShapeError, type Ops, type Rng } from '@bigr/core';
import { conv2dLayer } from './conv.js';

/** How probabilities become bits (docs/algorithm.md §1.4): `'bernoulli'` samples b ~ B(p) (official), `'threshold'` is 1[p > 0.5]. */
export type CodeMode = 'bernoulli' | 'threshold';

/** Parameter names of the quantizer (docs/algorithm.md §10.2). */
export const QUANTIZER_PARAMS = {
  projWeight: 'quantize.proj.0.weight',
  projBias: 'quantize.proj.0.bias',
  embed: 'quantize.embed.weight',
} as const;

/**
 * Code probabilities p = σ(conv1×1(h)) with `quantize.proj.0` (the official `proj` is Conv2d + Sigmoid):
 * features [B, embDim, h, w] → [B, K, h, w] in (0, 1).
 */
export function codeProbabilities<T>(ops: Ops<T>, features: T): T {
  return ops.sigmoid(conv2dLayer(ops, features, 'quantize.proj.0', 1, [0, 0, 0, 0]));
}

/**
 * The embedding back to the decoder, quant = einsum('bnhw,nd->bdhw', z, E) with E = `quantize.embed.weight`
 * (K, embDim): codes [B, K, h, w] (bits, or the straight-through value) → [B, embDim, h, w]. Implemented as a
 * bias-free 1×1 convolution with weight Eᵀ.
 */
export function embedCodes<T>(ops: Ops<T>, codes: T, codeDim: number, embDim: number): T {
  const w = ops.reshape(ops.transpose(ops.param(QUANTIZER_PARAMS.embed), [1, 0]), [embDim, codeDim, 1, 1]);
  return ops.conv2d(codes, w, null, { strides: 1, pads: [0, 0, 0, 0] });
}

/** Latent [B, K, h, w] → token layout [B, N = h·w, K] (docs/algorithm.md §0), inside a graph. */
export function latentToTokens<T>(ops: Ops<T>, latent: T, codeDim: number, grid: readonly [number, number]): T {
  return ops.transpose(ops.reshape(latent, [-1, codeDim, grid[0] * grid[1]]), [0, 2, 1]);
}

/** Token layout [B, N, K] → latent [B, K, h, w], inside a graph. */
export function tokensToLatent<T>(ops: Ops<T>, tokens: T, codeDim: number, grid: readonly [number, number]): T {
  return ops.reshape(ops.transpose(tokens, [0, 2, 1]), [-1, codeDim, grid[0], grid[1]]);
}

/**
 * Binarises probabilities on the CPU. `'threshold'`: b = 1[p > 0.5]. `'bernoulli'`: one float32 uniform u per
 * element in C order from `rng.uniformsF32` and b = 1[u < p] (the fixture replay convention, so recorded
 * uniforms replay the official `torch.bernoulli` bit-exactly). Bernoulli needs an `rng`.
 */
export function binarize(probabilities: Float32Array, mode: CodeMode, rng?: Rng): Uint8Array {
  const out = new Uint8Array(probabilities.length);
  if (mode === 'threshold') {
    for (let i = 0; i < probabilities.length; i++) out[i] = required(probabilities[i], 'probability') > 0.5 ? 1 : 0;
    return out;
  }
  if (mode !== 'bernoulli') throw new ShapeError(`Unknown code mode "${String(mode)}"; use 'bernoulli' (official) or 'threshold'.`);
  if (!rng) throw new ShapeError("Code mode 'bernoulli' needs an Rng (options.rng); pass createRng(seed) or use mode 'threshold'.");
  const u = rng.uniformsF32(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) out[i] = required(u[i], 'uniform') < required(probabilities[i], 'probability') ? 1 : 0;
  return out;
}

/**
 * Straight-through estimator z = b + p − stopgrad(p) (docs/algorithm.md §1.4). Ops has no stop-gradient, so the caller
 * feeds `offset` = b − p₀ as a constant, where p₀ are the probabilities of a gradient-free forward pass with the
 * same parameters (p₀ = p up to float rounding). Then z = p + offset has the value b and dz/dp = 1.
 */
export function straightThroughOffset(bits: Uint8Array, probabilities: Float32Array): Float32Array {
  if (bits.length !== probabilities.length) {
    throw new ShapeError(`straightThroughOffset: ${bits.length} bits but ${probabilities.length} probabilities; they must match element for element.`);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = required(bits[i], 'bit') - required(probabilities[i], 'probability');
  return out;
}

/**
 * Code regulariser of docs/algorithm.md §1.6, mean(σ(p)(1 − σ(p))) on probabilities p. The official code applies the
 * sigmoid a second time (QUIRK, `doubleSigmoid: true`, the default here for fidelity); with `doubleSigmoid: false`
 * it is mean(p(1 − p)), which actually pushes p towards 0 or 1.
 */
export function codeRegulariser<T>(ops: Ops<T>, probabilities: T, doubleSigmoid: boolean, axes: readonly number[]): T {
  const s = doubleSigmoid ? ops.sigmoid(probabilities) : probabilities;
  return ops.mean(ops.mul(s, ops.sub(ops.scalar(1), s)), axes, false);
}
