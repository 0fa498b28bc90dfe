import { AbortError, at, createRng, CpuTensor, flipToZeroProbability, guidedLogit, required } from '@bigr/core';
import type { MaskedBitPredictor, PredictRequest, ProgressEvent } from '@bigr/core';
import { classCondition, unconditional } from './conditions.js';
import { generate, sampleTokens } from './generate.js';
import { createReplayRng } from './replayRng.js';
import { unmaskCounts } from './unmaskSchedule.js';
import { chosenOf, fixedPredictor, hashPredictor, neededOf, snapshotAt, snapshotsOf } from './test/helpers.js';

// Four tokens with two bits each; margins 0.2, 0.9, 0.5, 0.8.
const FOUR = Float32Array.of(0.6, 0.4, 0.95, 0.05, 0.75, 0.25, 0.1, 0.9);

describe('generate with a stub predictor of known probabilities', () => {
  it('commits the most confident tokens first and samples u < p', async () => {
    const predictor = fixedPredictor(FOUR, 1, 4, 2);
    // counts for 4 tokens in 2 iterations: floor(cos(pi/4)·4) = 2 -> [2, 2]
    expect(Array.from(unmaskCounts(4, 2))).toEqual([2, 2]);
    const rng = createReplayRng({
      uniforms: Float32Array.of(0.9, 0.01, 0.5, 0.95, /* iteration 1 */ 0.8, 0.2, 0.3, 0.5),
      gumbels: Float64Array.of(5, -5, 5, -5, 5, -5, 5, -5), // ignored: temperature 0
    });
    const r = await generate({ predictor, condition: classCondition([3]), rng, iterations: 2, gumbelTemperature: 0, snapshots: true });
    expect(snapshotsOf(r).map((s) => chosenOf(s))).toEqual([
      [1, 3],
      [2, 0],
    ]);
    // iteration 0: token 1 (0.95, 0.05) with u (0.9, 0.01) -> 1, 1; token 3 (0.1, 0.9) with u (0.5, 0.95) -> 0, 0
    // iteration 1: token 2 (0.75, 0.25) with u (0.8, 0.2) -> 0, 1; token 0 (0.6, 0.4) with u (0.3, 0.5) -> 1, 0
    expect(Array.from(r.codes.data)).toEqual([1, 0, 1, 1, 0, 1, 0, 0]);
    expect(rng.uniformsLeft).toBe(0);
    expect(rng.gumbelsLeft).toBe(0);
    expect(r.usedFallback).toBe(false);
    // scores: confidence, −∞ once committed
    // (float32 arithmetic: |fround(0.6) − 0.5|·2 is 0.2000000179, not fround(0.2))
    const s0 = snapshotAt(r, 0).scores;
    [0.2, 0.9, 0.5, 0.8].forEach((c, i) => {
      expect(s0[i]).toBeCloseTo(c, 6);
    });
    const s1 = snapshotAt(r, 1).scores;
    expect([s1[0], s1[2]]).toEqual([s0[0], s0[2]]);
    expect([s1[1], s1[3]]).toEqual([-Infinity, -Infinity]);
    // only masked tokens were requested
    expect(predictor.calls.map((c) => required(c.needed, 'needed lists').map((x) => Array.from(x)))).toEqual([[[0, 1, 2, 3]], [[0, 2]]]);
  });

  it('adds τ_g·G to the confidence before choosing', async () => {
    const predictor = fixedPredictor(FOUR, 1, 4, 2);
    const rng = createReplayRng({ uniforms: new Float32Array(8).fill(0.5), gumbels: Float64Array.of(2, 0, 0, 0, 0, 0, 0, 0) });
    const r = await generate({ predictor, condition: classCondition([3]), rng, iterations: 2, gumbelTemperature: 1, snapshots: true });
    // keys 2.2, 0.9, 0.5, 0.8
    expect(chosenOf(snapshotAt(r, 0))).toEqual([0, 1]);
    expect(snapshotAt(r, 0).scores[0]).toBe(Math.fround(0.2 + 2));
  });

  it('threshold commit rule sets 1[p > 0.5] and draws no uniforms', async () => {
    const predictor = fixedPredictor(FOUR, 1, 4, 2);
    const rng = createReplayRng({ uniforms: new Float32Array(0), gumbels: new Float64Array(8) });
    const r = await generate({ predictor, condition: classCondition([3]), rng, iterations: 2, gumbelTemperature: 0, commit: 'threshold' });
    expect(Array.from(r.codes.data)).toEqual([1, 0, 1, 0, 1, 0, 0, 1]);
  });

  it("uses the paper's entropy confidence when asked", async () => {
    // token 0: all bits 0.8 (margin 0.6, 1-H 0.278); token 1: (1, 0.5) (margin 0.5, 1-H 0.5)
    const probs = Float32Array.of(0.8, 0.8, 1, 0.5);
    const run = async (confidence: 'margin' | 'entropy') => {
      const rng = createReplayRng({ uniforms: new Float32Array(4).fill(0.5), gumbels: new Float64Array(2) });
      const r = await generate({
        predictor: fixedPredictor(probs, 1, 2, 2),
        condition: classCondition([0]),
        rng,
        iterations: 1,
        gumbelTemperature: 0,
        confidence,
        snapshots: true,
        order: 'entropy',
      });
      return snapshotAt(r, 0);
    };
    // with 2 tokens and 1 iteration both are committed; the order is the ranking
    expect(chosenOf(await run('margin'))).toEqual([0, 1]);
    expect(chosenOf(await run('entropy'))).toEqual([1, 0]);
  });
});

describe('classifier-free guidance', () => {
  it('passes the scheduled scale to the predictor and the guided probabilities decide the bits', async () => {
    // one token, one bit, 2 samples x 2 tokens; cond logit +1, uncond -1
    const calls: number[] = [];
    const predictor: MaskedBitPredictor = {
      tokens: 2,
      bitsPerToken: 1,
      nullClass: 10,
      async predict(req: PredictRequest) {
        calls.push(req.cfgScale);
        const p = flipToZeroProbability(guidedLogit(1, -1, req.cfgScale), 0);
        return new CpuTensor<'float32'>(new Float32Array(2).fill(p), [1, 2, 1]);
      },
    };
    // I = 2, s = 3, linear: scales 1 + 2·0.5 = 2 then 3. Guided logits 3 and 5: p = 0.9526, 0.9933.
    // u = 0.9 and 0.99 are below the guided p but above the unguided σ(1) = 0.731, so both bits are 1 only with CFG.
    const rng = createReplayRng({ uniforms: Float32Array.of(0.9, 0.99), gumbels: new Float64Array(4) });
    const r = await generate({ predictor, condition: classCondition([1]), rng, iterations: 2, cfgScale: 3, cfgSchedule: 'linear', gumbelTemperature: 0 });
    expect(calls).toEqual([2, 3]);
    expect(Array.from(r.codes.data)).toEqual([1, 1]);
    // the same u with s = 1 (no guidance) gives 0, 0
    const rng1 = createReplayRng({ uniforms: Float32Array.of(0.9, 0.99), gumbels: new Float64Array(4) });
    const r1 = await generate({ predictor, condition: classCondition([1]), rng: rng1, iterations: 2, cfgScale: 1, gumbelTemperature: 0 });
    expect(Array.from(r1.codes.data)).toEqual([0, 0]);
  });
});

describe('ordering strategies (Table 3)', () => {
  const probs = new Float32Array(6 * 2).fill(0.5).map((_, i) => (i % 3) / 3);
  it('random: descending order of a fresh Gumbel key per token', async () => {
    const rng = createReplayRng({ uniforms: new Float32Array(12).fill(0.5), gumbels: Float64Array.of(0.1, 3, -1, 2, 0.5, 1, /* it 1 */ 0, 0, 0, 0, 0, 0) });
    const r = await generate({
      predictor: fixedPredictor(probs, 1, 6, 2),
      condition: classCondition([0]),
      rng,
      iterations: 2,
      order: 'random',
      snapshots: true,
    });
    const counts = Array.from(unmaskCounts(6, 2));
    expect(chosenOf(snapshotAt(r, 0))).toEqual([1, 3, 5, 4, 0, 2].slice(0, counts[0]));
    expect(rng.gumbelsLeft).toBe(0);
  });

  it('raster: lowest indices first, and only the chosen tokens are predicted', async () => {
    const predictor = fixedPredictor(probs, 1, 6, 2);
    const rng = createReplayRng({ uniforms: new Float32Array(12).fill(0.5), gumbels: new Float64Array(0) });
    const r = await generate({ predictor, condition: classCondition([0]), rng, iterations: 3, order: 'raster', snapshots: true });
    const counts = Array.from(unmaskCounts(6, 3)); // [1, 2, 3]... whatever the schedule gives
    let next = 0;
    for (const [i, s] of snapshotsOf(r).entries()) {
      const count = at(counts, i, 'scheduled count');
      expect(chosenOf(s)).toEqual(Array.from({ length: count }, (_, j) => next + j));
      next += count;
    }
    expect(predictor.calls.map((c) => neededOf(c))).toEqual(snapshotsOf(r).map((s) => chosenOf(s)));
  });

  it('autoregressive: one token per iteration in raster order', async () => {
    const predictor = fixedPredictor(probs, 1, 6, 2);
    const rng = createReplayRng({ uniforms: new Float32Array(12).fill(0.5), gumbels: new Float64Array(0) });
    const r = await generate({ predictor, condition: classCondition([0]), rng, iterations: 3, order: 'autoregressive', snapshots: true });
    expect(snapshotsOf(r).map((s) => chosenOf(s))).toEqual([[0], [1], [2], [3], [4], [5]]);
    expect(predictor.calls.map((c) => neededOf(c))).toEqual([[0], [1], [2], [3], [4], [5]]);
  });
});

describe('sampler loop', () => {
  it.each([
    [16, 20],
    [16, 10],
    [64, 10],
    [256, 20],
  ])('unmasks every token exactly once (%i tokens, %i iterations), as scheduled', async (N, I) => {
    const predictor = hashPredictor(N, 4);
    const r = await generate({ predictor, condition: classCondition([1, 2]), rng: createRng(5), iterations: I, snapshots: true });
    const counts = unmaskCounts(N, I);
    const seen = [new Uint8Array(N), new Uint8Array(N)];
    for (const [i, s] of snapshotsOf(r).entries()) {
      for (const [b, row] of seen.entries()) {
        const chosen = chosenOf(s, b);
        expect(chosen.length).toBe(counts[i]);
        for (const n of chosen) row[n] = at(row, n, 'token') + 1;
      }
    }
    for (const row of seen) expect(Array.from(row)).toEqual(new Array(N).fill(1));
    expect(r.usedFallback).toBe(false);
    // iterations with k = 0 for every sample do not call the predictor; the others call it once or twice
    const busy = Array.from(counts).filter((c) => c > 0).length;
    expect(r.predictorCalls).toBeGreaterThanOrEqual(busy);
    expect(r.predictorCalls).toBeLessThanOrEqual(2 * busy);
  });

  it('gives the same codes for the same seed and different codes for another', async () => {
    const run = (seed: number) => generate({ predictor: hashPredictor(16, 4), condition: classCondition([1, 2, 3]), rng: createRng(seed), iterations: 6 });
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(Array.from(a.codes.data)).toEqual(Array.from(b.codes.data));
    expect(Array.from(a.codes.data)).not.toEqual(Array.from(c.codes.data));
  });

  it('reports progress per iteration and stops on abort', async () => {
    const events: ProgressEvent[] = [];
    await generate({ predictor: hashPredictor(16, 2), condition: unconditional(1, 10), rng: createRng(1), iterations: 4, onProgress: (e) => events.push(e) });
    expect(events.map((e) => [e.current, e.total])).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    const controller = new AbortController();
    const p = generate({
      predictor: hashPredictor(16, 2),
      condition: unconditional(1, 10),
      rng: createRng(1),
      iterations: 4,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.current === 2) controller.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('decodes with a tokenizer when given', async () => {
    const { stubTokenizer } = await import('./test/helpers.js');
    const tok = stubTokenizer(2, 2, 4);
    const r = await generate({ predictor: hashPredictor(4, 4), condition: classCondition([0]), rng: createRng(3), iterations: 2, tokenizer: tok });
    const images = required(r.images, 'decoded images');
    expect(images.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(images.data).every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('rejects bad shapes and settings with explicit errors', async () => {
    const predictor = hashPredictor(4, 2);
    await expect(generate({ predictor, condition: classCondition([0]), rng: createRng(1), iterations: 0 })).rejects.toThrow(/iterations = 0/);
    await expect(generate({ predictor, condition: classCondition([0]), rng: createRng(1), order: 'spiral' as never })).rejects.toThrow(/Unknown ordering/);
    await expect(
      sampleTokens({ predictor, condition: classCondition([0]), rng: createRng(1), initialMask: new CpuTensor<'uint8'>(new Uint8Array(3), [1, 3]) }),
    ).rejects.toThrow(/initialMask has shape/);
  });
});
