/**
 * Zero-shot class interpolation (docs/algorithm.md §8.2): condition on w·Emb[a] + (1−w)·Emb[b] (Condition kind 'interpolate').
 */
import { ConfigError, throwIfAborted } from '@bigr/core';
import type { BinaryTokenizer, LongRunningOptions, MaskedBitPredictor, Rng } from '@bigr/core';
import { interpolationCondition } from './conditions.js';
import { sampleTokens } from './generate.js';
import type { SampleResult } from './generate.js';
import { PRESETS } from './presets.js';
import { resolveSettings } from './settings.js';
import type { SamplingSettings } from './settings.js';

/**
 * The weights the official script sweeps: {0, 0.1, 0.2} ∪ linspace(0.3, 0.7, 21) ∪ {0.8, 0.9, 1.0}, 27 values
 * (linspace computed like NumPy: start + i·step, last value exactly the stop).
 */
export function interpolationSweepWeights(): Float64Array {
  const out = [0, 0.1, 0.2];
  const start = 0.3;
  const stop = 0.7;
  const num = 21;
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out.push(i === num - 1 ? stop : start + i * step);
  out.push(0.8, 0.9, 1.0);
  return Float64Array.from(out);
}

/** Options of {@link interpolateClasses}. Unset settings default to the script's: s = 2.5, I = 20, τ_g = 0. */
export interface InterpolateOptions extends LongRunningOptions, Partial<SamplingSettings> {
  /** Predicts bit probabilities; its backbone must support the 'interpolate' condition. */
  readonly predictor: MaskedBitPredictor;
  /** First class (weight w). */
  readonly classA: number;
  /** Second class (weight 1 − w). */
  readonly classB: number;
  /** Weights to generate, in order. Default {@link interpolationSweepWeights}. */
  readonly weights?: ArrayLike<number>;
  /** Samples per weight. Default 1. */
  readonly samples?: number;
  /** One stream for the whole sweep (the script seeds once before the sweep, not per weight). */
  readonly rng: Rng;
  /** Decodes each result when given. */
  readonly tokenizer?: BinaryTokenizer;
  /** See {@link SampleTokensOptions.predictOnlyNeeded}. */
  readonly predictOnlyNeeded?: boolean;
}

/** One weight's result. */
export interface InterpolationResult extends SampleResult {
  /** The weight w of class A. */
  readonly weight: number;
}

/**
 * Generates `samples` images for each weight w with the class token w·Emb[a] + (1−w)·Emb[b] (also the adaLN input;
 * the unconditional half uses the null class). Weights run in order from one RNG stream. Progress events count
 * weights (task 'interpolate').
 */
export async function interpolateClasses(options: InterpolateOptions): Promise<InterpolationResult[]> {
  const { predictor, classA, classB, rng } = options;
  for (const y of [classA, classB]) if (!Number.isInteger(y) || y < 0) throw new ConfigError(`Class ${y} is not a class index; pass an integer >= 0.`);
  const weights = Array.from(options.weights ?? interpolationSweepWeights());
  const samples = options.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) throw new ConfigError(`samples = ${samples}; expected a positive integer.`);
  const settings = resolveSettings(options, PRESETS.interpolate);
  const results: InterpolationResult[] = [];
  for (const [i, weight] of weights.entries()) {
    throwIfAborted(options.signal, 'interpolation');
    const condition = interpolationCondition(new Int32Array(samples).fill(classA), new Int32Array(samples).fill(classB), weight);
    const r = await sampleTokens({
      ...settings,
      predictor,
      condition,
      rng,
      ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
      ...(options.predictOnlyNeeded !== undefined ? { predictOnlyNeeded: options.predictOnlyNeeded } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    results.push({ ...r, weight });
    options.onProgress?.({ task: 'interpolate', current: i + 1, total: weights.length, metrics: { weight } });
  }
  return results;
}
