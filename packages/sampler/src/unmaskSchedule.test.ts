import { at } from '@bigr/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cfgScaleAt } from './classifierFreeGuidance.js';
import { maskedBeforeIterations, maskRate, unmaskCounts } from './unmaskSchedule.js';
import { fixtureDir } from './test/helpers.js';

interface ScheduleEntry {
  num_tokens: number;
  num_iter: number;
  cfg_schedule: 'constant' | 'linear';
  cfg_scale: number;
  unmasked_per_iter: number[];
  masked_before_iter: number[];
  cfg_per_iter: number[];
}

const entries = JSON.parse(readFileSync(path.join(fixtureDir(), 'unmask_schedule.json'), 'utf8')) as ScheduleEntry[];

describe('unmask schedule (docs/algorithm.md §6)', () => {
  it('has fixture entries for every documented (tokens, iterations) pair', () => {
    const pairs = entries.map((e) => `${e.num_tokens}/${e.num_iter}/${e.cfg_schedule}`);
    for (const p of [
      '256/20/constant',
      '256/10/constant',
      '256/25/constant',
      '64/10/constant',
      '16/4/constant',
      '16/10/constant',
      '16/20/constant',
      '1024/20/constant',
      '64/10/linear',
    ]) {
      expect(pairs).toContain(p);
    }
  });

  it.each(entries.map((e) => [`${e.num_tokens} tokens, ${e.num_iter} iterations, ${e.cfg_schedule}`, e] as const))(
    'matches the official counts: %s',
    (_, e) => {
      expect(Array.from(unmaskCounts(e.num_tokens, e.num_iter, 'cosine'))).toEqual(e.unmasked_per_iter);
      expect(Array.from(maskedBeforeIterations(e.num_tokens, e.num_iter, 'cosine'))).toEqual(e.masked_before_iter);
      const cfg = Array.from({ length: e.num_iter }, (_, s) => cfgScaleAt(e.cfg_scale, e.cfg_schedule, s, e.num_iter));
      expect(cfg).toEqual(e.cfg_per_iter);
    },
  );

  it('matches the closed form floor(cos(pi/2 r) N) written out independently, and sums to N', () => {
    for (const N of [1, 7, 16, 64, 100, 256, 1024]) {
      for (const I of [1, 2, 4, 10, 20, 25, 50]) {
        const counts = unmaskCounts(N, I);
        let sum = 0;
        for (let s = 0; s < I; s++) {
          const before = Math.floor(Math.cos((Math.PI / 2) * (s / I)) * N);
          const after = Math.floor(Math.cos((Math.PI / 2) * ((s + 1) / I)) * N);
          // the first step starts from N itself (cos 0 = 1 exactly)
          expect(counts[s]).toBe((s === 0 ? N : before) - after);
          expect(counts[s]).toBeGreaterThanOrEqual(0);
          sum += at(counts, s, 'scheduled count');
        }
        expect(sum).toBe(N);
      }
    }
  });

  it('gives the docs/algorithm.md §6 examples for N = 256', () => {
    expect(Array.from(unmaskCounts(256, 20))).toEqual([1, 3, 4, 5, 7, 8, 10, 11, 13, 13, 15, 16, 17, 17, 19, 18, 20, 19, 20, 20]);
    expect(Array.from(unmaskCounts(256, 25))).toEqual([1, 2, 2, 4, 4, 5, 7, 7, 8, 9, 10, 11, 11, 12, 13, 13, 14, 15, 14, 15, 16, 16, 15, 16, 16]);
    expect(Array.from(unmaskCounts(256, 10))).toEqual([4, 9, 15, 21, 26, 31, 34, 37, 39, 40]);
  });

  it('supports the linear schedule of the apps: new = floor((1 - r) n)', () => {
    // 192 known tokens over 20 iterations (enrichment): floor(192·(1 − (s+1)/20)).
    const counts = unmaskCounts(192, 20, 'linear');
    const expected: number[] = [];
    let old = 192;
    for (let s = 0; s < 20; s++) {
      const next = Math.floor(192 * (1 - (s + 1) / 20));
      expected.push(old - next);
      old = next;
    }
    expect(Array.from(counts)).toEqual(expected);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(192);
    expect(maskRate('linear', 9, 20)).toBeCloseTo(0.5, 15);
  });

  it('rejects invalid arguments', () => {
    expect(() => unmaskCounts(-1, 10)).toThrow(/non-negative/);
    expect(() => unmaskCounts(16, 0)).toThrow(/positive integer/);
  });
});
