import { AbortError, at, ConfigError, createRng, hashTensors } from '@bigr/core';
import { DEFAULT_FASHION_CLASSIFIER_CONFIG, fashionClassifierParameterShapes } from './config.js';
import { classificationAccuracy } from './batch.js';
import { createFashionFeatureExtractor } from './extractor.js';
import { initFashionClassifier } from './init.js';
import { trainFashionClassifier } from './train.js';
import { CpuTensor } from '@bigr/core';
import { barImages, onnxEngine, tfjsEngine } from './test/helpers.js';

describe('trainFashionClassifier', () => {
  test('learns synthetic separable bar images to > 95 % held-out accuracy (onnxruntime inference)', async () => {
    const engine = await tfjsEngine();
    const train = barImages(640, createRng('bars-train'));
    const test = barImages(300, createRng('bars-test'));
    const events: number[] = [];
    const result = await trainFashionClassifier({
      engine,
      images: train.images,
      labels: train.labels,
      epochs: 3,
      batchSize: 64,
      rng: createRng(7),
      onProgress: (e) => events.push(e.current),
    });
    expect(result.steps).toBe(30);
    expect(events).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(at(result.losses, 29, 'last loss')).toBeLessThan(at(result.losses, 0, 'first loss') / 4);
    const ex = await createFashionFeatureExtractor(await onnxEngine(), result.params, { batchSize: 128 });
    const f = await ex.extract(new CpuTensor(test.images, [300, 28, 28, 1]));
    await ex.dispose();
    expect(classificationAccuracy(f.logits.data, 10, test.labels)).toBeGreaterThan(0.95);
  });

  test('is deterministic: the same seed gives bit-identical weights, another seed does not', async () => {
    const engine = await tfjsEngine();
    const data = barImages(96, createRng('bars-det'));
    const run = async (seed: number): Promise<string> => {
      const r = await trainFashionClassifier({ engine, images: data.images, labels: data.labels, epochs: 2, batchSize: 40, rng: createRng(seed) });
      expect(r.steps).toBe(6); // 40 + 40 + 16 per epoch
      return hashTensors(r.params);
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    // Initialisation alone is seeded too.
    expect(hashTensors(initFashionClassifier(createRng(3)))).toBe(hashTensors(initFashionClassifier(createRng(3))));
  });

  test('maxStepsPerEpoch subsamples, initialParameters are used, abort stops with AbortError', async () => {
    const engine = await tfjsEngine();
    const data = barImages(100, createRng('bars-misc'));
    const init = initFashionClassifier(createRng(5));
    const zeroEpochs = await trainFashionClassifier({
      engine,
      images: data.images,
      labels: data.labels,
      epochs: 0,
      rng: createRng(1),
      initialParameters: init,
    });
    expect(zeroEpochs.steps).toBe(0);
    expect(hashTensors(zeroEpochs.params)).toBe(hashTensors(init));
    const sub = await trainFashionClassifier({
      engine,
      images: data.images,
      labels: data.labels,
      epochs: 2,
      batchSize: 10,
      maxStepsPerEpoch: 2,
      rng: createRng(1),
    });
    expect(sub.steps).toBe(4);
    const controller = new AbortController();
    await expect(
      trainFashionClassifier({
        engine,
        images: data.images,
        labels: data.labels,
        epochs: 1,
        batchSize: 10,
        rng: createRng(1),
        signal: controller.signal,
        onProgress: (e) => {
          if (e.current === 2) controller.abort();
        },
      }),
    ).rejects.toThrow(AbortError);
  });

  test('rejects bad inputs with messages naming the value', async () => {
    const engine = await tfjsEngine();
    const data = barImages(10, createRng('bars-bad'));
    const base = { engine, images: data.images, labels: data.labels, epochs: 1, rng: createRng(1) };
    await expect(trainFashionClassifier({ ...base, images: data.images.subarray(0, 700) })).rejects.toThrow(/700 bytes, not a multiple of 784/);
    await expect(trainFashionClassifier({ ...base, labels: data.labels.subarray(0, 9) })).rejects.toThrow(/10 images but labels has 9/);
    await expect(trainFashionClassifier({ ...base, labels: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 10) })).rejects.toThrow(/Label 10 of example 9/);
    await expect(trainFashionClassifier({ ...base, batchSize: 0 })).rejects.toThrow(ConfigError);
    const onnx = await onnxEngine();
    const inferenceOnly = { name: 'inference-only', canTrain: false, compile: onnx.compile.bind(onnx) };
    await expect(trainFashionClassifier({ ...base, engine: inferenceOnly })).rejects.toThrow(/cannot train/);
    const bad = initFashionClassifier(createRng(1));
    bad.delete('fc2.bias');
    await expect(trainFashionClassifier({ ...base, initialParameters: bad })).rejects.toThrow(/lack "fc2.bias"/);
    expect([...fashionClassifierParameterShapes(DEFAULT_FASHION_CLASSIFIER_CONFIG).keys()]).toEqual([
      'conv1.weight',
      'conv1.bias',
      'conv2.weight',
      'conv2.bias',
      'fc1.weight',
      'fc1.bias',
      'fc2.weight',
      'fc2.bias',
    ]);
  });
});
