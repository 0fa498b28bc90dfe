import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuTensor, createRng, readSafetensors, required, resolveEngine, type BitHeadSampler, type Engine } from '@bigr/core';
import '@bigr/engine-tfjs';
import { BackboneFeatureModel, backboneGraph, extractBackboneParameters, KvCacheFeatureModel, resolveBackboneConfig, type AttentionKind } from '@bigr/backbone';
import { CategoricalSampler, TranscoderSampler } from '@bigr/transcoder';
import { createBigrPredictor, generate, sampleAutoregressive } from '@bigr/sampler';
import { decodeImage, imageGrid, tensorToRaster } from '@bigr/tokenizer';
import { loadTokenizer, readBigrModel, unpadImages, type BigrHeadKind } from '@bigr/pipeline';
import { inferenceEngine } from '../engines.js';
import { loadDataset } from '../datasets.js';
import { runCli } from '../testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { perturbModelWeights, writeIdxDataset } from '../testing/evalFixtures.js';
import { relativeMaxError } from '@bigr/testing';

const K = 6;
const N = 16;
const FAST = ['--iterations', '3', '--diffusion-steps', '3', '--cfg', '2.5', '--gumbel', '0.17'];

let root: string;
const models = new Map<string, TinyModel>();
/** The study's variants S1 (categorical, masked), S2 (binary, AR) and S0 (categorical, AR) in tiny sizes. */
const VARIANTS: [string, BigrHeadKind, AttentionKind][] = [
  ['s1', 'categorical', 'bidirectional'],
  ['s2', 'transcoder', 'causal'],
  ['s0', 'categorical', 'causal'],
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-variants-cli-'));
  for (const [id, head, attention] of VARIANTS) {
    const m = await writeTinyModel(join(root, id), { head, attention, bitsPerToken: K, seed: 3 });
    // Larger than initialisation, so positions, classes and seeds give different tokens.
    await perturbModelWeights(m.modelDir, 0.3, 3);
    models.set(id, m);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function model(id: string): TinyModel {
  return required(models.get(id), `tiny model ${id}`);
}

/**
 * The images of the study's sampling path (apps/cli/src/study/evaluateVariant.ts) for one image per seed: the backbone,
 * KV cache and head built from the weights, `sampleAutoregressive` (causal) or `generate` (masked) with the head's commit
 * rule, decoded by the tokenizer, unpadded, clamped and tiled as `bigr generate` writes its grid.
 */
async function studyPathGrid(engine: Engine, dir: string, labels: readonly number[], seeds: readonly number[], cols: number): Promise<Uint8Array> {
  const { config, weights } = await readBigrModel(dir);
  const features = new BackboneFeatureModel(engine, config.backbone, weights);
  const kv = config.backbone.attention === 'causal' ? new KvCacheFeatureModel(engine, config.backbone, weights) : null;
  const head: BitHeadSampler & { dispose(): Promise<void> } =
    config.head === 'categorical'
      ? await CategoricalSampler.create(engine, weights, config.categorical)
      : await TranscoderSampler.create(engine, weights, config.transcoder);
  const commit = config.head === 'categorical' ? 'threshold' : 'bernoulli';
  const { tokenizer, config: tok } = await loadTokenizer(join(dir, 'tokenizer'), engine);
  try {
    const images: Float32Array[] = [];
    for (const [k, seed] of seeds.entries()) {
      const condition = { kind: 'class' as const, labels: Int32Array.of(labels[k] ?? -1) };
      const r = kv
        ? await sampleAutoregressive({ model: kv, head, condition, cfgScale: 2.5, commit, steps: 3, rng: createRng(seed), tokenizer })
        : await generate({
            predictor: createBigrPredictor(features, head, { steps: 3 }),
            condition,
            iterations: 3,
            cfgScale: 2.5,
            gumbelTemperature: 0.17,
            commit,
            rng: createRng(seed),
            tokenizer,
          });
      images.push(unpadImages(required(r.images, 'decoded images'), tok.pad).data);
    }
    const size = 32 - 2 * tok.pad;
    const all = new Float32Array(images.length * size * size);
    for (const [k, im] of images.entries()) all.set(im, k * size * size);
    const clamped = new CpuTensor<'float32'>(
      Float32Array.from(all, (v) => Math.min(1, Math.max(0, v))),
      [images.length, 1, size, size],
    );
    return tensorToRaster(imageGrid(clamped, cols, 2, 1)).data;
  } finally {
    await features.dispose();
    await kv?.dispose();
    await head.dispose();
    await tokenizer.dispose();
  }
}

describe('bigr commands on the study variants (docs/algorithm.md §13)', () => {
  it.each(VARIANTS)("bigr generate --model <%s>: the grid holds the images of the study's sampling path for the same seeds", async (id, head, attention) => {
    const out = join(root, `${id}-grid.png`);
    const run = await runCli(['--json', '--quiet', 'generate', '--model', model(id).modelDir, '--n', '3', '--seed', '11', '--out', out, ...FAST]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const result = JSON.parse(run.stdout) as { labels: number[]; seeds: number[]; variant: Record<string, string> };
    expect(result.variant).toMatchObject({ head, attention, commit: head === 'categorical' ? 'threshold' : 'bernoulli' });
    expect(result.variant['decoding']).toMatch(attention === 'causal' ? /autoregressive/ : /masked/);
    expect(result.seeds).toEqual([11, 12, 13]);
    const png = decodeImage(await readFile(out), { channels: 1 });
    const want = await studyPathGrid(await inferenceEngine(), model(id).modelDir, result.labels, result.seeds, 2);
    expect(png.data.length).toBe(want.length);
    expect(Buffer.from(png.data).equals(Buffer.from(want))).toBe(true);
    // The three 28×28 tiles (2 columns, 2 px gaps) differ from each other: the samples are not constant.
    const tile = (k: number): string =>
      Array.from({ length: 28 }, (_, y) =>
        png.data.subarray((Math.floor(k / 2) * 30 + y) * png.width + (k % 2) * 30, (Math.floor(k / 2) * 30 + y) * png.width + (k % 2) * 30 + 28).join(','),
      ).join(';');
    expect(png.width).toBe(58);
    expect(new Set([tile(0), tile(1), tile(2)]).size).toBe(3);

    if (attention === 'causal') {
      // Image 1 regenerated alone from its label and seed.
      const alone = join(root, `${id}-alone.png`);
      const label = required(result.labels[1], 'label of image 1');
      const again = await runCli([
        '--quiet',
        'generate',
        '--model',
        model(id).modelDir,
        '--n',
        '1',
        '--seed',
        '12',
        '--class',
        String(label),
        '--out',
        alone,
        ...FAST,
      ]);
      expect(again.code).toBe(0);
      const one = decodeImage(await readFile(alone), { channels: 1 });
      expect(Buffer.from(one.data).equals(Buffer.from(await studyPathGrid(await inferenceEngine(), model(id).modelDir, [label], [12], 1)))).toBe(true);
    }
  });

  it('bigr features and bigr probe on a causal model: pooled block features of the causal backbone', async () => {
    const data = await writeIdxDataset(join(root, 'idx'), { train: 24, test: 12, classes: 3, seed: 4 });
    const dir = model('s2').modelDir;
    const out = join(root, 'feats', 'causal.safetensors');
    const run = await runCli([
      '--json',
      '--quiet',
      'features',
      '--model',
      dir,
      '--data',
      data,
      '--split',
      'test',
      '--codes',
      'threshold',
      '--layer',
      '0',
      '--out',
      out,
    ]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(run.stdout)).toMatchObject({ attention: 'causal', head: 'transcoder', dim: 32, count: 12 });
    const features = required((await readSafetensors(out)).tensors.get('features'), 'features tensor');
    expect(features.shape).toEqual([12, 32]);

    // Reference: the threshold codes of the same images through the full backbone graph on tfjs, block 0's output
    // averaged over the image positions in float64 here — with the model's causal attention, and (to show it matters)
    // with bidirectional attention on the same weights.
    const { config, weights } = await readBigrModel(dir);
    const tfjs = await resolveEngine({ purpose: 'inference', device: 'tfjs-cpu' });
    const { tokenizer } = await loadTokenizer(join(dir, 'tokenizer'), tfjs);
    const images = await loadDataset(data, 'test', { channels: 1, imageSize: 32 });
    const { bits } = await tokenizer.encode(images.images, { mode: 'threshold' });
    await tokenizer.dispose();
    const pooled = async (attention: AttentionKind): Promise<Float64Array> => {
      const backbone = resolveBackboneConfig({ ...config.backbone, attention });
      const g = await tfjs.compile(backboneGraph(backbone, { withMask: false, debugOutputs: ['layer_out_0'] }), extractBackboneParameters(weights, backbone));
      try {
        const r = await g.run({
          bits: new CpuTensor(Float32Array.from(bits.data), bits.shape),
          labels: new CpuTensor(new Int32Array(12).fill(3), [12]),
        });
        const h = required(r['layer_out_0'], 'block 0 output').data as Float32Array;
        const S = N + 1;
        const D = 32;
        const mean = new Float64Array(12 * D);
        for (let b = 0; b < 12; b++)
          for (let s = 1; s < S; s++) for (let d = 0; d < D; d++) mean[b * D + d] = (mean[b * D + d] ?? 0) + (h[(b * S + s) * D + d] ?? 0) / N;
        return mean;
      } finally {
        await g.dispose();
      }
    };
    const causal = await pooled('causal');
    expect(relativeMaxError(features.data as Float32Array, causal)).toBeLessThan(1e-4);
    expect(relativeMaxError(await pooled('bidirectional'), causal)).toBeGreaterThan(1e-2);

    const probeOut = join(root, 'probe', 'probe.json');
    const probe = await runCli([
      '--json',
      '--quiet',
      'probe',
      '--model',
      dir,
      '--data',
      data,
      '--codes',
      'threshold',
      '--layer',
      '0',
      '--epochs',
      '2',
      '--warmup',
      '1',
      '--batch-size',
      '8',
      '--out',
      probeOut,
    ]);
    expect([probe.code, probe.stderr]).toEqual([0, '']);
    const result = JSON.parse(probe.stdout) as { features: { attention: string; dim: number }; final: { top1: number; testCount: number } };
    expect(result.features).toMatchObject({ attention: 'causal, unmasked codes', dim: 32 });
    expect(result.final.testCount).toBe(12);
    expect(result.final.top1).toBeGreaterThanOrEqual(0);
  });

  it('refuses, with the reason, what a causal model cannot do: the zero-shot apps and the worker-pool folder output', async () => {
    const dir = model('s0').modelDir;
    const image = await writeTestPng(join(root, 'source.png'));
    const inpaint = await runCli(['inpaint', image, '--model', dir, '--box', '4,4,20,20', '--out', join(root, 'inpainted.png'), ...FAST]);
    expect(inpaint.code).toBe(2);
    expect(inpaint.stderr).toMatch(/inpaint .*needs a bidirectional .*head 'categorical', attention 'causal'.*only from the class and tokens 0…n−1/);
    const folder = await runCli(['generate', '--model', dir, '--n', '2', '--out', `${join(root, 'folder')}/`, ...FAST]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/A folder output .*needs a bidirectional .*attention 'causal'.*--out <file>\.png/);
  });
});
