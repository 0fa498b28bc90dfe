/**
 * The zero-shot applications of docs/algorithm.md §8 with a stub tokenizer and stub predictors.
 */
import { at, createRng, CpuTensor, required } from '@bigr/core';
import type { Condition } from '@bigr/core';
import { classCondition, interpolationCondition } from './conditions.js';
import { editImage } from './edit.js';
import { enrichImage, shuffleInPlace, subLatticeMask } from './enrich.js';
import { generate, sampleTokens } from './generate.js';
import { inpaint, outpaint } from './inpaint.js';
import { interpolateClasses, interpolationSweepWeights } from './interpolate.js';
import { resizeBilinear } from './resize.js';
import { chosenOf, embeddingPredictor, hashPredictor, snapshotsOf, stubTokenizer } from './test/helpers.js';

const ROWS = 4;
const K = 4;
const N = ROWS * ROWS;
const image = new CpuTensor<'float32'>(
  Float32Array.from({ length: 8 * 8 }, (_, i) => Math.abs(Math.sin(i * 0.37))),
  [1, 1, 8, 8],
);

function tokensOf(codes: CpuTensor<'uint8'>, b: number, n: number): number[] {
  return Array.from(codes.data.subarray((b * N + n) * K, (b * N + n + 1) * K));
}

describe('inpainting (docs/algorithm.md §8.1)', () => {
  it('keeps every known token bit for bit and regenerates the region once ("masked" budget)', async () => {
    const tok = stubTokenizer(ROWS, ROWS, K);
    const predictor = hashPredictor(N, K);
    const region = Uint8Array.from({ length: N }, (_, n) => (n % 4 >= 1 && n % 4 <= 2 && n >= 4 && n < 12 ? 1 : 0)); // 4 tokens
    const r = await inpaint({
      predictor,
      tokenizer: tok,
      image,
      region: { kind: 'tokens', mask: region },
      rng: createRng(1),
      budget: 'masked',
      snapshots: true,
    });
    expect(tok.encodeCalls).toBe(1);
    expect(r.codes.shape).toEqual([8, N, K]);
    expect(required(r.images, 'decoded images').shape).toEqual([8, 1, 8, 8]);
    for (let b = 0; b < 8; b++) for (let n = 0; n < N; n++) if (!region[n]) expect(tokensOf(r.codes, b, n)).toEqual(tokensOf(r.sourceBits, b, n));
    const picked = new Uint8Array(8 * N);
    for (const s of snapshotsOf(r)) {
      for (const [b, chosen] of s.chosen.entries()) for (const n of chosen) picked[b * N + n] = at(picked, b * N + n, 'token') + 1;
    }
    for (let b = 0; b < 8; b++) for (let n = 0; n < N; n++) expect(picked[b * N + n]).toBe(region[n]);
    // each sample was encoded with its own Bernoulli draw
    expect(tokensOf(r.sourceBits, 0, 0).concat(tokensOf(r.sourceBits, 0, 1))).not.toEqual(tokensOf(r.sourceBits, 1, 0).concat(tokensOf(r.sourceBits, 1, 1)));
    // null class
    for (const c of predictor.calls) expect(c.request.condition).toEqual({ kind: 'class', labels: new Int32Array(8).fill(10) });
  });

  it("'known' budget with fewer known than masked tokens: known kept, remainder filled by the fallback with the unscheduled scale", async () => {
    const predictor = hashPredictor(N, K);
    const bits = new CpuTensor<'uint8'>(
      Uint8Array.from({ length: N * K }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0)),
      [1, N, K],
    );
    const region = Uint8Array.from({ length: N }, (_, n) => (n < 10 ? 1 : 0)); // 10 masked, 6 known
    const r = await inpaint({ predictor, bits, region: { kind: 'tokens', mask: region }, samples: 2, rng: createRng(2), cfgSchedule: 'linear', cfgScale: 3 });
    expect(r.usedFallback).toBe(true);
    expect(required(predictor.calls.at(-1), 'last predictor call').request.cfgScale).toBe(3);
    for (let b = 0; b < 2; b++) for (let n = 10; n < N; n++) expect(tokensOf(r.codes, b, n)).toEqual(tokensOf(bits, 0, n));
  });

  it("'known' budget with more known than masked tokens re-samples the lowest-index known tokens (official quirk)", async () => {
    const predictor = hashPredictor(N, K);
    const bits = new CpuTensor<'uint8'>(new Uint8Array(N * K), [1, N, K]);
    const region = Uint8Array.from({ length: N }, (_, n) => (n >= 12 ? 1 : 0)); // 4 masked, 12 known
    const r = await inpaint({ predictor, bits, region: { kind: 'tokens', mask: region }, samples: 1, rng: createRng(3), iterations: 6, snapshots: true });
    // linear counts over 12 known tokens: floor(12·(1 − r)) in float64 gives [2, 2, 2, 2, 3, 1] ((1 − 5/6)·12 < 2)
    expect(snapshotsOf(r).map((s) => s.counts[0])).toEqual([2, 2, 2, 2, 3, 1]);
    // the 4 masked tokens are done after 2 iterations; later picks are −∞ ties, i.e. the lowest-index known tokens
    expect(
      snapshotsOf(r)
        .slice(2)
        .map((s) => chosenOf(s)),
    ).toEqual([[0, 1], [0, 1], [0, 1, 2], [0]]);
    for (let n = 3; n < 12; n++) expect(tokensOf(r.codes, 0, n)).toEqual([0, 0, 0, 0]);
  });

  it('outpainting keeps the region and regenerates the rest', async () => {
    const tok = stubTokenizer(ROWS, ROWS, K);
    const r = await outpaint({
      predictor: hashPredictor(N, K),
      tokenizer: tok,
      image,
      region: { kind: 'boxes', boxes: [{ x0: 2, y0: 2, x1: 6, y1: 6 }] },
      samples: 2,
      rng: createRng(4),
      budget: 'masked',
    });
    // pixel box [2,6)² samples tokens (1..2, 1..2): kept
    const kept = [5, 6, 9, 10];
    expect(Array.from(r.regenerated.data.subarray(0, N)).flatMap((v, n) => (v ? [] : [n]))).toEqual(kept);
    for (let b = 0; b < 2; b++) for (const n of kept) expect(tokensOf(r.codes, b, n)).toEqual(tokensOf(r.sourceBits, b, n));
  });
});

describe('class-conditional editing', () => {
  it('conditions on the target class and keeps the known tokens', async () => {
    const predictor = hashPredictor(N, K);
    const bits = new CpuTensor<'uint8'>(
      Uint8Array.from({ length: N * K }, (_, i) => i % 2),
      [1, N, K],
    );
    const region = Uint8Array.from({ length: N }, (_, n) => (n < 8 ? 1 : 0));
    const r = await editImage({ predictor, bits, region: { kind: 'tokens', mask: region }, label: 7, samples: 3, rng: createRng(5) });
    for (const c of predictor.calls) expect(c.request.condition).toEqual({ kind: 'class', labels: Int32Array.of(7, 7, 7) });
    expect(at(predictor.calls, 0, 'predictor call').request.cfgScale).toBe(2.5);
    for (let b = 0; b < 3; b++) for (let n = 8; n < N; n++) expect(tokensOf(r.codes, b, n)).toEqual(tokensOf(bits, 0, n));
  });
});

describe('class interpolation (docs/algorithm.md §8.2)', () => {
  it('weight 1 equals conditioning on class a, weight 0 on class b', async () => {
    const run = (condition: Condition) =>
      generate({ predictor: embeddingPredictor(N, K), condition, rng: createRng(6), iterations: 5, gumbelTemperature: 0.2 });
    const a = await run(classCondition([2, 2]));
    const b = await run(classCondition([5, 5]));
    const w1 = await run(interpolationCondition([2, 2], [5, 5], 1));
    const w0 = await run(interpolationCondition([2, 2], [5, 5], 0));
    const mid = await run(interpolationCondition([2, 2], [5, 5], 0.5));
    expect(Array.from(w1.codes.data)).toEqual(Array.from(a.codes.data));
    expect(Array.from(w0.codes.data)).toEqual(Array.from(b.codes.data));
    expect(Array.from(mid.codes.data)).not.toEqual(Array.from(a.codes.data));
    expect(Array.from(a.codes.data)).not.toEqual(Array.from(b.codes.data));
  });

  it('sweeps the 27 script weights from one stream', async () => {
    const w = Array.from(interpolationSweepWeights());
    expect(w).toHaveLength(27);
    expect(w.slice(0, 4)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(w[4]).toBeCloseTo(0.32, 15);
    expect(w.slice(-4)).toEqual([0.7, 0.8, 0.9, 1]);
    const events: number[] = [];
    const results = await interpolateClasses({
      predictor: embeddingPredictor(N, K),
      classA: 1,
      classB: 3,
      weights: [1, 0.5, 0],
      samples: 2,
      rng: createRng(7),
      onProgress: (e) => events.push(e.current),
    });
    expect(results.map((r) => r.weight)).toEqual([1, 0.5, 0]);
    expect(events).toEqual([1, 2, 3]);
    // the first weight uses the stream from the start, so it equals plain class-1 generation with the script settings
    const plain = await generate({
      predictor: embeddingPredictor(N, K),
      condition: classCondition([1, 1]),
      rng: createRng(7),
      iterations: 20,
      gumbelTemperature: 0,
    });
    expect(Array.from(at(results, 0, 'first weight').codes.data)).toEqual(Array.from(plain.codes.data));
  });
});

describe('image enrichment (docs/algorithm.md §8.3)', () => {
  it('upsamples, encodes, and chains rounds of four sub-lattice inpaintings', async () => {
    const tok = stubTokenizer(ROWS, ROWS, K);
    const low = new CpuTensor<'float32'>(
      Float32Array.from({ length: 16 }, (_, i) => (i % 5) / 4),
      [1, 1, 4, 4],
    );
    const r = await enrichImage({ predictor: hashPredictor(N, K), tokenizer: tok, image: low, rounds: 2, rng: createRng(8), budget: 'masked' });
    // initial codes = Bernoulli encode of the bilinear upsample, drawn from the base stream
    const up = resizeBilinear(low, 8, 8);
    const enc = await stubTokenizer(ROWS, ROWS, K).encode(up, { mode: 'bernoulli', rng: createRng(8) });
    expect(Array.from(r.initialCodes.data)).toEqual(Array.from(enc.bits.data));
    expect(r.rounds).toHaveLength(2);
    // replay the two rounds by hand
    let codes = r.initialCodes;
    const base = createRng(8);
    for (let round = 0; round < 2; round++) {
      const rr = base.fork(`enrich-round-${round}`);
      const order = shuffleInPlace([0, 1, 2, 3], rr);
      const roundResult = at(r.rounds, round, 'enrichment round');
      expect(roundResult.offsetOrder).toEqual(order);
      for (const p of order) {
        const before = codes;
        const s = await sampleTokens({
          predictor: hashPredictor(N, K),
          condition: classCondition([10]),
          rng: rr,
          initialBits: codes,
          initialMask: subLatticeMask(p, [ROWS, ROWS], 1),
          iterations: 20,
          unmaskSchedule: 'linear',
          budget: 'masked',
          gumbelTemperature: 0,
          cfgScale: 10,
        });
        codes = s.codes;
        // with the 'masked' budget only the sub-lattice changes
        for (let n = 0; n < N; n++) {
          const onLattice = Math.floor(n / ROWS) % 2 === Math.floor(p / 2) && (n % ROWS) % 2 === p % 2;
          if (!onLattice) expect(tokensOf(codes, 0, n)).toEqual(tokensOf(before, 0, n));
        }
      }
      expect(Array.from(roundResult.codes.data)).toEqual(Array.from(codes.data));
      expect(required(roundResult.images, 'round images').shape).toEqual([1, 1, 8, 8]);
    }
  });

  it('sub-lattice masks cover each token exactly once over the four offsets', () => {
    const sum = new Uint8Array(N);
    for (let p = 0; p < 4; p++) {
      for (const [n, v] of subLatticeMask(p, [ROWS, ROWS], 1).data.entries()) sum[n] = at(sum, n, 'token') + v;
    }
    expect(Array.from(sum)).toEqual(new Array(N).fill(1));
    expect(Array.from(subLatticeMask(3, [ROWS, ROWS], 1).data)).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1]);
  });
});
