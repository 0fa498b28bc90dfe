import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, CpuTensor, required, Trainer, type Engine, type NamedTensors, type Rng } from '@bigr/core';
import { resolveBackboneConfig } from './config.js';
import { backboneTrainerOptions, createBackboneTrainer } from './backboneTrainer.js';
import { initialiseBackbone } from './initialise.js';
import { prepareMaskedModellingBatch, type MaskedModellingData } from './trainingStep.js';
import { engineNamed, randomBits, rngFor, tensorNamed } from './test/helpers.js';
import { linearBceHead } from './test/linearBceHead.js';

const B = 4;

describe('masked-modelling training on tfjs-wasm', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await engineNamed('tfjs-wasm', 'training');
  });

  it('prepares batches reproducibly: same count per row, label dropout to the null class, head inputs drawn', () => {
    const config = resolveBackboneConfig({ dim: 32, layers: 1, heads: 2, bitsPerToken: 8, tokens: 16, numClasses: 4, classDropoutProb: 0.5 });
    const head = linearBceHead(32, 8);
    const data: MaskedModellingData = { bits: new CpuTensor(randomBits(B * 16 * 8, rngFor(3)), [B, 16, 8]), labels: Int32Array.from([0, 1, 2, 3]) };
    const a = prepareMaskedModellingBatch(config, head, data, rngFor(9));
    const b = prepareMaskedModellingBatch(config, head, data, rngFor(9));
    expect(Array.from(a.mask)).toEqual(Array.from(b.mask));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    for (let i = 0; i < B; i++) expect(a.mask.subarray(i * 16, i * 16 + 16).reduce((s, v) => s + v, 0)).toBe(a.maskCount);
    a.labels.forEach((y, i) => {
      expect([i, 4]).toContain(y);
    });
    expect(a.classWeights.reduce((s, v) => s + v, 0)).toBe(B);
    expect(a.headInputs['row_weight']?.shape).toEqual([B * 16]);
  });

  it('a small model overfits a fixed batch (loss falls by > 90%)', async () => {
    const config = resolveBackboneConfig({
      dim: 32,
      layers: 2,
      heads: 2,
      bitsPerToken: 8,
      tokens: 16,
      numClasses: 4,
      classDropoutProb: 0,
      residDropout: 0,
      ffnDropout: 0,
    });
    const head = linearBceHead(config.dim, config.bitsPerToken);
    const params: NamedTensors = new Map([...initialiseBackbone(config, rngFor('init')), ...head.initParameters(rngFor('head'))]);
    const data: MaskedModellingData = { bits: new CpuTensor(randomBits(B * 16 * 8, rngFor('data')), [B, 16, 8]), labels: Int32Array.from([0, 1, 2, 3]) };
    // One fixed batch: the same bits, labels, mask and head inputs at every step.
    const batch = prepareMaskedModellingBatch(config, head, data, rngFor('mask'));
    expect(batch.maskCount).toBeGreaterThan(0);
    const options = backboneTrainerOptions(config, head, () => data, { engine, seed: 7, learningRate: 1e-2, emaDecay: null });
    const trainer = await Trainer.create(params, { ...options, batches: () => batch });
    await trainer.run({ steps: 120 });
    const l = trainer.losses;
    const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const start = mean(l.slice(0, 5));
    const end = mean(l.slice(-10));
    expect(l[0]).toBeCloseTo(Math.log(2), 1);
    expect(end).toBeLessThan(0.1 * start);
    trainer.dispose();
  });

  it('checkpoint, abort, resume reproduces the uninterrupted loss curve (dropout and label dropout on)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bigr-backbone-train-'));
    try {
      const config = resolveBackboneConfig({ dim: 32, layers: 2, heads: 2, bitsPerToken: 8, tokens: 16, numClasses: 4 });
      const head = linearBceHead(config.dim, config.bitsPerToken);
      const params: NamedTensors = new Map([...initialiseBackbone(config, rngFor('init')), ...head.initParameters(rngFor('head'))]);
      const data = (_step: number, rng: Rng): MaskedModellingData => ({
        bits: new CpuTensor(randomBits(B * 16 * 8, rng), [B, 16, 8]),
        labels: Int32Array.from({ length: B }, () => rng.int(4)),
      });
      const common = { engine, seed: 11, learningRate: 1e-3 };
      const ref = await createBackboneTrainer(config, head, params, data, common);
      await ref.run({ steps: 12 });
      ref.dispose();

      const ctl = new AbortController();
      const a = await createBackboneTrainer(config, head, params, data, { ...common, checkpointDirectory: dir, checkpointEvery: 5 });
      await expect(a.run({ steps: 12, signal: ctl.signal, onProgress: (e) => e.current === 6 && ctl.abort() })).rejects.toThrow(AbortError);
      a.dispose();
      const b = await createBackboneTrainer(config, head, params, data, { ...common, checkpointDirectory: dir, resume: true });
      expect(b.step).toBe(6);
      await b.run({ steps: 12 });
      expect(b.losses).toEqual(ref.losses);
      const refEma = required(ref.emaParameters(), 'EMA parameters of the uninterrupted run');
      const gotEma = required(b.emaParameters(), 'EMA parameters of the resumed run');
      for (const name of ['layers.1.attention.wqkv.weight', 'mask_tok', 'denoise_mlp.linear.weight']) {
        expect(Array.from(tensorNamed(gotEma, name).data)).toEqual(Array.from(tensorNamed(refEma, name).data));
      }
      b.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
