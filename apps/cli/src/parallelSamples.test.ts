import '@bigr/engine-onnx';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, ConfigError, type Tensor } from '@bigr/core';
import { generateSampleParts, labelsHash, type SamplePartsKey } from './parallelSamples.js';
import { writeTinyModel, type TinyModel } from './testing/tinyModel.js';

let root: string;
let tiny: TinyModel;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-parts-'));
  tiny = await writeTinyModel(join(root, 'm'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const labels = Int32Array.from([2, 1, 0, 1, 3, 0, 2]);
/** Bytes of a batch: every decoded value rounded to 8 bits. */
const toBytes = (images: Tensor<'float32'>): Uint8Array => Uint8Array.from(images.data, (v) => Math.max(0, Math.min(255, Math.round(v * 255))));

function key(imageBytes: number, over: Partial<SamplePartsKey> = {}): SamplePartsKey {
  return {
    modelHash: 'h',
    n: labels.length,
    batchSize: 2,
    seed: 5,
    labelsHash: labelsHash(labels),
    settings: { iterations: 2 },
    diffusionSteps: 3,
    imageBytes,
    ...over,
  };
}

describe('resumable sample parts on a worker pool', () => {
  it('a run stopped after its first batches and started again gives the same bytes, reusing the batches on disk', async () => {
    const imageBytes = tiny.channels * tiny.resolution * tiny.resolution;
    const full = await generateSampleParts({ modelDir: tiny.modelDir, partsDir: join(root, 'full'), labels, key: key(imageBytes), toBytes, workers: 2 });
    expect(full.resumedBatches).toBe(0);
    expect(full.batches).toBe(4);
    expect(full.seeds).toEqual([5, 6, 7, 8, 9, 10, 11]);

    // Stop after the first finished batch, then resume with one worker.
    const parts = join(root, 'stopped');
    const controller = new AbortController();
    await expect(
      generateSampleParts({
        modelDir: tiny.modelDir,
        partsDir: parts,
        labels,
        key: key(imageBytes),
        toBytes,
        workers: 2,
        signal: controller.signal,
        onProgress: (e) => (e.current > 0 ? controller.abort() : undefined),
      }),
    ).rejects.toBeInstanceOf(AbortError);
    const kept = (await readdir(parts)).filter((f) => f.startsWith('batch-'));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(4);
    const resumed = await generateSampleParts({ modelDir: tiny.modelDir, partsDir: parts, labels, key: key(imageBytes), toBytes, workers: 1 });
    expect(resumed.resumedBatches).toBe(kept.length);
    expect(Buffer.from(resumed.data).equals(Buffer.from(full.data))).toBe(true);

    // Other settings start over; a foreign directory is refused.
    const other = await generateSampleParts({
      modelDir: tiny.modelDir,
      partsDir: parts,
      labels,
      key: key(imageBytes, { seed: 6 }),
      toBytes,
      workers: 1,
      warn: () => undefined,
    });
    expect(other.resumedBatches).toBe(0);
    expect(Buffer.from(other.data.subarray(0, imageBytes)).equals(Buffer.from(full.data.subarray(imageBytes, 2 * imageBytes)))).toBe(true);
    const foreign = join(root, 'foreign');
    await rm(foreign, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(foreign));
    await writeFile(join(foreign, 'x.txt'), 'mine');
    await expect(generateSampleParts({ modelDir: tiny.modelDir, partsDir: foreign, labels, key: key(imageBytes), toBytes, workers: 1 })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});
