/**
 * A deliberately plain implementation of the unmasking loop, for checking {@link sampleTokens}: it predicts every
 * token every iteration, scores every token, fully sorts them (−∞ for fixed tokens, ties to the lower index, as
 * the official top-k) and takes the first k. It makes the same sampler-level random draws in the same order as
 * {@link sampleTokens} (Gumbel keys before predicting, commit uniforms after), so with a predictor that draws no
 * randomness and whose outputs for a token do not depend on `needed`, the two produce identical bits. Not for
 * production use: it does all the work the released sampler does.
 */
import { CpuTensor, throwIfAborted } from '@bigr/core';
import { cfgScaleAt } from './classifierFreeGuidance.js';
import { tokenConfidence } from './confidence.js';
import { conditionBatchSize } from './conditions.js';
import type { SampleResult, SampleTokensOptions } from './generate.js';
import { addGumbel, gumbelTemperatureAt } from './gumbel.js';
import { resolveSettings } from './settings.js';

/** Reference version of {@link sampleTokens} (ignores `predictOnlyNeeded` and `snapshots`). */
export async function referenceSampleTokens(options: SampleTokensOptions): Promise<SampleResult> {
  const s = resolveSettings(options);
  const { predictor, condition, rng } = options;
  const B = conditionBatchSize(condition);
  const N = predictor.tokens;
  const K = predictor.bitsPerToken;
  const seq: number[][][] = [];
  const masked: boolean[][] = [];
  for (let b = 0; b < B; b++) {
    seq.push([]);
    masked.push([]);
    for (let n = 0; n < N; n++) {
      const isMasked = options.initialMask ? options.initialMask.data[b * N + n] !== 0 : true;
      masked[b]!.push(isMasked);
      const row: number[] = [];
      for (let k = 0; k < K; k++) row.push(!isMasked && options.initialBits ? Number(options.initialBits.data[(b * N + n) * K + k]) : 0);
      seq[b]!.push(row);
    }
  }

  // Schedule per sample.
  const schedule: number[][] = [];
  let iterations = s.iterations;
  if (s.order === 'autoregressive') {
    iterations = 1;
    for (let b = 0; b < B; b++) iterations = Math.max(iterations, masked[b]!.filter((x) => x).length);
    for (let b = 0; b < B; b++) {
      const m = masked[b]!.filter((x) => x).length;
      schedule.push(Array.from({ length: iterations }, (_, i) => (i < m ? 1 : 0)));
    }
  } else {
    for (let b = 0; b < B; b++) {
      const m = masked[b]!.filter((x) => x).length;
      const budget = options.initialMask && s.budget === 'known' ? N - m : m;
      const counts: number[] = [];
      let before = budget;
      for (let i = 0; i < iterations; i++) {
        const r = (i + 1) / iterations;
        const rate = s.unmaskSchedule === 'cosine' ? Math.cos((Math.PI / 2) * r) : 1 - r;
        const after = Math.floor(rate * budget);
        counts.push(before - after);
        before = after;
      }
      schedule.push(counts);
    }
  }

  const flatBits = (): Float32Array => Float32Array.from(seq.flat(2));
  const flatMask = (): Uint8Array => Uint8Array.from(masked.flat().map((x) => (x ? 1 : 0)));
  let predictorCalls = 0;
  const predictAll = async (cfgScale: number): Promise<Float32Array> => {
    predictorCalls++;
    const out = await predictor.predict({
      bits: new CpuTensor<'float32'>(flatBits(), [B, N, K]),
      mask: new CpuTensor<'uint8'>(flatMask(), [B, N]),
      condition,
      cfgScale,
      rng,
    });
    return out.data;
  };
  const commitBits = (p: Float32Array, picks: number[][]): void => {
    const total = picks.reduce((a, x) => a + x.length, 0) * K;
    const u = s.commit === 'bernoulli' && total > 0 ? rng.uniformsF32(total) : null;
    let i = 0;
    for (let b = 0; b < B; b++) {
      for (const n of picks[b]!) {
        for (let k = 0; k < K; k++) {
          const prob = p[(b * N + n) * K + k]!;
          seq[b]![n]![k] = u ? (u[i++]! < prob ? 1 : 0) : prob > 0.5 ? 1 : 0;
        }
        masked[b]![n] = false;
      }
    }
  };

  for (let step = 0; step < iterations; step++) {
    throwIfAborted(options.signal, 'reference sampling');
    const cfg = cfgScaleAt(s.cfgScale, s.cfgSchedule, step, iterations);
    let noise: Float64Array | null = null;
    if (s.order === 'entropy' || s.order === 'random') noise = rng.gumbels(B * N);
    const p = await predictAll(cfg);
    const tau = gumbelTemperatureAt(s.gumbelTemperature, s.gumbelSchedule, step, iterations);
    const picks: number[][] = [];
    for (let b = 0; b < B; b++) {
      const keys: number[] = [];
      for (let n = 0; n < N; n++) {
        let key: number;
        if (s.order === 'entropy') key = addGumbel(tokenConfidence(p, (b * N + n) * K, K, s.confidence), tau, noise![b * N + n]!);
        else if (s.order === 'random') key = noise![b * N + n]!;
        else key = -n;
        keys.push(masked[b]![n] ? key : Number.NEGATIVE_INFINITY);
      }
      const order = keys.map((_, n) => n).sort((x, y) => (keys[x] === keys[y] ? x - y : keys[y]! > keys[x]! ? 1 : -1));
      picks.push(order.slice(0, schedule[b]![step]!));
    }
    commitBits(p, picks);
  }

  let usedFallback = false;
  if (masked.some((row) => row.some((x) => x))) {
    usedFallback = true;
    const p = await predictAll(s.cfgScale);
    const picks = masked.map((row) => row.flatMap((x, n) => (x ? [n] : [])));
    commitBits(p, picks);
  }
  const codes = new CpuTensor<'uint8'>(Uint8Array.from(flatBits()), [B, N, K]);
  const images = options.tokenizer ? await options.tokenizer.decode(codes) : undefined;
  return { codes, ...(images ? { images } : {}), usedFallback, predictorCalls };
}
