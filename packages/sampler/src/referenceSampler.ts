/**
 * A deliberately plain implementation of the unmasking loop, for checking {@link sampleTokens}: it predicts every
 * token every iteration, scores every token, fully sorts them (−∞ for fixed tokens, ties to the lower index, as
 * the official top-k) and takes the first k. It makes the same sampler-level random draws in the same order as
 * {@link sampleTokens} (Gumbel keys before predicting, commit uniforms after), so with a predictor that draws no
 * randomness and whose outputs for a token do not depend on `needed`, the two produce identical bits. Not for
 * production use: it does all the work the released sampler does.
 */
import { at, CpuTensor, required, throwIfAborted } from '@bigr/core';
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
  const masked = Array.from({ length: B }, (_, b) =>
    Array.from({ length: N }, (_, n) => (options.initialMask ? options.initialMask.data[b * N + n] !== 0 : true)),
  );
  const seq = masked.map((row, b) =>
    row.map((isMasked, n) =>
      Array.from({ length: K }, (_, k) => (!isMasked && options.initialBits ? Number(options.initialBits.data[(b * N + n) * K + k]) : 0)),
    ),
  );

  // Schedule per sample.
  const maskedCounts = masked.map((row) => row.filter((x) => x).length);
  let iterations = s.iterations;
  let schedule: number[][];
  if (s.order === 'autoregressive') {
    iterations = Math.max(1, ...maskedCounts);
    schedule = maskedCounts.map((m) => Array.from({ length: iterations }, (_, i) => (i < m ? 1 : 0)));
  } else {
    schedule = maskedCounts.map((m) => {
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
      return counts;
    });
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
    for (const [b, list] of picks.entries()) {
      const rows = at(seq, b, 'sample bits');
      const maskRow = at(masked, b, 'sample mask');
      for (const n of list) {
        const row = at(rows, n, 'token bits');
        for (let k = 0; k < K; k++) {
          const prob = at(p, (b * N + n) * K + k, 'bit probability');
          row[k] = u ? (at(u, i++, 'commit uniform') < prob ? 1 : 0) : prob > 0.5 ? 1 : 0;
        }
        maskRow[n] = false;
      }
    }
  };

  for (let step = 0; step < iterations; step++) {
    throwIfAborted(options.signal, 'reference sampling');
    const cfg = cfgScaleAt(s.cfgScale, s.cfgSchedule, step, iterations);
    const noise = s.order === 'entropy' || s.order === 'random' ? rng.gumbels(B * N) : null;
    const noiseAt = (t: number): number => at(required(noise, 'Gumbel noise'), t, 'Gumbel noise');
    const p = await predictAll(cfg);
    const tau = gumbelTemperatureAt(s.gumbelTemperature, s.gumbelSchedule, step, iterations);
    const picks = masked.map((maskRow, b) => {
      const keys = maskRow.map((isMasked, n) => {
        let key: number;
        if (s.order === 'entropy') key = addGumbel(tokenConfidence(p, (b * N + n) * K, K, s.confidence), tau, noiseAt(b * N + n));
        else if (s.order === 'random') key = noiseAt(b * N + n);
        else key = -n;
        return { n, key: isMasked ? key : Number.NEGATIVE_INFINITY };
      });
      const order = keys.sort((x, y) => (x.key === y.key ? x.n - y.n : y.key > x.key ? 1 : -1)).map((e) => e.n);
      return order.slice(0, at(at(schedule, b, 'sample schedule'), step, 'scheduled count'));
    });
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
