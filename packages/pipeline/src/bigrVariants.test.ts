import '@bigr/engine-onnx';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CpuTensor, createRng, loadModelDirectory, resolveEngine, saveModelDirectory, type BitHeadSampler, type Engine } from '@bigr/core';
import { BackboneFeatureModel, KvCacheFeatureModel, type AttentionKind } from '@bigr/backbone';
import { CategoricalSampler, TranscoderSampler } from '@bigr/transcoder';
import { createBigrPredictor, generate, inpaint, sampleAutoregressive, sampleTokens, type CommitRule } from '@bigr/sampler';
import { BigrPipeline } from './bigrPipeline.js';
import { readBigrModel, type BigrHeadKind, type BigrModelConfig } from './bigrModelDir.js';
import { exportPytorch } from './export/pytorchExport.js';
import { bigrSamplerFactory } from './parallelGenerate.js';
import { TINY_K, TINY_TOKENS, writeTinyVariantModel, type TinyVariantModel } from './test/tinyVariantModel.js';

const N = TINY_TOKENS;
const K = TINY_K;
/** The settings of the comparisons: guidance on, few iterations and diffusion steps. */
const SETTINGS = { cfgScale: 2.5, iterations: 4, gumbelTemperature: 0.17 } as const;
const STEPS = 3;

/** The head of `config` built directly from the weights (the components, not the pipeline). */
async function directHead(engine: Engine, model: TinyVariantModel): Promise<BitHeadSampler & { dispose(): Promise<void> }> {
  const c = model.config;
  return c.head === 'categorical'
    ? CategoricalSampler.create(engine, model.weights, c.categorical)
    : TranscoderSampler.create(engine, model.weights, c.transcoder);
}

function tokenOf(codes: Uint8Array, sample: number, n: number): string {
  return codes.subarray((sample * N + n) * K, (sample * N + n + 1) * K).join('');
}

describe('BigrPipeline on the study variants (docs/algorithm.md §13)', () => {
  let root: string;
  let engine: Engine;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bigr-variants-'));
    engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  const variants: [BigrHeadKind, AttentionKind][] = [
    ['categorical', 'bidirectional'],
    ['categorical', 'causal'],
    ['transcoder', 'causal'],
  ];
  describe.each(variants)('%s head, %s attention', (head, attention) => {
    let model: TinyVariantModel;
    let bigr: BigrPipeline;
    const commit: CommitRule = head === 'categorical' ? 'threshold' : 'bernoulli';
    beforeAll(async () => {
      model = await writeTinyVariantModel(join(root, `${head}-${attention}`), head, attention);
      bigr = await BigrPipeline.fromDirectory(model.dir, engine);
    });
    afterAll(async () => bigr.dispose());

    it('reads the head and attention from config.json', async () => {
      const { config } = await readBigrModel(model.dir);
      expect([config.head ?? 'transcoder', config.backbone.attention]).toEqual([head, attention]);
      expect(bigr.autoregressiveModel !== null).toBe(attention === 'causal');
      expect(bigr.head).toBeInstanceOf(head === 'categorical' ? CategoricalSampler : TranscoderSampler);
    });

    it("generate gives bit for bit the tokens of the study's sampling path for the same seed, one seed per image", async () => {
      const labels = [0, 2, 3];
      const seeds = [7, 8, 9];
      const out = await bigr.generate({ classes: labels, seeds, ...SETTINGS, diffusionSteps: STEPS, unpad: false, clamp: false });
      expect(out.codes.shape).toEqual([3, N, K]);
      expect(out.images.shape).toEqual([3, 1, 32, 32]);

      // The study's path (apps/cli/src/study/evaluateVariant.ts): the components built from the weights, then
      // sampleAutoregressive with the KV cache (causal) or generate (masked), the head's commit rule.
      const features = new BackboneFeatureModel(engine, model.config.backbone, model.weights);
      const kv = attention === 'causal' ? new KvCacheFeatureModel(engine, model.config.backbone, model.weights) : null;
      const h = await directHead(engine, model);
      try {
        for (const [k, seed] of seeds.entries()) {
          const condition = { kind: 'class' as const, labels: Int32Array.of(labels[k] ?? -1) };
          let codes: Uint8Array;
          if (kv) {
            const cached = await sampleAutoregressive({
              model: kv,
              head: h,
              condition,
              cfgScale: SETTINGS.cfgScale,
              commit,
              steps: STEPS,
              rng: createRng(seed),
            });
            // An independent check of the cache: uncached raster decoding makes the same draws (docs/algorithm.md §13.3).
            const uncached = await sampleTokens({
              predictor: createBigrPredictor(features, h, { steps: STEPS }),
              condition,
              order: 'autoregressive',
              cfgScale: SETTINGS.cfgScale,
              commit,
              rng: createRng(seed),
            });
            expect(Array.from(uncached.codes.data)).toEqual(Array.from(cached.codes.data));
            codes = cached.codes.data;
          } else {
            const r = await generate({ predictor: createBigrPredictor(features, h, { steps: STEPS }), condition, ...SETTINGS, commit, rng: createRng(seed) });
            codes = r.codes.data;
          }
          expect([k, Array.from(out.codes.data.subarray(k * N * K, (k + 1) * N * K))]).toEqual([k, Array.from(codes)]);
        }
      } finally {
        await features.dispose();
        await kv?.dispose();
        await h.dispose();
      }
      // Not trivially constant: several distinct tokens in an image, and the images differ.
      expect(new Set(Array.from({ length: N }, (_, n) => tokenOf(out.codes.data, 0, n))).size).toBeGreaterThan(1);
      expect(Array.from(out.codes.data.subarray(0, N * K))).not.toEqual(Array.from(out.codes.data.subarray(N * K, 2 * N * K)));

      // Image k regenerated alone (its label and seed) gives the same bits and pixels.
      const alone = await bigr.generate({ classes: [labels[1] ?? -1], seeds: [8], ...SETTINGS, diffusionSteps: STEPS, unpad: false, clamp: false });
      expect(Array.from(alone.codes.data)).toEqual(Array.from(out.codes.data.subarray(N * K, 2 * N * K)));
      expect(Array.from(alone.images.data)).toEqual(Array.from(out.images.data.subarray(32 * 32, 2 * 32 * 32)));
    });

    if (head === 'categorical') {
      it("refuses commit 'bernoulli': the categorical head needs 'threshold'", async () => {
        await expect(bigr.generate({ n: 1, commit: 'bernoulli', ...SETTINGS })).rejects.toThrow(/commit 'bernoulli'.*head 'categorical'.*'threshold'/);
      });
    }

    if (attention === 'causal') {
      it('refuses every zero-shot application with a ConfigError naming the attention', async () => {
        const bits = new CpuTensor<'uint8'>(new Uint8Array(N * K), [1, N, K]);
        const region = { kind: 'tokens' as const, mask: Uint8Array.from({ length: N }, (_, n) => (n < 8 ? 1 : 0)) };
        const calls: [string, () => Promise<unknown>][] = [
          ['inpaint', () => bigr.inpaint({ bits, region })],
          ['outpaint', () => bigr.outpaint({ bits, region })],
          ['edit', () => bigr.edit({ bits, region, class: 1 })],
          ['interpolate', () => bigr.interpolate({ from: 0, to: 1 })],
          ['enrich', () => bigr.enrich({ bits })],
        ];
        for (const [app, call] of calls) {
          const err = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(ConfigError);
          expect([app, (err as Error).message]).toEqual([app, expect.stringMatching(new RegExp(`^${app} .*needs a bidirectional.*attention 'causal'`))]);
        }
      });
    }
  });

  it('runs inpainting on a masked categorical model with the threshold commit, as the sampler does with the components', async () => {
    const model = await writeTinyVariantModel(join(root, 'cat-inpaint'), 'categorical', 'bidirectional', 'inpaint-weights');
    const bigr = await BigrPipeline.fromDirectory(model.dir, engine);
    const h = await directHead(engine, model);
    const features = new BackboneFeatureModel(engine, model.config.backbone, model.weights);
    try {
      const rng = createRng('source');
      const bits = new CpuTensor<'uint8'>(
        Uint8Array.from({ length: 2 * N * K }, () => rng.int(2)),
        [2, N, K],
      );
      const region = { kind: 'tokens' as const, mask: Uint8Array.from({ length: N }, (_, n) => (n % 3 === 0 ? 1 : 0)) };
      const got = await bigr.inpaint({ bits, region, seed: 5, budget: 'masked', diffusionSteps: STEPS });
      const want = await inpaint({ predictor: createBigrPredictor(features, h), bits, region, rng: createRng(5), budget: 'masked', commit: 'threshold' });
      expect(Array.from(got.codes.data)).toEqual(Array.from(want.codes.data));
      // Kept tokens are the source's; regenerated ones are whole sampled tokens.
      for (let b = 0; b < 2; b++) for (let n = 0; n < N; n++) if (n % 3 !== 0) expect(tokenOf(got.codes.data, b, n)).toBe(tokenOf(bits.data, b, n));
    } finally {
      await bigr.dispose();
      await h.dispose();
      await features.dispose();
    }
  });

  it('refuses a causal model in the worker pool and commits a categorical one with threshold there', async () => {
    const causal = await writeTinyVariantModel(join(root, 'pool-causal'), 'transcoder', 'causal');
    await expect(bigrSamplerFactory({ dir: causal.dir, device: 'onnx-cpu' })).rejects.toThrow(
      /worker pool .* needs a bidirectional .*attention 'causal'.*bigr generate --out/,
    );
    const categorical = await writeTinyVariantModel(join(root, 'pool-categorical'), 'categorical', 'bidirectional');
    const worker = await bigrSamplerFactory({ dir: categorical.dir, device: 'onnx-cpu' });
    try {
      expect(worker.settings).toEqual({ commit: 'threshold' });
    } finally {
      await worker.dispose?.();
    }
  });

  it('names the problem of a broken variant config.json, and refuses a PyTorch export of a variant', async () => {
    const model = await writeTinyVariantModel(join(root, 'broken'), 'categorical', 'causal');
    const { config, tensors } = await loadModelDirectory(model.dir);
    const c = config as BigrModelConfig & Record<string, unknown>;
    const write = async (cfg: object, weights = tensors): Promise<void> => saveModelDirectory(model.dir, { config: cfg, tensors: weights });
    await write({ ...c, head: 'softmax' });
    await expect(readBigrModel(model.dir)).rejects.toThrow(/head is "softmax"; it must be 'transcoder'.*or 'categorical'/);
    const noSection: Record<string, unknown> = { ...c };
    delete noSection['categorical'];
    await write(noSection);
    await expect(readBigrModel(model.dir)).rejects.toThrow(/head is 'categorical' but the "categorical" section/);
    await write({ ...c, categorical: { bitsPerToken: K + 1, featureDim: 32 } });
    await expect(readBigrModel(model.dir)).rejects.toThrow(/categorical\.bitsPerToken 6 .* must equal backbone\.bitsPerToken 5/);
    const noHead = new Map(tensors);
    noHead.delete('cat_head.bias');
    await write(c, noHead);
    await expect(readBigrModel(model.dir)).rejects.toThrow(/implies tensor "cat_head\.bias"/);
    await write({ ...c, backbone: { ...(c.backbone as object), attention: 'sideways' } });
    await expect(readBigrModel(model.dir)).rejects.toThrow(/attention "sideways" is not supported/);
    await write(c);
    await expect(exportPytorch(model.dir, join(root, 'pt'))).rejects.toThrow(/head 'categorical', attention 'causal'.*cannot be exported to PyTorch/);
  });
});
