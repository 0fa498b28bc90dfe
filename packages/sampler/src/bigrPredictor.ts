/**
 * BiGR's predictor: backbone features once per call on the batched [cond; uncond] pair, then the binary
 * transcoder only on the token rows the sampler needs (docs/algorithm.md §6, §4.3).
 */
import { ConfigError, CpuTensor, dims3, ShapeError } from '@bigr/core';
import type { BitHeadSampler, Condition, MaskedBitPredictor, PredictRequest, TokenFeatureModel } from '@bigr/core';
import { isUnconditional } from './conditions.js';

function sameData(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Options of {@link createBigrPredictor} (passed to the transcoder). */
export interface BigrPredictorOptions {
  /** Inference diffusion steps S (default: the head's default, 100 in BiGR). */
  readonly steps?: number;
  /** Transcoder temperature τ_s (default: the head's default, 1). */
  readonly temperature?: number;
}

/**
 * Composes a {@link TokenFeatureModel} (backbone) and a {@link BitHeadSampler} (transcoder) into a
 * {@link MaskedBitPredictor}.
 *
 * Work saved compared with the released sampler, without changing the output distribution:
 * - The backbone runs once on [cond; uncond] (`withNull`), and not at all on the null half when guidance cannot
 *   matter: scale 1, or every sample already conditioned on the null class (inpainting, outpainting,
 *   enrichment), where cond = uncond and ℓ_u + s(ℓ_c − ℓ_u) = ℓ_c exactly.
 * - The transcoder runs only on the rows listed in `request.needed` (gathered into a dense [R, D] batch);
 *   other tokens get probability 0.5. The released code denoises every token of every sample, 100 steps × 2
 *   CFG halves, although only the still-masked ones are ever used.
 * - Nothing runs when no token is needed.
 * - The features of the last call are kept: a second call for other tokens of the same state (same bits, mask and
 *   condition object, as the sampler's second candidate stage makes) reuses them instead of re-running the backbone.
 *
 * The transcoder draws its Bernoulli uniforms for the gathered rows only, so a fixed seed gives different (but
 * equally distributed) samples than a run without `needed`.
 */
export function createBigrPredictor(features: TokenFeatureModel, head: BitHeadSampler, options: BigrPredictorOptions = {}): MaskedBitPredictor {
  if (features.bitsPerToken !== head.bitsPerToken) {
    throw new ConfigError(`Backbone has ${features.bitsPerToken} bits per token but the transcoder ${head.bitsPerToken}; load a matching pair of models.`);
  }
  const N = features.tokens;
  const K = features.bitsPerToken;
  const D = features.featureDim;
  let cache: { condition: Condition; withNull: boolean; bits: Float32Array; mask: Uint8Array; features: CpuTensor<'float32'> } | null = null;
  return {
    tokens: N,
    bitsPerToken: K,
    nullClass: features.nullClass,
    async predict(request: PredictRequest): Promise<CpuTensor<'float32'>> {
      const { bits, mask, condition, cfgScale, rng } = request;
      if (bits.shape.length !== 3 || bits.shape[1] !== N || bits.shape[2] !== K) {
        throw new ShapeError(`Predictor bits have shape [${bits.shape.join(', ')}]; expected [B, ${N}, ${K}].`);
      }
      const [B] = dims3(bits.shape, 'predictor bits');
      const needed = request.needed ?? Array.from({ length: B }, () => Int32Array.from({ length: N }, (_, n) => n));
      if (needed.length !== B) throw new ShapeError(`needed lists ${needed.length} samples but the batch has ${B}; pass one index list per sample.`);
      let R = 0;
      for (const list of needed) R += list.length;
      const out = new Float32Array(B * N * K).fill(0.5);
      if (R === 0) return new CpuTensor(out, [B, N, K]);

      const withNull = cfgScale !== 1 && !isUnconditional(condition, features.nullClass);
      let F: CpuTensor<'float32'>;
      if (cache && cache.condition === condition && cache.withNull === withNull && sameData(cache.bits, bits.data) && sameData(cache.mask, mask.data)) {
        F = cache.features;
      } else {
        F = await features.features(bits, mask, condition, withNull);
        cache = { condition, withNull, bits: bits.data.slice(), mask: mask.data.slice(), features: F };
      }
      const rowsF = (withNull ? 2 : 1) * B;
      if (F.shape.length !== 3 || F.shape[0] !== rowsF || F.shape[1] !== N || F.shape[2] !== D) {
        throw new ShapeError(`Backbone features have shape [${F.shape.join(', ')}]; expected [${rowsF}, ${N}, ${D}].`);
      }
      const f = F.data;
      let cond: CpuTensor<'float32'>;
      let uncond: CpuTensor<'float32'> | null = null;
      if (R === B * N && request.needed === undefined) {
        cond = new CpuTensor(f.subarray(0, B * N * D), [R, D]);
        if (withNull) uncond = new CpuTensor(f.subarray(B * N * D), [R, D]);
      } else {
        const c = new Float32Array(R * D);
        const u = withNull ? new Float32Array(R * D) : null;
        let r = 0;
        for (const [b, list] of needed.entries()) {
          for (const n of list) {
            if (n < 0 || n >= N) throw new ShapeError(`needed token index ${n} of sample ${b} is outside [0, ${N}).`);
            const src = (b * N + n) * D;
            c.set(f.subarray(src, src + D), r * D);
            if (u) u.set(f.subarray(B * N * D + src, B * N * D + src + D), r * D);
            r++;
          }
        }
        cond = new CpuTensor(c, [R, D]);
        if (u) uncond = new CpuTensor(u, [R, D]);
      }
      // Without the null half the head runs unguided (scale 1): identical to guidance between equal halves.
      const probs = await head.sampleProbabilities(cond, uncond, {
        cfgScale: withNull ? cfgScale : 1,
        rng,
        ...(options.steps !== undefined ? { steps: options.steps } : {}),
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      });
      if (probs.shape.length !== 2 || probs.shape[0] !== R || probs.shape[1] !== K) {
        throw new ShapeError(`Transcoder returned shape [${probs.shape.join(', ')}]; expected [${R}, ${K}].`);
      }
      const p = probs.data;
      let r = 0;
      for (const [b, list] of needed.entries()) {
        for (const n of list) {
          out.set(p.subarray(r * K, (r + 1) * K), (b * N + n) * K);
          r++;
        }
      }
      return new CpuTensor(out, [B, N, K]);
    },
  };
}
