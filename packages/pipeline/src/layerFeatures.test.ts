import '@bigr/engine-onnx';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, CpuTensor, createRng, getOrThrow, resolveEngine, type Engine } from '@bigr/core';
import { RepresentationExtractor } from '@bigr/backbone';
import { maxAbsDiff } from '@bigr/testing';
import { BigrPipeline } from './bigrPipeline.js';
import { readBigrModel } from './bigrModelDir.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled Fashion-MNIST model of the CLI (read only): D 192, 5 blocks, 8×8 tokens of 16 bits. */
const MODEL = join(here, '..', '..', '..', 'apps', 'cli', 'models', 'fashion-mnist');

describe('BigrPipeline.layerFeatures / features', () => {
  let engine: Engine;
  let bigr: BigrPipeline;
  let images: CpuTensor<'float32'>;
  beforeAll(async () => {
    engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    bigr = await BigrPipeline.load(MODEL, { engine });
    const rng = createRng('layer-features-images');
    images = new CpuTensor(
      Float32Array.from({ length: 5 * 32 * 32 }, () => rng.uniform()),
      [5, 1, 32, 32],
    );
  });
  afterAll(async () => bigr.dispose());

  it('pools every requested block in one pass, equal to the backbone package’s one-layer extractor on the same codes', async () => {
    const feats = await bigr.layerFeatures(images, [4, 0, 2, 2]);
    expect([...feats.keys()]).toEqual([0, 2, 4]);
    // Independent reference: @bigr/backbone's single-layer representation graph, 16 images per call.
    const { weights } = await readBigrModel(MODEL);
    const { bits } = await bigr.tokenizer.tokenizer.encode(images, { mode: 'threshold' });
    for (const [layer, f] of feats) {
      expect(f.shape).toEqual([5, 192]);
      const ref = await RepresentationExtractor.create(engine, bigr.config.backbone, weights, { layer });
      expect(maxAbsDiff(f.data, (await ref.extract(bits)).pooled.data)).toBeLessThan(1e-5);
      await ref.dispose();
    }
    // features() is one layer of layerFeatures, bit for bit.
    const one = await bigr.features(images, { layer: 2 });
    expect(Array.from(one.data)).toEqual(Array.from(getOrThrow(feats, 2, 'layer 2').data));
    expect(Array.from((await bigr.features(images)).data)).toEqual(Array.from(one.data)); // default block ⌊5·10/24⌋ = 2
  });

  it('draws Bernoulli codes from one seeded stream in image order, so the batch size does not change the codes', async () => {
    const a = await bigr.layerFeatures(images, [1], { mode: 'bernoulli', seed: '3/codes/train', batchSize: 2 });
    const b = await bigr.layerFeatures(images, [1], { mode: 'bernoulli', seed: '3/codes/train', batchSize: 64 });
    const c = await bigr.layerFeatures(images, [1], { mode: 'bernoulli', seed: '4/codes/train', batchSize: 64 });
    const t = await bigr.layerFeatures(images, [1]);
    const at = (m: Map<number, CpuTensor<'float32'>>): Float32Array => getOrThrow(m, 1, 'layer 1').data;
    // The same codes: the features differ only by the engine's rounding at another batch size.
    expect(maxAbsDiff(at(a), at(b))).toBeLessThan(1e-5);
    // Other draws (another seed, or threshold codes) move the features far more than rounding.
    expect(maxAbsDiff(at(c), at(b))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(at(t), at(b))).toBeGreaterThan(1e-3);
  });

  it('refuses a block the backbone does not have, an empty layer list and a bad batch size; stops on abort', async () => {
    await expect(bigr.layerFeatures(images, [5])).rejects.toThrow(ConfigError);
    await expect(bigr.layerFeatures(images, [5])).rejects.toThrow(/Layer 5 does not exist; this backbone has blocks 0…4/);
    await expect(bigr.features(images, { layer: -1 })).rejects.toThrow(/Layer -1 does not exist/);
    await expect(bigr.layerFeatures(images, [])).rejects.toThrow(/at least one/);
    await expect(bigr.layerFeatures(images, [0], { batchSize: 0 })).rejects.toThrow(/batch size is 0/);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(bigr.layerFeatures(images, [0], { signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});
