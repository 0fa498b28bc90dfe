import { at, CpuTensor, required, type NamedTensors } from '@bigr/core';
import { resolveBackboneConfig } from './config.js';
import { BackboneFeatureModel } from './featureModel.js';
import { RepresentationExtractor } from './featureExtraction.js';
import { engineNamed, randomBackboneParams, randomBits, readFixture, rngFor, tensorNamed } from './test/helpers.js';
import { maxAbsDiff } from '@bigr/testing';

const config = resolveBackboneConfig({ dim: 64, layers: 2, heads: 4, bitsPerToken: 8, tokens: 36, numClasses: 5 });
const B = 3;

describe('BackboneFeatureModel (core TokenFeatureModel)', () => {
  let params: NamedTensors;
  let tf: BackboneFeatureModel;
  let ort: BackboneFeatureModel;
  const rng = rngFor('feature-model');
  const bits = new CpuTensor<'float32'>(randomBits(B * 36 * 8, rng), [B, 36, 8]);
  const mask = new CpuTensor<'uint8'>(Uint8Array.from(randomBits(B * 36, rng)), [B, 36]);
  const labels = Int32Array.from([4, 0, 2]);

  beforeAll(async () => {
    params = randomBackboneParams(config, rngFor('fm-weights'));
    params.set('denoise_mlp.extra.weight', new CpuTensor(new Float32Array(4), [2, 2])); // ignored
    tf = new BackboneFeatureModel(await engineNamed('tfjs-wasm'), config, params);
    ort = new BackboneFeatureModel(await engineNamed('onnx-cpu'), config, params);
  });
  afterAll(async () => {
    await tf.dispose();
    await ort.dispose();
  });

  it('tfjs and onnxruntime agree to 1e-5, and [cond; uncond] in one call equals two separate calls', async () => {
    const a = await tf.features(bits, mask, { kind: 'class', labels }, true);
    const b = await ort.features(bits, mask, { kind: 'class', labels }, true);
    expect(a.shape).toEqual([2 * B, 36, 64]);
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-5);
    const cond = await ort.features(bits, mask, { kind: 'class', labels }, false);
    const uncond = await ort.features(bits, mask, { kind: 'class', labels: new Int32Array(B).fill(5) }, false);
    const half = B * 36 * 64;
    expect(maxAbsDiff(b.data.subarray(0, half), cond.data)).toBeLessThan(1e-6);
    expect(maxAbsDiff(b.data.subarray(half), uncond.data)).toBeLessThan(1e-6);
  });

  it('interpolation and given embeddings condition exactly like the mixed class vector', async () => {
    const D = 64;
    const table = tensorNamed(params, 'cls_embedding.embedding_table.weight').data as Float32Array;
    const a = Int32Array.from([1, 2, 3]);
    const bb = Int32Array.from([0, 4, 3]);
    const w = 0.3;
    const vectors = new Float32Array(B * D);
    for (const [i, ai] of a.entries()) {
      const bi = at(bb, i, 'class b');
      for (let e = 0; e < D; e++) vectors[i * D + e] = w * at(table, ai * D + e, 'embedding') + (1 - w) * at(table, bi * D + e, 'embedding');
    }
    for (const model of [tf, ort]) {
      const interp = await model.features(bits, mask, { kind: 'interpolate', a, b: bb, weight: w }, true);
      const emb = await model.features(bits, mask, { kind: 'embedding', vectors: new CpuTensor<'float32'>(vectors, [B, D]) }, true);
      expect(maxAbsDiff(interp.data, emb.data)).toBeLessThan(1e-5);
      const one = await model.features(bits, mask, { kind: 'interpolate', a, b: bb, weight: 1 }, false);
      const cls = await model.features(bits, mask, { kind: 'class', labels: a }, false);
      expect(maxAbsDiff(one.data, cls.data)).toBeLessThan(1e-5);
    }
  });
});

describe('RepresentationExtractor', () => {
  it.each(['tfjs-wasm', 'onnx-cpu'])('batches, uses the null class and matches the fixture pooled features (%s)', async (name) => {
    const tiny = resolveBackboneConfig({ dim: 64, layers: 2, heads: 4, bitsPerToken: 16, tokens: 16, numClasses: 10 });
    const weights = await readFixture('tiny_transformer_weights.safetensors');
    const fx = await readFixture('backbone.safetensors');
    const ex = await RepresentationExtractor.create(await engineNamed(name), tiny, weights, { layer: 0, batchSize: 3, keepTokens: true });
    try {
      const out = await ex.extract(tensorNamed(fx, 'codes') as CpuTensor<'float32'>);
      expect(out.pooled.shape).toEqual([4, 64]);
      expect(maxAbsDiff(out.pooled.data, tensorNamed(fx, 'repr_pooled_layer0').data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(required(out.tokens, 'kept token features').data, tensorNamed(fx, 'repr_tokens_layer0').data)).toBeLessThan(1e-5);
    } finally {
      await ex.dispose();
    }
  });
});
