import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { perturbModelWeights, writeIdxDataset } from '../testing/evalFixtures.js';
import { createRng, resolveEngine } from '@bigr/core';
import '@bigr/engine-onnx';
import { BigrPipeline } from '@bigr/pipeline';
import { loadDataset } from '../datasets.js';
import { codeFeatures } from '../layerFeatures.js';
import { bestRow } from './probe.js';

let root: string;
let tiny: TinyModel;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-probe-'));
  tiny = await writeTinyModel(join(root, 'm'));
  await perturbModelWeights(tiny.modelDir, 0.05);
  data = await writeIdxDataset(join(root, 'idx'), { train: 48, test: 24, classes: 3 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface ProbeResult {
  sweep: { layer: number | string; baseLr: number; top1: number; top5: number }[];
  chosen: { layer: number | string; baseLr: number };
  final: { top1: number; top5: number; trainCount: number; testCount: number };
  features: { kind: string; dim: number };
  holdout: number;
}

const short = ['--epochs', '3', '--warmup', '1', '--batch-size', '8'];

describe('bigr probe', () => {
  it('sweeps layers × base lrs on a held-out split, then trains the best on all training images and tests it', async () => {
    const out = join(root, 'p', 'probe.json');
    const run = await runCli([
      '--json',
      'probe',
      '--model',
      tiny.modelDir,
      '--data',
      data,
      '--sweep',
      '--lr-sweep',
      '0.5,2',
      '--holdout',
      '12',
      ...short,
      '--out',
      out,
    ]);
    expect(run.stderr).not.toMatch(/bigr:/);
    expect(run.code).toBe(0);
    const res = JSON.parse(run.stdout) as ProbeResult;
    expect(res.sweep.map((r) => [r.layer, r.baseLr])).toEqual([
      [0, 0.5],
      [1, 0.5],
      [0, 2],
      [1, 2],
    ]);
    for (const r of res.sweep) {
      expect(r.top1).toBeGreaterThanOrEqual(0);
      expect(r.top1).toBeLessThanOrEqual(100);
      // Hold-out accuracies are multiples of 1/12.
      expect(Math.abs((r.top1 / 100) * 12 - Math.round((r.top1 / 100) * 12))).toBeLessThan(1e-9);
    }
    const best = bestRow(res.sweep.map((r) => ({ ...r, layer: Number(r.layer) })));
    expect(res.chosen).toEqual({ layer: best.layer, baseLr: best.baseLr });
    expect(res.final.trainCount).toBe(48);
    expect(res.final.testCount).toBe(24);
    expect(res.final.top5).toBe(100); // 3 classes ≤ 5
    expect(res.final.top1).toBeGreaterThanOrEqual(0);
    expect(res.features).toMatchObject({ kind: 'bigr', dim: 32 });
    const written = JSON.parse(await readFile(out, 'utf8')) as ProbeResult;
    expect(written.final).toEqual(res.final);
  });

  it('prints a table without --json, and probes one layer without a sweep', async () => {
    const run = await runCli(['probe', '--model', tiny.modelDir, '--data', data, '--layer', '0', ...short, '--out', join(root, 'q', 'probe.json')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/linear probe, layer 0, blr 2/);
    expect(run.stdout).toMatch(/top-1 +\d+\.\d\d %/);
  });

  it('runs the raw-pixel baseline on the unpadded 784-d images and separates the synthetic classes', async () => {
    const run = await runCli([
      '--json',
      'probe',
      '--raw-pixels',
      '--data',
      data,
      '--epochs',
      '40',
      '--warmup',
      '2',
      '--batch-size',
      '8',
      '--base-lr',
      '20',
      '--out',
      join(root, 'r', 'probe.json'),
    ]);
    expect(run.code).toBe(0);
    const res = JSON.parse(run.stdout) as ProbeResult;
    expect(res.features).toMatchObject({ kind: 'raw-pixels', dim: 784 });
    expect(res.chosen.layer).toBe('pixels');
    expect(res.final.top1).toBeGreaterThan(90);
  });

  it('runs the raw-codes baseline on the tokenizer’s N·K bits, the codes the backbone is fed for the same seed', async () => {
    const run = await runCli([
      '--json',
      'probe',
      '--raw-codes',
      '--model',
      tiny.modelDir,
      '--data',
      data,
      '--seed',
      '3',
      ...short,
      '--out',
      join(root, 'c', 'probe.json'),
    ]);
    expect(run.stderr).not.toMatch(/bigr:/);
    expect(run.code).toBe(0);
    const res = JSON.parse(run.stdout) as ProbeResult;
    expect(res.features).toMatchObject({ kind: 'raw-codes', dim: 16 * tiny.bitsPerToken, codes: 'bernoulli' });
    expect(res.chosen.layer).toBe('codes');
    expect(res.final.trainCount).toBe(48);
    expect(res.final.testCount).toBe(24);

    // The features: batch by batch, equal to one tokenizer.encode of the whole split with the probe's stream.
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const bigr = await BigrPipeline.fromDirectory(tiny.modelDir, engine);
    try {
      const images = (await loadDataset(data, 'train', { channels: 1 })).images;
      const got = await codeFeatures(bigr.tokenizer.tokenizer, images, { codes: 'bernoulli', rng: createRng('3/codes/train'), batchSize: 5 });
      const { bits } = await bigr.tokenizer.tokenizer.encode(images, { mode: 'bernoulli', rng: createRng('3/codes/train') });
      expect(bits.shape).toEqual([48, 16, tiny.bitsPerToken]);
      expect(got.dim).toBe(16 * tiny.bitsPerToken);
      expect(Array.from(got.features)).toEqual(Array.from(bits.data, Number));
      expect(new Set(got.features)).toEqual(new Set([0, 1]));
    } finally {
      await bigr.dispose();
    }
  });

  it('refuses two baselines at once, naming both flags', async () => {
    const run = await runCli(['probe', '--raw-codes', '--raw-pixels', '--data', data, '--out', join(root, 'd', 'probe.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--raw-pixels and --raw-codes/);
  });
});
