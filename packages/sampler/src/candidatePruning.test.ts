import { at, createRng } from '@bigr/core';
import { kthLargestKey, planCandidates, secondStage } from './candidatePruning.js';
import { addGumbel } from './gumbel.js';
import { chooseTokens } from './ordering.js';

describe('Gumbel-bound candidate pruning', () => {
  it('rules out tokens whose best possible key is below the k-th worst-case key (hand example)', () => {
    // k = 1, τ = 1: lower bounds = G, upper bounds = 1 + G; the best lower bound is 5 (token 0), so only tokens with
    // 1 + G >= 5 can win: token 0 (6) and token 4 (5.2).
    const plan = planCandidates(new Uint8Array(6).fill(1), Float64Array.of(5, 0, 3.5, -1, 4.2, 2), 0, 6, 1, 1);
    expect(Array.from(plan.first)).toEqual([0, 4]);
    expect(plan.pending).toHaveLength(0);
    // fixed tokens are never candidates
    const plan2 = planCandidates(Uint8Array.of(0, 1, 1, 1, 1, 1), Float64Array.of(5, 0, 3.5, -1, 4.2, 2), 0, 6, 1, 1);
    expect(Array.from(plan2.first)).toEqual([2, 4]); // floor 4.2 (token 4): U = 4.5 (2), 5.2 (4)
  });

  it('splits large candidate sets and keeps the pending ones whose bound reaches the threshold', () => {
    const g = Float64Array.from({ length: 40 }, (_, i) => (i * 0.37) % 0.9);
    const plan = planCandidates(new Uint8Array(40).fill(1), g, 0, 40, 2, 1);
    expect(plan.first).toHaveLength(10); // max(2k, k + 8)
    expect(plan.pending).toHaveLength(30);
    const upper = (n: number): number => Math.fround(1 + Math.fround(at(g, n, 'Gumbel noise')));
    const upperFirstMin = Math.min(...Array.from(plan.first, upper));
    expect(Math.max(...plan.pendingUpper)).toBeLessThanOrEqual(upperFirstMin);
    const second = secondStage(plan, 1.5);
    const expected = Array.from(plan.pending)
      .filter((n) => upper(n) >= 1.5)
      .sort((a, b) => a - b);
    expect(Array.from(second)).toEqual(expected);
  });

  it('never changes the chosen tokens (random trials against a full top-k)', () => {
    const rng = createRng('pruning');
    for (let trial = 0; trial < 300; trial++) {
      const N = 8 + rng.int(60);
      const mask = Uint8Array.from({ length: N }, () => (rng.uniform() < 0.7 ? 1 : 0));
      const m = mask.reduce((a, b) => a + b, 0);
      if (m < 2) continue;
      const k = 1 + rng.int(m - 1);
      const taus = [0.01, 0.17, 0.3, 1, 3];
      const tau = at(taus, rng.int(taus.length), 'temperature');
      const g = rng.gumbels(N);
      const conf = Float64Array.from({ length: N }, () => Math.fround(rng.uniform() ** 2));
      const key = (n: number) => addGumbel(at(conf, n, 'confidence'), tau, at(g, n, 'Gumbel noise'));
      const full = new Float64Array(N).fill(Number.NEGATIVE_INFINITY);
      for (let n = 0; n < N; n++) if (mask[n]) full[n] = key(n);
      const pruned = new Float64Array(N).fill(Number.NaN);
      for (let n = 0; n < N; n++) if (!mask[n]) pruned[n] = Number.NEGATIVE_INFINITY;
      const plan = planCandidates(mask, g, 0, N, k, tau);
      for (const n of plan.first) pruned[n] = key(n);
      for (const n of secondStage(plan, kthLargestKey(pruned, 0, plan.first, k))) pruned[n] = key(n);
      expect(Array.from(chooseTokens(pruned, mask, 0, N, k))).toEqual(Array.from(chooseTokens(full, mask, 0, N, k)));
    }
  });
});
