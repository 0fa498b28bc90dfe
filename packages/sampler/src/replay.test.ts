/**
 * Bit-exact replay of the official `generate_with_cfg` run recorded in generate_replay.safetensors, with a stub
 * predictor that returns the recorded predictions (docs/algorithm.md §6; docs/fixtures.md).
 */
import path from 'node:path';
import { at, CpuTensor, dims2, readSafetensors, required } from '@bigr/core';
import type { MaskedBitPredictor, PredictRequest } from '@bigr/core';
import { generate } from './generate.js';
import { referenceSampleTokens } from './referenceSampler.js';
import { createReplayRng } from './replayRng.js';
import { chosenOf, fixtureDir, snapshotAt } from './test/helpers.js';

interface Replay {
  t: (name: string) => CpuTensor;
  meta: Record<string, string>;
}

async function load(): Promise<Replay> {
  const { tensors, metadata } = await readSafetensors(path.join(fixtureDir(), 'generate_replay.safetensors'));
  return {
    t: (name) => {
      const x = tensors.get(name);
      if (!x) throw new Error(`fixture tensor ${name} missing`);
      return x;
    },
    meta: metadata,
  };
}

/** The uniforms of the 'unmask' Bernoulli calls only (the diffusion calls belong to the transcoder). */
function unmaskUniforms(f: Replay): Float32Array {
  const kinds = required(f.meta['bern_call_kinds'], 'bern_call_kinds metadata').split(',');
  const numel = f.t('bern_call_numel').data as Int32Array;
  const u = f.t('u_stream').data as Float32Array;
  expect(kinds.length).toBe(numel.length);
  const out: number[] = [];
  let pos = 0;
  for (const [i, kind] of kinds.entries()) {
    const count = at(numel, i, 'Bernoulli call size');
    if (kind === 'unmask') for (let j = 0; j < count; j++) out.push(at(u, pos + j, 'recorded uniform'));
    pos += count;
  }
  expect(pos).toBe(u.length);
  return Float32Array.from(out);
}

function recordedPredictor(f: Replay, iterations: number, checkInputs: boolean): MaskedBitPredictor & { calls: number } {
  const self = {
    tokens: 16,
    bitsPerToken: 16,
    nullClass: 10,
    calls: 0,
    async predict(req: PredictRequest) {
      self.calls++;
      // the iteration is the number of committed tokens' stage: find it from the mask
      let i = 0;
      while (i < iterations && Array.from(f.t(`iter${i}_mask_before`).data).some((m, t) => m !== req.mask.data[t])) i++;
      if (i >= iterations) throw new Error('predictor called with a state the official run never had');
      if (checkInputs) {
        expect(Array.from(req.mask.data)).toEqual(Array.from(f.t(`iter${i}_mask_before`).data));
        expect(Array.from(req.bits.data)).toEqual(Array.from(f.t(`iter${i}_seq_before`).data));
        expect(req.cfgScale).toBe(Number(f.meta.cfg_scale));
        expect(req.condition).toEqual({ kind: 'class', labels: Int32Array.of(3, 7) });
      }
      return new CpuTensor<'float32'>((f.t(`iter${i}_pred`).data as Float32Array).slice(), [2, 16, 16]);
    },
  };
  return self;
}

describe('replay of the official generate_with_cfg (generate_replay.safetensors)', () => {
  it.each([
    ['predicting only what can be chosen (default)', true],
    ['predicting every token, as the released code', false],
  ])('reproduces confidence, chosen indices and final_seq bit for bit, %s', async (_, predictOnlyNeeded) => {
    const f = await load();
    const iterations = Number(f.meta.num_iter);
    expect(iterations).toBe(4);
    const rng = createReplayRng({ uniforms: unmaskUniforms(f), gumbels: f.t('gumbel_stream').data as Float64Array });
    const predictor = recordedPredictor(f, iterations, true);
    const r = await generate({
      predictor,
      condition: { kind: 'class', labels: f.t('labels').data as Int32Array },
      rng,
      iterations,
      cfgScale: Number(f.meta.cfg_scale),
      cfgSchedule: f.meta.cfg_schedule as 'constant',
      gumbelTemperature: Number(f.meta.gumbel_temp),
      gumbelSchedule: f.meta.gumbel_schedule as 'constant',
      snapshots: true,
      predictOnlyNeeded,
    });
    // one call per iteration, two when the Gumbel bounds split the candidates
    expect(predictor.calls).toBeGreaterThanOrEqual(iterations);
    for (let i = 0; i < iterations; i++) {
      const s = snapshotAt(r, i);
      const conf = f.t(`iter${i}_confidence`).data as Float32Array;
      // exact, −∞ included; NaN marks tokens the Gumbel bounds ruled out without predicting them
      const computed = Array.from(s.scores, (v, t) => (Number.isNaN(v) ? at(conf, t, 'recorded confidence') : v));
      expect(computed).toEqual(Array.from(conf));
      if (!predictOnlyNeeded) expect(s.scores.every((v) => !Number.isNaN(v))).toBe(true);
      const chosen = f.t(`iter${i}_chosen`);
      const [, k] = dims2(chosen.shape, 'recorded chosen tokens');
      for (let b = 0; b < 2; b++) expect(chosenOf(s, b)).toEqual(Array.from(chosen.data.subarray(b * k, (b + 1) * k)));
      if (i + 1 < iterations) expect(Array.from(s.mask.data)).toEqual(Array.from(f.t(`iter${i + 1}_mask_before`).data));
    }
    expect(Array.from(r.codes.data)).toEqual(Array.from(f.t('final_seq').data));
    expect(rng.uniformsLeft).toBe(0);
    expect(rng.gumbelsLeft).toBe(0);
    expect(r.usedFallback).toBe(false);
  });

  it('the reference sampler replays final_seq too', async () => {
    const f = await load();
    const rng = createReplayRng({ uniforms: unmaskUniforms(f), gumbels: f.t('gumbel_stream').data as Float64Array });
    const r = await referenceSampleTokens({
      predictor: recordedPredictor(f, 4, false),
      condition: { kind: 'class', labels: f.t('labels').data as Int32Array },
      rng,
      iterations: 4,
      cfgScale: 2.5,
      gumbelTemperature: 0.5,
    });
    expect(Array.from(r.codes.data)).toEqual(Array.from(f.t('final_seq').data));
  });

  it('the recorded Bernoulli outcomes agree with u < p on the unmask calls (teacher-forcing sanity)', async () => {
    const f = await load();
    const kinds = required(f.meta['bern_call_kinds'], 'bern_call_kinds metadata').split(',');
    const numel = f.t('bern_call_numel').data as Int32Array;
    const out = f.t('bern_out_stream').data as Uint8Array;
    const u = f.t('u_stream').data as Float32Array;
    const final = f.t('final_seq').data as Float32Array;
    // the 'unmask' outcomes, in (b, rank, bit) order per iteration, are the final bits of the chosen tokens
    let pos = 0;
    let iter = 0;
    for (const [c, kind] of kinds.entries()) {
      if (kind === 'unmask') {
        const chosen = f.t(`iter${iter}_chosen`);
        const [, k] = dims2(chosen.shape, 'recorded chosen tokens');
        const pred = f.t(`iter${iter}_pred`).data as Float32Array;
        let j = pos;
        for (let b = 0; b < 2; b++)
          for (let r = 0; r < k; r++)
            for (let bit = 0; bit < 16; bit++, j++) {
              const n = at(chosen.data, b * k + r, 'recorded chosen token');
              expect(out[j]).toBe(final[(b * 16 + n) * 16 + bit]);
              expect(at(u, j, 'recorded uniform') < at(pred, (b * 16 + n) * 16 + bit, 'recorded prediction') ? 1 : 0).toBe(out[j]);
            }
        iter++;
      }
      pos += at(numel, c, 'Bernoulli call size');
    }
    expect(iter).toBe(4);
  });
});
