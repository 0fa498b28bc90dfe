import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpz } from '@bigr/eval';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { syntheticFashionBytes, writeIdxDataset, writeTinyClassifier } from '../testing/evalFixtures.js';
import { loadFashionClassifier } from '../fashionClassifier.js';

let root: string;
let data: string;
let classifier: string;
let tiny: TinyModel;
let common: string[];

const TRAIN = 120;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-eval-'));
  data = await writeIdxDataset(join(root, 'idx'), { train: TRAIN, test: 40, classes: 10 });
  classifier = await writeTinyClassifier(join(root, 'classifier'));
  tiny = await writeTinyModel(join(root, 'm'));
  common = [
    '--data',
    data,
    '--classifier',
    classifier,
    '--cache-dir',
    join(root, 'cache'),
    '--kid-subsets',
    '4',
    '--kid-subset-size',
    '12',
    '--is-splits',
    '3',
  ];
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface EvalResult {
  extractor: string;
  classifier: { weightsSha256: string };
  evaluated: { kind: string; count: number };
  reference: { fromCache: boolean; precisionRecall: string };
  metrics: {
    fid: number;
    sfid: number;
    inceptionScore: number;
    isSplits: number;
    precision: number;
    recall: number;
    kid: number;
    kidStd: number;
    kidSubsets: number;
    kidSubsetSize: number;
  };
}

async function evalJson(args: readonly string[]): Promise<EvalResult> {
  const run = await runCli(['--json', 'eval', ...common, ...args]);
  expect(run.stderr).not.toMatch(/bigr:/);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as EvalResult;
}

function expectFinite(m: EvalResult['metrics']): void {
  for (const [k, v] of Object.entries(m)) if (k !== 'kidSeed') expect([k, Number.isFinite(v)]).toEqual([k, true]);
  expect(m.precision).toBeGreaterThanOrEqual(0);
  expect(m.precision).toBeLessThanOrEqual(1);
  expect(m.recall).toBeGreaterThanOrEqual(0);
  expect(m.recall).toBeLessThanOrEqual(1);
  expect(m.inceptionScore).toBeGreaterThanOrEqual(1 - 1e-9);
  expect(m.inceptionScore).toBeLessThanOrEqual(10 + 1e-9);
}

describe('bigr eval', () => {
  it('computes the floor metrics of the real test set against the training reference, with the classifier hash', async () => {
    const out = join(root, 'floor.json');
    const res = await evalJson(['--real', 'test', '--out', out]);
    const weights = await loadFashionClassifier(classifier);
    expect(res.classifier.weightsSha256).toBe(weights.weightsHash);
    expect(res.extractor).toContain(`sha256:${weights.weightsHash.slice(0, 16)}`);
    expect(res.evaluated).toMatchObject({ kind: 'real-test', count: 40 });
    expect(res.reference.precisionRecall).toMatch(/training sample \(40\)/);
    expect(res.reference.fromCache).toBe(false);
    expectFinite(res.metrics);
    expect(res.metrics.isSplits).toBe(3);
    expect(res.metrics).toMatchObject({ kidSubsets: 4, kidSubsetSize: 12 });
    expect(res.metrics.fid).toBeGreaterThan(0);
    expect(JSON.parse(await readFile(out, 'utf8')).metrics).toEqual(res.metrics);
  });

  it('gives FID = sFID = 0 for the training set itself (npz samples) and reuses the cached reference', async () => {
    const { images, labels } = syntheticFashionBytes(TRAIN, 10, 'idx/train/0');
    const npz = join(root, 'train.npz');
    await writeNpz(npz, {
      arr_0: { dtype: 'uint8', shape: [TRAIN, 28, 28, 1], data: images },
      arr_1: { dtype: 'int64', shape: [TRAIN], data: BigInt64Array.from(labels, (l) => BigInt(l)) },
    });
    const res = await evalJson(['--samples', npz, '--out', join(root, 'same.json')]);
    expect(res.evaluated).toMatchObject({ kind: 'samples', count: TRAIN });
    expect(res.reference.fromCache).toBe(true);
    expect(Math.abs(res.metrics.fid)).toBeLessThan(1e-6);
    expect(Math.abs(res.metrics.sfid)).toBeLessThan(1e-4);
    expectFinite(res.metrics);

    // The class-balanced training sample of all training images is the same set, reordered.
    const sample = await evalJson(['--real', 'train-sample', '--n', String(TRAIN), '--out', join(root, 'sample.json')]);
    expect(Math.abs(sample.metrics.fid)).toBeLessThan(1e-6);
    expect(Math.abs(sample.metrics.sfid)).toBeLessThan(1e-4);
  });

  it('generates class-balanced samples with a model, saves them, and scores the saved set identically', async () => {
    const saved = join(root, 'gen', 'samples.npz');
    const gen = ['--iterations', '2', '--diffusion-steps', '2', '--batch-size', '6'];
    const res = await evalJson(['--model', tiny.modelDir, '--n', '12', ...gen, '--save-samples', saved, '--out', join(root, 'gen.json')]);
    expect(res.evaluated).toMatchObject({ kind: 'model', count: 12 });
    expectFinite(res.metrics);
    const again = await evalJson(['--samples', saved, '--out', join(root, 'gen2.json')]);
    expect(again.metrics.fid).toBeCloseTo(res.metrics.fid, 9);
    expect(again.metrics.precision).toBe(res.metrics.precision);
    expect(again.metrics.kid).toBeCloseTo(res.metrics.kid, 12);
  });

  it('needs exactly one source', async () => {
    const run = await runCli(['eval', ...common]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/exactly one of --samples/);
  });
});
