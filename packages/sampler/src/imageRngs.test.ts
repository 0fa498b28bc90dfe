import { at, ConfigError, CpuTensor, dims3, ShapeError, createRng } from '@bigr/core';
import type { MaskedBitPredictor, PredictRequest } from '@bigr/core';
import { classCondition } from './conditions.js';
import { generate } from './generate.js';
import { ImageRngs, imageRngs, isImageRngs } from './imageRngs.js';
import { hashPredictor } from './test/helpers.js';

/**
 * The hash predictor plus a transcoder-like draw: `rng.uniformsF32(R·K)` over the gathered rows, each row's
 * probabilities nudged by its uniforms (so the result depends on which numbers each row received).
 */
function drawingPredictor(tokens: number, bits: number): MaskedBitPredictor {
  const inner = hashPredictor(tokens, bits);
  return {
    tokens,
    bitsPerToken: bits,
    nullClass: inner.nullClass,
    async predict(request: PredictRequest) {
      const out = await inner.predict(request);
      const [B] = dims3(request.bits.shape, 'predictor bits');
      const needed = request.needed ?? Array.from({ length: B }, () => Int32Array.from({ length: tokens }, (_, n) => n));
      let R = 0;
      for (const l of needed) R += l.length;
      const u = request.rng.uniformsF32(R * bits);
      let r = 0;
      const p = out.data.slice();
      for (const [b, list] of needed.entries()) {
        for (const n of list) {
          for (let k = 0; k < bits; k++) {
            const i = (b * tokens + n) * bits + k;
            p[i] = Math.fround(0.9 * at(p, i, 'probability') + 0.1 * at(u, r * bits + k, 'uniform'));
          }
          r++;
        }
      }
      return new CpuTensor<'float32'>(p, out.shape);
    },
  };
}

describe('ImageRngs: one stream per image', () => {
  it('splits array draws evenly, or by segment weights, from each stream in order', () => {
    const rngs = imageRngs([5, 6, 7]);
    const u = rngs.uniformsF32(6);
    expect(Array.from(u.subarray(0, 2))).toEqual(Array.from(createRng(5).uniformsF32(2)));
    expect(Array.from(u.subarray(4, 6))).toEqual(Array.from(createRng(7).uniformsF32(2)));
    // Streams advance: the next draw continues each image's sequence; weight 0 leaves a stream untouched.
    const seg = rngs.segments([1, 0, 2]).uniformsF32(6);
    const a = createRng(5);
    a.uniformsF32(2);
    const c = createRng(7);
    c.uniformsF32(2);
    expect(Array.from(seg)).toEqual([...a.uniformsF32(2), ...c.uniformsF32(4)]);
    expect(Array.from(at(rngs.streams, 1, 'stream').uniformsF32(1))).toEqual(Array.from(createRng(6).uniformsF32(3).subarray(2)));
    expect(() => rngs.uniformsF32(4)).toThrow(ShapeError);
    expect(() => rngs.uniform()).toThrow(ConfigError);
    expect(imageRngs([9]).uniform()).toBe(createRng(9).uniform());
    expect(isImageRngs(rngs)).toBe(true);
    expect(isImageRngs(createRng(1))).toBe(false);
    expect(() => rngs.getState()).toThrow(ConfigError);
  });

  it.each([
    { name: 'entropy order with Gumbel pruning (two predictor stages)', settings: { gumbelTemperature: 2, iterations: 5 } },
    { name: 'entropy order without noise', settings: { gumbelTemperature: 0, iterations: 4 } },
    { name: 'full prediction (predictOnlyNeeded false)', settings: { gumbelTemperature: 0.5, iterations: 3, predictOnlyNeeded: false } },
    { name: 'random order', settings: { order: 'random' as const, iterations: 4 } },
  ])('a batch gives every image the bits it gets alone: $name', async ({ settings }) => {
    const N = 12;
    const K = 4;
    const labels = [3, 1, 3, 7, 0];
    const seeds = [100, 101, 102, 103, 104];
    const batch = await generate({ predictor: drawingPredictor(N, K), condition: classCondition(labels), rng: imageRngs(seeds), cfgScale: 2, ...settings });
    for (const [b, label] of labels.entries()) {
      const alone = await generate({
        predictor: drawingPredictor(N, K),
        condition: classCondition([label]),
        rng: createRng(at(seeds, b, 'seed')),
        cfgScale: 2,
        ...settings,
      });
      expect(Array.from(alone.codes.data)).toEqual(Array.from(batch.codes.data.subarray(b * N * K, (b + 1) * N * K)));
    }
    // Any split into shards gives the same bits too.
    const first = await generate({
      predictor: drawingPredictor(N, K),
      condition: classCondition(labels.slice(0, 2)),
      rng: imageRngs(seeds.slice(0, 2)),
      cfgScale: 2,
      ...settings,
    });
    expect(Array.from(first.codes.data)).toEqual(Array.from(batch.codes.data.subarray(0, 2 * N * K)));
  });

  it('refuses a stream count that does not match the batch', async () => {
    await expect(
      generate({ predictor: drawingPredictor(4, 2), condition: classCondition([1, 2]), rng: new ImageRngs([createRng(1)]), iterations: 2 }),
    ).rejects.toBeInstanceOf(ShapeError);
  });
});
