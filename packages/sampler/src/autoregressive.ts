/**
 * Autoregressive raster-order generation with a key/value cache (docs/algorithm.md §13.3), for the paper's AR variants
 * S0/S2: a causal backbone ({@link AutoregressiveFeatureModel}) predicts token n from the condition and tokens 0…n−1,
 * a head ({@link BitHeadSampler}: the binary transcoder or the categorical head) turns its features into bit
 * probabilities, and the token is committed — one backbone step per token instead of a full forward pass.
 */
import { ConfigError, CpuTensor, required, throwIfAborted } from '@bigr/core';
import type { AutoregressiveFeatureModel, BinaryTokenizer, BitHeadSampler, Condition, LongRunningOptions, Rng } from '@bigr/core';
import { cfgScaleAt, type CfgSchedule } from './classifierFreeGuidance.js';
import { conditionBatchSize, isUnconditional } from './conditions.js';
import type { CommitRule } from './settings.js';

/** Options of {@link sampleAutoregressive}. */
export interface AutoregressiveOptions extends LongRunningOptions {
  /** The causal backbone with its KV cache. */
  readonly model: AutoregressiveFeatureModel;
  /** Per-token head. */
  readonly head: BitHeadSampler;
  /** Class condition per sample (null labels = unconditional). */
  readonly condition: Condition;
  /** CFG scale s (1 = no unconditional branch). */
  readonly cfgScale: number;
  /** CFG schedule over the N tokens (default 'constant'). */
  readonly cfgSchedule?: CfgSchedule;
  /** Commit rule: 'bernoulli' for the transcoder (default), 'threshold' for the categorical head. */
  readonly commit?: CommitRule;
  /** Head diffusion steps (transcoder only). */
  readonly steps?: number;
  /** Head temperature. */
  readonly temperature?: number;
  /** The only source of randomness. */
  readonly rng: Rng;
  /** Decodes the codes to images when given. */
  readonly tokenizer?: BinaryTokenizer;
  /** Progress task name (default 'sample'). */
  readonly progressTask?: string;
}

/** Result of {@link sampleAutoregressive}. */
export interface AutoregressiveResult {
  /** Generated codes [B, N, K] as 0/1. */
  readonly codes: CpuTensor<'uint8'>;
  /** Decoded images [B, C, H, W] when a tokenizer was given. */
  readonly images?: CpuTensor<'float32'>;
}

/**
 * Generates B images token by token in raster order with the KV cache. Per token n: the features of the current
 * state ([cond; uncond] when guidance matters), `head.sampleProbabilities` on the B rows (scale s, or 1 without the
 * null half), then `rng.uniformsF32(B·K)` for the Bernoulli commits in (sample, bit) order (none with 'threshold').
 * These are exactly the draws of `sampleTokens` with `order: 'autoregressive'` on the same causal backbone without a
 * cache, so both give the same tokens for the same seed (docs/algorithm.md §13.3).
 */
export async function sampleAutoregressive(options: AutoregressiveOptions): Promise<AutoregressiveResult> {
  const { model, head, condition, rng, signal, onProgress } = options;
  if (model.bitsPerToken !== head.bitsPerToken) {
    throw new ConfigError(`Backbone has ${model.bitsPerToken} bits per token but the head ${head.bitsPerToken}; load a matching pair of models.`);
  }
  if (!Number.isFinite(options.cfgScale) || options.cfgScale < 0)
    throw new ConfigError(`cfgScale = ${options.cfgScale}; expected a finite number >= 0 such as 2.5.`);
  const commit = options.commit ?? 'bernoulli';
  const task = options.progressTask ?? 'sample';
  const B = conditionBatchSize(condition);
  const N = model.tokens;
  const K = model.bitsPerToken;
  const D = model.featureDim;
  const withNull = options.cfgScale !== 1 && !isUnconditional(condition, model.nullClass);
  const bits = new Uint8Array(B * N * K);
  let state = await model.start(condition, withNull);
  for (let n = 0; n < N; n++) {
    throwIfAborted(signal, 'sampling');
    const f = state.features.data;
    const cond = new CpuTensor<'float32'>(f.subarray(0, B * D), [B, D]);
    const uncond = withNull ? new CpuTensor<'float32'>(f.subarray(B * D, 2 * B * D), [B, D]) : null;
    const scale = cfgScaleAt(options.cfgScale, options.cfgSchedule ?? 'constant', n, N);
    const probs = await head.sampleProbabilities(cond, uncond, {
      cfgScale: withNull ? scale : 1,
      rng,
      ...(options.steps !== undefined ? { steps: options.steps } : {}),
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    });
    const p = probs.data;
    const u = commit === 'bernoulli' ? rng.uniformsF32(B * K) : null;
    const token = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        const i = b * K + k;
        const prob = required(p[i], 'bit probability');
        const v = u ? (required(u[i], 'commit uniform') < prob ? 1 : 0) : prob > 0.5 ? 1 : 0;
        token[i] = v;
        bits[(b * N + n) * K + k] = v;
      }
    }
    onProgress?.({ task, current: n + 1, total: N });
    if (n + 1 < N) state = await state.advance(new CpuTensor<'float32'>(token, [B, K]));
  }
  const codes = new CpuTensor<'uint8'>(bits, [B, N, K]);
  const images = options.tokenizer ? await options.tokenizer.decode(codes) : undefined;
  return { codes, ...(images ? { images } : {}) };
}
