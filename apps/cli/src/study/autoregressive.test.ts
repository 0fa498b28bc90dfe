import { createRng, resolveEngine, type NamedTensors } from '@bigr/core';
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { BackboneFeatureModel, initialiseBackbone, KvCacheFeatureModel, resolveBackboneConfig } from '@bigr/backbone';
import { CategoricalLoss, CategoricalSampler, resolveTranscoderConfig, TranscoderLoss, TranscoderSampler } from '@bigr/transcoder';
import { createBigrPredictor, sampleAutoregressive, sampleTokens } from '@bigr/sampler';
import type { BitHeadSampler } from '@bigr/core';

const K = 5;
const config = resolveBackboneConfig({ dim: 32, layers: 2, heads: 2, bitsPerToken: K, tokens: 16, numClasses: 3, multipleOf: 32, attention: 'causal' });

function weights(): NamedTensors {
  const rng = createRng('ar-weights');
  const p = initialiseBackbone(config, rng.fork('backbone'));
  // Non-zero adaLN and larger weights so every position's features really differ.
  for (const [name, t] of p) if (name.startsWith('adaLN') || name.startsWith('tok_')) t.data.set(Float32Array.from(rng.normalsF32(t.size), (x) => x * 0.2));
  const tr = new TranscoderLoss(resolveTranscoderConfig({ bitsPerToken: K, featureDim: 32, width: 16, blocks: 1 })).initParameters(rng.fork('t'));
  for (const [name, t] of tr) {
    if (name.includes('final_layer') || name.includes('adaLN')) t.data.set(Float32Array.from(rng.normalsF32(t.size), (x) => x * 0.3));
    p.set(name, t);
  }
  for (const [k, v] of new CategoricalLoss({ bitsPerToken: K, featureDim: 32 }).initParameters(rng.fork('c'))) {
    v.data.set(Float32Array.from(v.data, (x) => x * 40));
    p.set(k, v);
  }
  return p;
}

describe.each(['onnx-cpu', 'tfjs-wasm'])('autoregressive sampling with a KV cache on %s (docs/algorithm.md §13.3)', (engineName) => {
  const params = weights();
  it.each([['transcoder'], ['categorical']])('gives bit for bit the tokens of uncached AR sampling (%s head, with CFG)', async (kind) => {
    const engine = await resolveEngine({ purpose: 'inference', device: engineName });
    const full = new BackboneFeatureModel(engine, config, params);
    const kv = new KvCacheFeatureModel(engine, config, params);
    const head: BitHeadSampler & { dispose(): Promise<void> } =
      kind === 'categorical'
        ? await CategoricalSampler.create(engine, params, { bitsPerToken: K, featureDim: 32 })
        : await TranscoderSampler.create(engine, params, resolveTranscoderConfig({ bitsPerToken: K, featureDim: 32, width: 16, blocks: 1 }));
    const commit = kind === 'categorical' ? 'threshold' : 'bernoulli';
    try {
      const condition = { kind: 'class' as const, labels: Int32Array.from([0, 2, 3]) };
      const cached = await sampleAutoregressive({ model: kv, head, condition, cfgScale: 2.5, commit, steps: 4, rng: createRng('ar-seed') });
      const uncached = await sampleTokens({
        predictor: createBigrPredictor(full, head, { steps: 4 }),
        condition,
        order: 'autoregressive',
        cfgScale: 2.5,
        commit,
        rng: createRng('ar-seed'),
      });
      expect(Array.from(cached.codes.data)).toEqual(Array.from(uncached.codes.data));
      expect(cached.codes.shape).toEqual([3, 16, K]);
      // The tokens are not trivially constant.
      expect(new Set(Array.from({ length: 16 }, (_, n) => cached.codes.data.subarray(n * K, (n + 1) * K).join(''))).size).toBeGreaterThan(1);
    } finally {
      await full.dispose();
      await kv.dispose();
      await head.dispose();
    }
  });
});
