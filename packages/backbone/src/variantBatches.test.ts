import { CpuTensor } from '@bigr/core';
import { resolveBackboneConfig } from './config.js';
import { prepareMaskedModellingBatch, type MaskedModellingData } from './trainingStep.js';
import { randomBits, rngFor } from './test/helpers.js';
import { linearBceHead } from './test/linearBceHead.js';

const B = 4;
const data: MaskedModellingData = { bits: new CpuTensor(randomBits(B * 16 * 8, rngFor(3)), [B, 16, 8]), labels: Int32Array.from([0, 1, 2, 3]) };

describe('training batches of the paper variants (docs/algorithm.md §13)', () => {
  it('unconditional training never sees a class: every label is the null class, with or without label dropout', () => {
    const config = resolveBackboneConfig({ dim: 32, layers: 1, heads: 2, bitsPerToken: 8, tokens: 16, numClasses: 4, classDropoutProb: 0.5 });
    const head = linearBceHead(32, 8);
    for (let seed = 0; seed < 20; seed++) {
      const batch = prepareMaskedModellingBatch(config, head, data, rngFor(seed), { unconditional: true });
      expect(Array.from(batch.labels)).toEqual([4, 4, 4, 4]);
      for (let i = 0; i < B; i++) {
        const row = Array.from(batch.classWeights.subarray(i * 5, (i + 1) * 5));
        expect(row).toEqual([0, 0, 0, 0, 1]);
      }
    }
  });

  it('a causal backbone trains on every token: no mask is drawn', () => {
    const config = resolveBackboneConfig({ dim: 32, layers: 1, heads: 2, bitsPerToken: 8, tokens: 16, numClasses: 4, attention: 'causal' });
    const batch = prepareMaskedModellingBatch(config, linearBceHead(32, 8), data, rngFor(5));
    expect(batch.mask.every((m) => m === 0)).toBe(true);
    expect(batch.maskCount).toBe(0);
  });
});
