/**
 * The unmasking sampler (docs/algorithm.md §6): from a (partly) masked token sequence to complete binary codes.
 * {@link sampleTokens} is the general loop used by generation and every zero-shot application; {@link generate}
 * starts from a fully masked sequence.
 */
import { at, ConfigError, CpuTensor, required, ShapeError, throwIfAborted } from '@bigr/core';
import type { BinaryTokenizer, Condition, LongRunningOptions, MaskedBitPredictor, PredictRequest, Rng, Tensor } from '@bigr/core';
import { cfgScaleAt } from './classifierFreeGuidance.js';
import { tokenConfidence } from './confidence.js';
import { conditionBatchSize } from './conditions.js';
import { addGumbel, gumbelTemperatureAt } from './gumbel.js';
import { planCandidates, kthLargestKey, secondStage } from './candidatePruning.js';
import type { CandidatePlan } from './candidatePruning.js';
import { chooseTokens, entropyCandidates } from './ordering.js';
import { resolveSettings } from './settings.js';
import type { SamplingSettings } from './settings.js';
import { unmaskCounts } from './unmaskSchedule.js';
import { isImageRngs } from './imageRngs.js';

/** Options of {@link sampleTokens}. Unset settings default to {@link DEFAULT_SAMPLING}. */
export interface SampleTokensOptions extends LongRunningOptions, Partial<SamplingSettings> {
  /** Predicts per-bit probabilities (e.g. {@link createBigrPredictor}). */
  readonly predictor: MaskedBitPredictor;
  /** Condition per sample; its batch size is the number of samples B. */
  readonly condition: Condition;
  /**
   * The only source of randomness: `gumbels` for ordering noise, `uniformsF32` for the Bernoulli commits. With an
   * {@link ImageRngs} (one stream per sample), every sample draws its noise, its transcoder uniforms and its commits
   * from its own stream, so its bits do not depend on the other samples of the batch.
   */
  readonly rng: Rng;
  /** Starting bits [B, N, K] (0/1); values at masked positions are ignored. Default all zero. */
  readonly initialBits?: Tensor<'uint8'> | Tensor<'float32'>;
  /** Tokens to generate, [B, N], 1 = masked. Default all masked. */
  readonly initialMask?: Tensor<'uint8'>;
  /** Decodes the final codes to images when given. */
  readonly tokenizer?: BinaryTokenizer;
  /** Record an {@link IterationSnapshot} per iteration. */
  readonly snapshots?: boolean;
  /**
   * Ask the predictor only for the tokens an iteration can commit (the `needed` field of the request), which lets
   * {@link createBigrPredictor} skip the transcoder on fixed tokens. Default true. The output distribution is the
   * same either way; false reproduces the official work (and RNG consumption inside the predictor).
   */
  readonly predictOnlyNeeded?: boolean;
  /** Progress task name. Default 'sample'. */
  readonly progressTask?: string;
}

/** State recorded after one iteration (or the fallback pass). */
export interface IterationSnapshot {
  /** 0-based iteration; the fallback pass has index `iterations`. */
  readonly iteration: number;
  /** Whether this was the final fallback pass. */
  readonly fallback: boolean;
  /** CFG scale used. */
  readonly cfgScale: number;
  /** Gumbel temperature used (0 for orders without noise). */
  readonly gumbelTemperature: number;
  /** Tokens the schedule asked for, per sample. */
  readonly counts: Int32Array;
  /** Committed tokens per sample, in commit order (top-k order). */
  readonly chosen: readonly Int32Array[];
  /**
   * Ordering key per token [B·N]: confidence + noise for 'entropy', the Gumbel key for 'random', −n for raster
   * orders (float64; the 'entropy' values are float32 numbers); −∞ at tokens that were not masked, NaN where it
   * was not needed (a sample with a count of 0, or a token the Gumbel bounds ruled out, see {@link planCandidates}).
   */
  readonly scores: Float64Array;
  /** Mask entering the iteration [B, N]. */
  readonly maskBefore: CpuTensor<'uint8'>;
  /** Bits after the iteration [B, N, K]. */
  readonly bits: CpuTensor<'uint8'>;
  /** Mask after the iteration [B, N]. */
  readonly mask: CpuTensor<'uint8'>;
}

/** Result of a sampling run. */
export interface SampleResult {
  /** Generated codes [B, N, K] as 0/1. */
  readonly codes: CpuTensor<'uint8'>;
  /** Decoded images [B, C, H, W] (not clamped) when a tokenizer was given. */
  readonly images?: CpuTensor<'float32'>;
  /** Per-iteration snapshots when requested. */
  readonly snapshots?: readonly IterationSnapshot[];
  /** Whether the fallback pass ran (tokens left masked after the schedule). */
  readonly usedFallback: boolean;
  /** How many times the predictor was called. */
  readonly predictorCalls: number;
}

/** Options of {@link generate}: {@link SampleTokensOptions} without a starting sequence. */
export type GenerateOptions = Omit<SampleTokensOptions, 'initialBits' | 'initialMask' | 'budget'>;

/**
 * Class-conditional (or unconditional: null labels) generation from a fully masked sequence (docs/algorithm.md §6).
 * With a replaying {@link Rng} and the official predictions it reproduces the official `generate_with_cfg`
 * bit for bit.
 */
export async function generate(options: GenerateOptions): Promise<SampleResult> {
  return sampleTokens(options);
}

interface Plan {
  /** Iterations of the main loop. */
  readonly iterations: number;
  /** counts[b][step]. */
  readonly counts: Int32Array[];
  /** Whether a fallback pass is needed. */
  readonly fallback: boolean;
}

/** How many of the `tokens` tokens of the sample starting at `start` are masked. */
function maskedCount(mask: Uint8Array, start: number, tokens: number): number {
  return mask.subarray(start, start + tokens).reduce((s, x) => s + x, 0);
}

function planCounts(settings: SamplingSettings, mask: Uint8Array, batch: number, tokens: number, partial: boolean): Plan {
  const maskedPer = Array.from({ length: batch }, (_, b) => maskedCount(mask, b * tokens, tokens));
  if (settings.order === 'autoregressive') {
    const iterations = Math.max(1, ...maskedPer);
    const counts = maskedPer.map((m) => {
      const c = new Int32Array(iterations);
      c.fill(1, 0, m);
      return c;
    });
    return { iterations, counts, fallback: false };
  }
  const perSample = maskedPer.map((m) => {
    const budget = partial && settings.budget === 'known' ? tokens - m : m;
    return { masked: m, counts: unmaskCounts(budget, settings.iterations, settings.unmaskSchedule) };
  });
  const fallback = perSample.some(({ masked, counts }) => counts.reduce((s, x) => s + x, 0) < masked);
  return { iterations: settings.iterations, counts: perSample.map((s) => s.counts), fallback };
}

function toBitArray(t: Tensor<'uint8'> | Tensor<'float32'>, what: string): Float32Array {
  const out = new Float32Array(t.size);
  const d = t.data;
  for (let i = 0; i < out.length; i++) {
    const v = required(d[i], 'initial bit');
    if (v !== 0 && v !== 1) throw new ShapeError(`${what} has value ${v} at element ${i}; bits must be 0 or 1.`);
    out[i] = v;
  }
  return out;
}

function snapshotBits(bits: Float32Array, shape: readonly number[]): CpuTensor<'uint8'> {
  return new CpuTensor(Uint8Array.from(bits), shape);
}

/**
 * Runs the unmasking loop of docs/algorithm.md §6 on a batch, optionally from given tokens (the zero-shot applications,
 * docs/algorithm.md §8.1). Per iteration: schedule count k, guidance scale, ordering key (confidence + Gumbel for
 * 'entropy'), top-k choice, Bernoulli commit of the chosen tokens' bits; then a fallback pass with the
 * unscheduled scale commits any token still masked. Random draws, in order per iteration: `gumbels(B·N)` for the
 * 'entropy' and 'random' orders (before predicting, always drawn even when k = 0, as the official code does),
 * whatever the predictor draws, then `uniformsF32(K·Σ_b k_b)` for the commits in (sample, top-k rank, bit) order.
 * With `predictOnlyNeeded` (default) and Gumbel noise, the 'entropy' order predicts in up to two calls per
 * iteration: first the tokens with the best noise, then any other token whose key could still reach the k-th best
 * key found (see {@link planCandidates}); tokens that cannot be chosen are never predicted.
 * The fallback draws `uniformsF32` for the remaining tokens in (sample, token, bit) order.
 * With an {@link ImageRngs}, each of these draws is split per sample: sample b's Gumbel noise, the uniforms of its
 * gathered transcoder rows and those of its commits come from stream b, in the same order as when it is sampled alone.
 */
export async function sampleTokens(options: SampleTokensOptions): Promise<SampleResult> {
  const settings = resolveSettings(options);
  const { predictor, condition, rng, signal, onProgress } = options;
  const predictOnlyNeeded = options.predictOnlyNeeded ?? true;
  const task = options.progressTask ?? 'sample';
  const B = conditionBatchSize(condition);
  const N = predictor.tokens;
  const K = predictor.bitsPerToken;
  if (B < 1) throw new ConfigError('The condition describes 0 samples; pass at least one label.');
  const perImage = isImageRngs(rng) ? rng : null;
  if (perImage && perImage.size !== B)
    throw new ShapeError(`rng has ${perImage.size} per-image streams but the batch has ${B} samples; pass one stream per sample.`);

  const bits = options.initialBits ? toBitArray(options.initialBits, 'initialBits') : new Float32Array(B * N * K);
  if (
    options.initialBits &&
    (options.initialBits.shape.length !== 3 || options.initialBits.shape[0] !== B || options.initialBits.shape[1] !== N || options.initialBits.shape[2] !== K)
  ) {
    throw new ShapeError(`initialBits has shape [${options.initialBits.shape.join(', ')}]; expected [${B}, ${N}, ${K}] (samples, tokens, bits).`);
  }
  const mask = new Uint8Array(B * N).fill(1);
  if (options.initialMask) {
    const m = options.initialMask;
    if (m.shape.length !== 2 || m.shape[0] !== B || m.shape[1] !== N) {
      throw new ShapeError(`initialMask has shape [${m.shape.join(', ')}]; expected [${B}, ${N}] (samples, tokens; 1 = generate).`);
    }
    for (let i = 0; i < mask.length; i++) mask[i] = m.data[i] ? 1 : 0;
  }
  for (let t = 0; t < B * N; t++) if (mask[t]) bits.fill(0, t * K, (t + 1) * K);
  if (options.tokenizer && options.tokenizer.bitsPerToken !== K) {
    throw new ConfigError(`Tokenizer has ${options.tokenizer.bitsPerToken} bits per token but the predictor ${K}; use matching models.`);
  }

  const plan = planCounts(settings, mask, B, N, options.initialMask !== undefined);
  const total = plan.iterations + (plan.fallback ? 1 : 0);
  const snapshots: IterationSnapshot[] | undefined = options.snapshots ? [] : undefined;
  const bitsShape = [B, N, K];
  const maskShape = [B, N];
  let predictorCalls = 0;
  const scratch = new Float32Array(K);

  const predict = async (cfgScale: number, needed: Int32Array[]): Promise<Float32Array> => {
    predictorCalls++;
    const request: PredictRequest = {
      bits: new CpuTensor<'float32'>(bits.slice(), bitsShape),
      mask: new CpuTensor<'uint8'>(mask.slice(), maskShape),
      condition,
      cfgScale,
      rng: perImage ? perImage.segments(predictOnlyNeeded ? needed.map((l) => l.length) : new Array<number>(B).fill(N)) : rng,
      ...(predictOnlyNeeded ? { needed } : {}),
    };
    const out = await predictor.predict(request);
    if (out.shape.length !== 3 || out.shape[0] !== B || out.shape[1] !== N || out.shape[2] !== K) {
      throw new ShapeError(`Predictor returned shape [${out.shape.join(', ')}]; expected [${B}, ${N}, ${K}].`);
    }
    return out.data.slice();
  };

  const commit = (probs: Float32Array, chosen: readonly Int32Array[]): void => {
    let count = 0;
    for (const c of chosen) count += c.length;
    const draw = perImage ? perImage.segments(chosen.map((c) => c.length)) : rng;
    const u = settings.commit === 'bernoulli' && count > 0 ? draw.uniformsF32(count * K) : null;
    let i = 0;
    for (const [b, list] of chosen.entries()) {
      for (const n of list) {
        const base = (b * N + n) * K;
        for (let k = 0; k < K; k++, i++) {
          const p = required(probs[base + k], 'bit probability');
          bits[base + k] = u ? (required(u[i], 'commit uniform') < p ? 1 : 0) : p > 0.5 ? 1 : 0;
        }
        mask[b * N + n] = 0;
      }
    }
  };

  for (let step = 0; step < plan.iterations; step++) {
    throwIfAborted(signal, 'sampling');
    const counts = Int32Array.from(plan.counts, (c) => at(c, step, 'scheduled count'));
    const cfg = cfgScaleAt(settings.cfgScale, settings.cfgSchedule, step, plan.iterations);
    const maskBefore = snapshots ? mask.slice() : undefined;
    const scores = new Float64Array(B * N).fill(Number.NaN);
    for (let t = 0; t < B * N; t++) if (!mask[t]) scores[t] = Number.NEGATIVE_INFINITY;
    let gumbelTemperature = 0;
    let chosen: Int32Array[];
    let probs: Float32Array | null = null;

    if (settings.order === 'entropy') {
      gumbelTemperature = gumbelTemperatureAt(settings.gumbelTemperature, settings.gumbelSchedule, step, plan.iterations);
      const g = rng.gumbels(B * N);
      const plans: (CandidatePlan | null)[] = [];
      const needed = Array.from(counts, (k, b) => {
        const m = maskedCount(mask, b * N, N);
        if (predictOnlyNeeded && k > 0 && k < m && gumbelTemperature > 0) {
          const p = planCandidates(mask, g, b * N, N, k, gumbelTemperature);
          plans.push(p.pending.length > 0 ? p : null);
          return p.first;
        }
        plans.push(null);
        return entropyCandidates(mask, b * N, N, k);
      });
      const score = (p: Float32Array, list: readonly Int32Array[]): void => {
        for (const [b, l] of list.entries()) {
          for (const n of l) {
            const t = b * N + n;
            if (mask[t]) scores[t] = addGumbel(tokenConfidence(p, t * K, K, settings.confidence, scratch), gumbelTemperature, required(g[t], 'Gumbel noise'));
          }
        }
      };
      if (!predictOnlyNeeded || needed.some((x) => x.length > 0)) {
        probs = await predict(cfg, needed);
        score(probs, needed);
      }
      if (plans.some((p) => p !== null)) {
        // Second stage: candidates whose upper bound reaches the k-th best key found so far.
        const more = plans.map((p, b) =>
          p ? secondStage(p, kthLargestKey(scores, b * N, at(needed, b, 'first-stage candidates'), at(counts, b, 'scheduled count'))) : new Int32Array(0),
        );
        if (more.some((x) => x.length > 0)) {
          // A pending plan exists only for a sample with k > 0, whose first stage is non-empty, so the first call ran.
          const first = required(probs, 'first-stage probabilities');
          const extra = await predict(cfg, more);
          for (const [b, list] of more.entries()) for (const n of list) first.set(extra.subarray((b * N + n) * K, (b * N + n + 1) * K), (b * N + n) * K);
          score(first, more);
        }
      }
      chosen = Array.from(counts, (k, b) => chooseTokens(scores.subarray(b * N, (b + 1) * N), mask, b * N, N, k));
    } else {
      const g = settings.order === 'random' ? rng.gumbels(B * N) : null;
      for (let t = 0; t < B * N; t++) if (mask[t]) scores[t] = g ? required(g[t], 'Gumbel noise') : -(t % N);
      chosen = Array.from(counts, (k, b) => chooseTokens(scores.subarray(b * N, (b + 1) * N), mask, b * N, N, k));
      const needed = chosen.map((c) => Int32Array.from(c).sort());
      if (!predictOnlyNeeded || needed.some((x) => x.length > 0)) probs = await predict(cfg, needed);
    }
    if (probs) commit(probs, chosen);

    if (snapshots && maskBefore) {
      snapshots.push({
        iteration: step,
        fallback: false,
        cfgScale: cfg,
        gumbelTemperature,
        counts,
        chosen,
        scores,
        maskBefore: new CpuTensor(maskBefore, maskShape),
        bits: snapshotBits(bits, bitsShape),
        mask: new CpuTensor(mask.slice(), maskShape),
      });
    }
    onProgress?.({ task, current: step + 1, total, metrics: { cfgScale: cfg, committed: chosen.reduce((s, c) => s + c.length, 0) } });
  }

  let usedFallback = false;
  if (mask.some((m) => m === 1)) {
    throwIfAborted(signal, 'sampling');
    usedFallback = true;
    const remaining = Array.from({ length: B }, (_, b) => {
      const r: number[] = [];
      for (let n = 0; n < N; n++) if (mask[b * N + n]) r.push(n);
      return Int32Array.from(r);
    });
    const maskBefore = mask.slice();
    const probs = await predict(settings.cfgScale, remaining);
    commit(probs, remaining);
    if (snapshots) {
      const scores = new Float64Array(B * N).fill(Number.NaN);
      for (let t = 0; t < B * N; t++) if (!maskBefore[t]) scores[t] = Number.NEGATIVE_INFINITY;
      snapshots.push({
        iteration: plan.iterations,
        fallback: true,
        cfgScale: settings.cfgScale,
        gumbelTemperature: 0,
        counts: Int32Array.from(remaining, (r) => r.length),
        chosen: remaining,
        scores,
        maskBefore: new CpuTensor(maskBefore, maskShape),
        bits: snapshotBits(bits, bitsShape),
        mask: new CpuTensor(mask.slice(), maskShape),
      });
    }
    onProgress?.({ task, current: total, total, message: 'fallback: filled the tokens the schedule left masked' });
  }

  const codes = snapshotBits(bits, bitsShape);
  const images = options.tokenizer ? await options.tokenizer.decode(codes) : undefined;
  return { codes, ...(images ? { images } : {}), ...(snapshots ? { snapshots } : {}), usedFallback, predictorCalls };
}
