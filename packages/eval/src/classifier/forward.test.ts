import { createRng, required, type Engine, type Tensor } from '@bigr/core';
import { DEFAULT_FASHION_CLASSIFIER_CONFIG, parseFashionClassifierConfig } from './config.js';
import { createFashionFeatureExtractor } from './extractor.js';
import { fashionClassifierGraph, FASHION_INPUT, type FashionConvolution } from './graph.js';
import { CpuTensor } from '@bigr/core';
import { onnxEngine, randomImages, randomParams, referenceForward, tfjsEngine } from './test/helpers.js';
import { relativeMaxError } from '@bigr/testing';

const config = DEFAULT_FASHION_CLASSIFIER_CONFIG;
const rng = createRng('fashion-forward');
const params = randomParams(config, rng.fork('params'));
const n = 5;
const images = randomImages(n, 28, rng.fork('images'));
const ref = referenceForward(images.data, n, params, config);

const engines: Record<string, () => Promise<Engine>> = { 'tfjs-wasm': tfjsEngine, 'onnx-cpu': onnxEngine };
const modes: FashionConvolution[] = ['native'];

function output(outputs: Readonly<Record<string, Tensor>>, name: string): Tensor {
  return required(outputs[name], `graph output ${name}`);
}

describe('fashion classifier forward vs a naive float64 reference', () => {
  for (const [engineName, getEngine] of Object.entries(engines)) {
    for (const mode of modes) {
      test(`${engineName}, ${mode} convolution: pool, logits, spatial within 1e-5 relative`, async () => {
        const engine = await getEngine();
        const graph = fashionClassifierGraph(config, { convolution: mode });
        const compiled = await engine.compile(graph, params);
        const x = new CpuTensor(Float32Array.from(images.data), [n, 28, 28, 1]);
        const out = await compiled.run({ [FASHION_INPUT]: x });
        await compiled.dispose();
        expect(out['pool']?.shape).toEqual([n, 128]);
        expect(out['logits']?.shape).toEqual([n, 10]);
        expect(out['spatial']?.shape).toEqual([n, 343]);
        expect(relativeMaxError(output(out, 'pool').data, ref.pool)).toBeLessThan(1e-5);
        expect(relativeMaxError(output(out, 'logits').data, ref.logits)).toBeLessThan(1e-5);
        expect(relativeMaxError(output(out, 'spatial').data, ref.spatial)).toBeLessThan(1e-5);
      });
    }
  }

  test('training-mode evaluation on tfjs (the engine training convolution) matches the reference too', async () => {
    const engine = await tfjsEngine();
    if (!engine.createTrainable) throw new Error('the tfjs engine must be able to train');
    const trainable = await engine.createTrainable(params);
    const x = new CpuTensor(Float32Array.from(images.data), [n, 28, 28, 1]);
    const out = await trainable.evaluate(
      fashionClassifierGraph(config, { convolution: 'native' }),
      { [FASHION_INPUT]: x },
      { training: true, rng: createRng(1) },
    );
    trainable.dispose();
    expect(relativeMaxError(output(out, 'logits').data, ref.logits)).toBeLessThan(1e-5);
    expect(relativeMaxError(output(out, 'pool').data, ref.pool)).toBeLessThan(1e-5);
  });

  test('a non-default architecture (stride-1 stem of 4, 8/12 channels, 32 hidden, 3 classes, 5 spatial channels) on both engines', async () => {
    const small = parseFashionClassifierConfig({ stemChannels: 4, channels: [8, 12], hidden: 32, classes: 3, spatialChannels: 5 });
    const p = randomParams(small, createRng('small'));
    const imgs = randomImages(3, 28, createRng('small-images'));
    const r = referenceForward(imgs.data, 3, p, small);
    for (const getEngine of [tfjsEngine, onnxEngine]) {
      for (const mode of modes) {
        const ex = await createFashionFeatureExtractor(await getEngine(), p, { config: small, convolution: mode, batchSize: 2 });
        const f = await ex.extract(imgs);
        await ex.dispose();
        expect(f.spatial.shape).toEqual([3, 7 * 7 * 5]);
        expect(relativeMaxError(f.pool.data, r.pool)).toBeLessThan(1e-5);
        expect(relativeMaxError(f.logits.data, r.logits)).toBeLessThan(1e-5);
        expect(relativeMaxError(f.spatial.data, r.spatial)).toBeLessThan(1e-5);
      }
    }
  });
});
