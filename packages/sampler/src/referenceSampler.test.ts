/**
 * The optimised sampler (predicts only what it can commit, picks with a partial order) against the plain reference
 * (predicts every token every iteration, sorts everything): identical bits for the same RNG stream. The stub
 * predictor returns 0.5 for tokens it was not asked about, so any use of an unrequested prediction shows up.
 */
import { at, createRng, CpuTensor } from '@bigr/core';
import { classCondition, unconditional } from './conditions.js';
import { sampleTokens } from './generate.js';
import type { SampleTokensOptions } from './generate.js';
import { referenceSampleTokens } from './referenceSampler.js';
import { hashPredictor } from './test/helpers.js';
import { maskedBeforeIterations, unmaskCounts } from './unmaskSchedule.js';

function randomMask(batch: number, tokens: number, fraction: number, seed: number): CpuTensor<'uint8'> {
  const rng = createRng(seed);
  return new CpuTensor<'uint8'>(
    Uint8Array.from({ length: batch * tokens }, () => (rng.uniform() < fraction ? 1 : 0)),
    [batch, tokens],
  );
}

function randomBits(batch: number, tokens: number, bits: number, seed: number): CpuTensor<'uint8'> {
  const rng = createRng(seed);
  return new CpuTensor<'uint8'>(
    Uint8Array.from({ length: batch * tokens * bits }, () => (rng.uniform() < 0.5 ? 1 : 0)),
    [batch, tokens, bits],
  );
}

type Case = [string, Omit<SampleTokensOptions, 'predictor' | 'rng'>];
const N = 64;
const K = 4;
const cases: Case[] = [
  ['entropy, Table 7 L', { condition: classCondition([1, 2, 3]), iterations: 20, gumbelTemperature: 0.17 }],
  ['entropy, no Gumbel, linear CFG', { condition: classCondition([1, 2]), iterations: 10, gumbelTemperature: 0, cfgSchedule: 'linear', cfgScale: 4 }],
  [
    'entropy, Gumbel down, entropy confidence',
    { condition: classCondition([5]), iterations: 25, gumbelTemperature: 0.3, gumbelSchedule: 'down', confidence: 'entropy' },
  ],
  [
    'entropy, Gumbel up, threshold commits',
    { condition: classCondition([5, 6]), iterations: 8, gumbelTemperature: 1, gumbelSchedule: 'up', commit: 'threshold' },
  ],
  ['random order', { condition: classCondition([1, 9]), iterations: 10, order: 'random' }],
  ['raster order', { condition: classCondition([1, 9]), iterations: 10, order: 'raster' }],
  ['autoregressive', { condition: classCondition([4]), order: 'autoregressive' }],
  ['unconditional', { condition: unconditional(2, 10), iterations: 12 }],
  [
    'inpaint, known budget > masked (surplus re-samples)',
    {
      condition: unconditional(3, 10),
      iterations: 25,
      unmaskSchedule: 'linear',
      budget: 'known',
      gumbelTemperature: 0,
      initialBits: randomBits(3, N, K, 1),
      initialMask: randomMask(3, N, 0.25, 2),
    },
  ],
  [
    'outpaint, known budget < masked (fallback)',
    {
      condition: unconditional(2, 10),
      iterations: 25,
      unmaskSchedule: 'linear',
      budget: 'known',
      gumbelTemperature: 0,
      initialBits: randomBits(2, N, K, 3),
      initialMask: randomMask(2, N, 0.8, 4),
      cfgSchedule: 'linear',
    },
  ],
  [
    'edit, masked budget, cosine, Gumbel',
    {
      condition: classCondition([7, 7]),
      iterations: 10,
      unmaskSchedule: 'cosine',
      budget: 'masked',
      gumbelTemperature: 0.2,
      initialBits: randomBits(2, N, K, 5),
      initialMask: randomMask(2, N, 0.5, 6),
    },
  ],
  [
    'per-sample masks of different sizes',
    {
      condition: classCondition([1, 2, 3]),
      iterations: 7,
      unmaskSchedule: 'linear',
      budget: 'known',
      gumbelTemperature: 0.05,
      initialBits: randomBits(3, N, K, 7),
      initialMask: new CpuTensor<'uint8'>(
        Uint8Array.from({ length: 3 * N }, (_, i) => ((i < N ? (i % N) % 3 === 0 : i < 2 * N ? i % N < 50 : i % N < 5) ? 1 : 0)),
        [3, N],
      ),
    },
  ],
];

describe('optimised sampler vs reference sampler', () => {
  it.each(cases)('%s: identical bits for the same seed', async (_, opts) => {
    const a = await sampleTokens({ ...opts, predictor: hashPredictor(N, K), rng: createRng(42) });
    const b = await referenceSampleTokens({ ...opts, predictor: hashPredictor(N, K), rng: createRng(42) });
    expect(a.usedFallback).toBe(b.usedFallback);
    expect(Array.from(a.codes.data)).toEqual(Array.from(b.codes.data));
  });

  it('predicting everything (predictOnlyNeeded: false) gives the same bits with this predictor', async () => {
    const [, opts] = at(cases, 8, 'test case');
    const a = await sampleTokens({ ...opts, predictor: hashPredictor(N, K), rng: createRng(9) });
    const b = await sampleTokens({ ...opts, predictor: hashPredictor(N, K), rng: createRng(9), predictOnlyNeeded: false });
    expect(Array.from(a.codes.data)).toEqual(Array.from(b.codes.data));
  });

  it('asks for far fewer token predictions than the released sampler', async () => {
    const count = async (only: boolean, order: 'entropy' | 'raster', gumbelTemperature: number) => {
      const p = hashPredictor(N, K);
      await sampleTokens({
        condition: classCondition([1]),
        iterations: 20,
        order,
        gumbelTemperature,
        predictor: p,
        rng: createRng(1),
        predictOnlyNeeded: only,
      });
      return p.calls.reduce((s, c) => s + (c.needed ? at(c.needed, 0, 'needed tokens').length : N), 0);
    };
    const full = await count(false, 'entropy', 0);
    expect(full).toBe(20 * N);
    // without Gumbel noise: the masked tokens only, and nothing in iterations that commit no token, i.e. Σ
    // masked-before over the iterations with a non-zero count (about 55% of the work with the cosine schedule here)
    const counts = unmaskCounts(N, 20);
    const before = maskedBeforeIterations(N, 20);
    const masked = Array.from(before).reduce((acc, m, i) => acc + (at(counts, i, 'scheduled count') > 0 ? m : 0), 0);
    expect(await count(true, 'entropy', 0)).toBe(masked);
    // with strong Gumbel noise, the bounds rule out most tokens before they are predicted
    expect(await count(true, 'entropy', 1)).toBeLessThan(0.6 * masked);
    expect(await count(true, 'raster', 0)).toBe(N); // raster: exactly the committed tokens
  });
});
