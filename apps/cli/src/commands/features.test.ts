import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, resolveEngine, required, getOrThrow } from '@bigr/core';
import '@bigr/engine-onnx';
import { RepresentationExtractor } from '@bigr/backbone';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { perturbModelWeights, writeIdxDataset } from '../testing/evalFixtures.js';
import { readBigrModel } from '../bigrModelDir.js';
import { loadTokenizer } from '../tokenizerModelDir.js';
import { loadDataset } from '../datasets.js';
import { BigrPipeline } from '@bigr/pipeline';

let root: string;
let tiny: TinyModel;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-features-'));
  tiny = await writeTinyModel(join(root, 'm'));
  await perturbModelWeights(tiny.modelDir, 0.05);
  data = await writeIdxDataset(join(root, 'idx'), { train: 24, test: 12, classes: 3 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr features', () => {
  it('writes pooled block features of every layer, equal to the backbone RepresentationExtractor, and reuses the cache', async () => {
    const out = join(root, 'f', 'feats.safetensors');
    const args = ['--json', 'features', '--model', tiny.modelDir, '--data', data, '--split', 'train', '--layer', 'all', '--codes', 'threshold', '--out', out];
    const run = await runCli(args);
    expect(run.stderr).not.toMatch(/bigr:/);
    expect(run.code).toBe(0);
    const res = JSON.parse(run.stdout) as { files: { layer: number; path: string }[]; dim: number; count: number; fromCache: boolean };
    expect(res.files.map((f) => f.layer)).toEqual([0, 1]);
    expect(res.fromCache).toBe(false);

    // Independent reference: the backbone package's representation graph, one layer at a time, on threshold codes.
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const { config, weights } = await readBigrModel(tiny.modelDir);
    const { tokenizer } = await loadTokenizer(tiny.tokenizerDir, engine);
    const images = await loadDataset(data, 'train', { channels: 1 });
    const { bits } = await tokenizer.encode(images.images, { mode: 'threshold' });
    for (const f of res.files) {
      const { tensors, metadata } = await readSafetensors(f.path);
      const feats = getOrThrow(tensors, 'features');
      expect(feats.shape).toEqual([24, 32]);
      expect(Array.from(getOrThrow(tensors, 'labels').data)).toEqual(Array.from({ length: 24 }, (_, i) => i % 3));
      expect(JSON.parse(required(metadata['key'], 'metadata entry'))).toMatchObject({
        layer: f.layer,
        codes: 'threshold',
        split: 'train',
        count: 24,
        condition: 'null-class',
      });
      const ref = await RepresentationExtractor.create(engine, config.backbone, weights, { layer: f.layer });
      const want = (await ref.extract(bits)).pooled.data;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(required(feats.data[i], 'data') - required(want[i], 'expected value')));
      expect(worst).toBeLessThan(1e-5);
      await ref.dispose();
    }
    await tokenizer.dispose();

    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { fromCache: boolean }).fromCache).toBe(true);
  });

  it('draws Bernoulli codes by default, reproducibly for a seed', async () => {
    const base = ['--json', 'features', '--model', tiny.modelDir, '--data', data, '--split', 'test', '--layer', '1', '--seed', '3'];
    const a = await runCli([...base, '--out', join(root, 'b', 'a.safetensors')]);
    const b = await runCli([...base, '--out', join(root, 'b', 'b.safetensors')]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect((JSON.parse(a.stdout) as { codes: string }).codes).toBe('bernoulli');
    const fa = getOrThrow((await readSafetensors(join(root, 'b', 'a.safetensors'))).tensors, 'features', 'tensor');
    const fb = getOrThrow((await readSafetensors(join(root, 'b', 'b.safetensors'))).tensors, 'features', 'tensor');
    expect(fa.shape).toEqual([12, 32]);
    expect(Array.from(fa.data)).toEqual(Array.from(fb.data));
    expect(Array.from(fa.data).every(Number.isFinite)).toBe(true);
  });

  it('equals BigrPipeline.features on the same images: threshold codes, and Bernoulli codes seeded <seed>/codes/<split>', async () => {
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const bigr = await BigrPipeline.fromDirectory(tiny.modelDir, engine);
    try {
      const images = (await loadDataset(data, 'test', { channels: 1 })).images;
      for (const [codes, want] of [
        ['threshold', await bigr.features(images, { layer: 1 })],
        ['bernoulli', await bigr.features(images, { layer: 1, mode: 'bernoulli', seed: '5/codes/test' })],
      ] as const) {
        const out = join(root, 'pipe', `${codes}.safetensors`);
        const run = await runCli([
          'features',
          '--model',
          tiny.modelDir,
          '--data',
          data,
          '--split',
          'test',
          '--layer',
          '1',
          '--codes',
          codes,
          '--seed',
          '5',
          '--out',
          out,
        ]);
        expect(run.code).toBe(0);
        const got = getOrThrow((await readSafetensors(out)).tensors, 'features', 'tensor');
        expect(got.shape).toEqual(want.shape);
        expect([codes, Array.from(got.data)]).toEqual([codes, Array.from(want.data)]);
      }
    } finally {
      await bigr.dispose();
    }
  });

  it('rejects a layer the model does not have', async () => {
    const run = await runCli(['features', '--model', tiny.modelDir, '--data', data, '--layer', '5', '--out', join(root, 'x.safetensors')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Layer|--layer/);
  });
});
