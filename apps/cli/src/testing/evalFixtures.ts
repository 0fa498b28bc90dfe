/**
 * Test helpers for `features`, `probe`, `eval` and `export-onnx`: a tiny MNIST-style IDX dataset, a random-weight
 * Fashion-MNIST evaluation network, and a perturbation of a tiny model's weights (so zero-initialised layers such as
 * adaLN and the transcoder's output carry signal in parity tests).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CpuTensor, createRng, loadModelDirectory, required, saveModelDirectory, type NamedTensors } from '@bigr/core';
import { initFashionClassifier, saveFashionClassifier, type FashionClassifierConfig } from '../fashionClassifier.js';

function idx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** Labels i mod classes and 28×28 images whose bright bar position and brightness depend on the class, plus noise. */
export function syntheticFashionBytes(n: number, classes: number, seed: string): { images: Uint8Array; labels: Uint8Array } {
  const rng = createRng(seed);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    const x0 = 2 + ((c * 5) % 20);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const bar = x >= x0 && x < x0 + 4 && y >= 4 && y < 24;
        images[i * 784 + y * 28 + x] = bar ? 150 + c * 10 : Math.floor(40 * rng.uniform());
      }
    }
  }
  return { images, labels };
}

/** Writes uncompressed MNIST-style IDX files (train-* and t10k-*) with class-balanced synthetic 28×28 images. */
export async function writeIdxDataset(dir: string, options: { train: number; test: number; classes?: number; seed?: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const classes = options.classes ?? 10;
  for (const [prefix, n] of [
    ['train', options.train],
    ['t10k', options.test],
  ] as const) {
    const { images, labels } = syntheticFashionBytes(n, classes, `idx/${prefix}/${options.seed ?? 0}`);
    await writeFile(join(dir, `${prefix}-images-idx3-ubyte`), idx([n, 28, 28], images));
    await writeFile(join(dir, `${prefix}-labels-idx1-ubyte`), idx([n], labels));
  }
  return dir;
}

/** A small architecture of the evaluation network for tests (4 → 8 channels, 16-d pool, 2 spatial channels). */
export const TINY_CLASSIFIER: Partial<FashionClassifierConfig> = { channels: [4, 8], hidden: 16, classes: 10, spatialChannels: 2 };

/** Writes a random-weight evaluation network directory (config.json with its weights hash + model.safetensors). */
export async function writeTinyClassifier(dir: string, seed = 0): Promise<string> {
  await saveFashionClassifier(dir, initFashionClassifier(createRng(`tiny-classifier/${seed}`), TINY_CLASSIFIER), TINY_CLASSIFIER, {
    note: 'random weights for tests',
  });
  return dir;
}

/** Adds N(0, std²) noise to every floating-point tensor of a model directory's weights (in place on disk). */
export async function perturbModelWeights(dir: string, std = 0.05, seed = 0): Promise<void> {
  const { config, tensors } = await loadModelDirectory(dir);
  const rng = createRng(`perturb/${seed}`);
  const out: NamedTensors = new Map();
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') {
      out.set(name, t);
      continue;
    }
    const noise = rng.normalsF32(t.size);
    const data = Float32Array.from(t.data as Float32Array, (v, i) => v + std * required(noise[i], 'noise'));
    out.set(name, new CpuTensor(data, t.shape));
  }
  await saveModelDirectory(dir, { config: config as object, tensors: out });
}
