import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at, CpuTensor, createRng, getOrThrow, FormatError, hashTensors, NotFoundError, ShapeError } from '@bigr/core';
import { parseFashionClassifierConfig } from './config.js';
import { createFashionFeatureExtractor, fashionExtractorName } from './extractor.js';
import { initFashionClassifier } from './init.js';
import { loadFashionClassifier, saveFashionClassifier } from './io.js';
import { onnxEngine, randomImages } from './test/helpers.js';
import { relativeMaxError } from '@bigr/testing';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fashion-classifier-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('save / load of the evaluation network', () => {
  test('round trip keeps the bits, records the hash and training notes', async () => {
    const params = initFashionClassifier(createRng(1));
    const hash = await saveFashionClassifier(dir, params, {}, { testAccuracy: 0.5 });
    expect(hash).toBe(hashTensors(params));
    const loaded = await loadFashionClassifier(dir);
    expect(loaded.weightsHash).toBe(hash);
    expect(loaded.config).toEqual(parseFashionClassifierConfig({}));
    expect(loaded.file.training).toEqual({ testAccuracy: 0.5 });
    for (const [name, t] of params) expect(getOrThrow(loaded.params, name, 'loaded parameter').data).toEqual(t.data);
    const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(json).toMatchObject({ format: 'bigr-fashion-classifier', version: 1, weightsSha256: hash, preprocessing: 'u8div255-noresize' });
  });

  test('a modified weight file or config is detected', async () => {
    const params = initFashionClassifier(createRng(2));
    await saveFashionClassifier(dir, params);
    const path = join(dir, 'model.safetensors');
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = at(bytes, bytes.length - 1, 'last byte') ^ 0x01;
    await writeFile(path, bytes);
    await expect(loadFashionClassifier(dir)).rejects.toThrow(/hashes to [0-9a-f]{64} but config.json records/);
    await saveFashionClassifier(dir, params);
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    await writeFile(cfgPath, JSON.stringify({ ...cfg, architecture: { ...cfg.architecture, hidden: 64 } }));
    await expect(loadFashionClassifier(dir)).rejects.toThrow(/"fc1.weight" is float32 \[128, 1568\]; the config needs float32 \[64, 1568\]/);
    await writeFile(cfgPath, JSON.stringify({ ...cfg, format: 'other' }));
    await expect(loadFashionClassifier(dir)).rejects.toThrow(FormatError);
    await expect(loadFashionClassifier(join(dir, 'missing'))).rejects.toThrow(NotFoundError);
  });

  test('saving wrong shapes fails; the extractor name carries the hash; wrong image sizes are refused', async () => {
    const params = initFashionClassifier(createRng(3));
    params.set('fc2.bias', new CpuTensor(new Float32Array(9), [9]));
    await expect(saveFashionClassifier(dir, params)).rejects.toThrow(ShapeError);
    const good = initFashionClassifier(createRng(3));
    const ex = await createFashionFeatureExtractor(await onnxEngine(), good);
    expect(ex.name).toBe(fashionExtractorName(hashTensors(good)));
    expect(ex.name).toMatch(/^fmnist-cnn-v1\/sha256:[0-9a-f]{16}\/u8div255-noresize$/);
    expect([ex.featureDim, ex.spatialDim, ex.numClasses]).toEqual([128, 343, 10]);
    expect(ex.input).toEqual({ height: 28, width: 28, channels: 1 });
    await expect(ex.extract(randomImages(2, 32, createRng(1)))).rejects.toThrow(/\[N, 28, 28, 1\] grayscale images without resizing/);
    // Batching changes the features only by float32 rounding (onnxruntime's GEMM blocking depends on the batch size).
    const imgs = randomImages(7, 28, createRng(4));
    const all = await ex.extract(imgs);
    const ex3 = await createFashionFeatureExtractor(await onnxEngine(), good, { batchSize: 3 });
    const split = await ex3.extract(imgs);
    expect(relativeMaxError(split.pool.data, all.pool.data)).toBeLessThan(1e-5);
    expect(relativeMaxError(split.logits.data, all.logits.data)).toBeLessThan(1e-5);
    expect(relativeMaxError(split.spatial.data, all.spatial.data)).toBeLessThan(1e-5);
    await ex.dispose();
    await ex3.dispose();
    await expect(ex.extract(imgs)).rejects.toThrow(/disposed/);
  });
});
