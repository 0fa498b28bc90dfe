/**
 * Sampling codes from a loaded model, whatever its variant (docs/algorithm.md §6, §13): masked unmasking (§6) on a
 * bidirectional backbone, KV-cached raster decoding (§13.3) on a causal one, each with the commit rule of the model's
 * head (§13.1). `BigrPipeline.generate` calls it once per image and `bigr study` once per batch, so a model samples
 * the same way in both. Browser-safe.
 */
import { ConfigError, type CpuTensor } from '@bigr/core';
import type { AutoregressiveFeatureModel, BinaryTokenizer, BitHeadSampler, Condition, LongRunningOptions, Rng, TokenFeatureModel } from '@bigr/core';
import { createBigrPredictor, DEFAULT_SAMPLING, generate, sampleAutoregressive, SETTING_KEYS, type SamplingSettings } from '@bigr/sampler';
import { describeModelKind, isCausalModel, modelCommitRule } from './bigrHead.js';
import type { BigrModelConfig } from './bigrModelDir.js';

/** The sampler settings of a request (only the keys it sets). */
export function samplingSettings(request: Partial<SamplingSettings>): Partial<SamplingSettings> {
  const out: Record<string, unknown> = {};
  for (const k of SETTING_KEYS) if (request[k] !== undefined) out[k] = request[k];
  return out as Partial<SamplingSettings>;
}

/** The parts of a loaded model that sampling uses. */
export interface SamplingModel {
  /** The model's config (its head and `backbone.attention` choose how it samples). */
  readonly config: BigrModelConfig;
  /** Full-sequence backbone features (masked unmasking). */
  readonly features: TokenFeatureModel;
  /** KV-cached backbone of a causal model (null for a bidirectional one). */
  readonly kv: AutoregressiveFeatureModel | null;
  /** The per-token head (transcoder or categorical). */
  readonly head: BitHeadSampler;
}

/** Options of {@link sampleModel}. */
export interface ModelSamplingOptions extends LongRunningOptions, Partial<SamplingSettings> {
  /** Class condition per sample (null labels = unconditional); its batch size is the number of samples. */
  readonly condition: Condition;
  /** The only source of randomness. */
  readonly rng: Rng;
  /** Transcoder diffusion steps (default: the model's `transcoder.inferenceSteps`; the categorical head has none). */
  readonly diffusionSteps?: number;
  /** Head temperature: the transcoder's τ_s or the categorical softmax temperature (default 1). */
  readonly temperature?: number;
  /** Decodes the codes to images when given. */
  readonly tokenizer?: BinaryTokenizer;
  /** Progress task name (default 'sample'). */
  readonly progressTask?: string;
}

/** Result of {@link sampleModel}. */
export interface ModelSamplingResult {
  /** Codes [B, N, K] as 0/1. */
  readonly codes: CpuTensor<'uint8'>;
  /** Decoded images [B, C, H, W] (not clamped) when a tokenizer was given. */
  readonly images?: CpuTensor<'float32'>;
}

/**
 * Samples codes from `model`:
 * - bidirectional backbone: `generate` (docs/algorithm.md §6) with the given settings and the predictor joining
 *   backbone and head;
 * - causal backbone: `sampleAutoregressive` (§13.3), one token per step in raster order through the KV cache, with
 *   `cfgScale` and `cfgSchedule`; the settings of masked unmasking (iterations, order, Gumbel noise, confidence,
 *   unmask schedule, budget) do not apply and are ignored.
 *
 * The commit rule is the head's ({@link modelCommitRule}: 'threshold' for the categorical head). Every random number
 * comes from `rng`, so the same model, seed and engine give the same codes.
 */
export async function sampleModel(model: SamplingModel, options: ModelSamplingOptions): Promise<ModelSamplingResult> {
  const settings = samplingSettings(options);
  const commit = modelCommitRule(model.config, settings.commit);
  const { condition, rng, diffusionSteps, temperature, tokenizer, signal, onProgress, progressTask } = options;
  const common = {
    ...(tokenizer ? { tokenizer } : {}),
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(progressTask !== undefined ? { progressTask } : {}),
  };
  if (isCausalModel(model.config)) {
    if (!model.kv)
      throw new ConfigError(
        `This model has ${describeModelKind(model.config)} but was loaded without its KV-cached backbone; load it with loadBigrModel or BigrPipeline.`,
      );
    return sampleAutoregressive({
      model: model.kv,
      head: model.head,
      condition,
      rng,
      commit,
      cfgScale: settings.cfgScale ?? DEFAULT_SAMPLING.cfgScale,
      ...(settings.cfgSchedule !== undefined ? { cfgSchedule: settings.cfgSchedule } : {}),
      ...(diffusionSteps !== undefined ? { steps: diffusionSteps } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...common,
    });
  }
  const predictor = createBigrPredictor(model.features, model.head, {
    ...(diffusionSteps !== undefined ? { steps: diffusionSteps } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
  });
  const r = await generate({ ...settings, predictor, condition, rng, commit, ...common });
  return { codes: r.codes, ...(r.images ? { images: r.images } : {}) };
}
