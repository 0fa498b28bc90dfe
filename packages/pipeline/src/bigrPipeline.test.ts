import '@bigr/engine-onnx';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, CpuTensor, required, resolveEngine, type Engine } from '@bigr/core';
import { BigrPipeline } from './bigrPipeline.js';
import { TokenizerPipeline } from './tokenizerPipeline.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled Fashion-MNIST model of the CLI (read only). */
const MODEL = join(here, '..', '..', '..', 'apps', 'cli', 'models', 'fashion-mnist');
const FAST = { iterations: 3, diffusionSteps: 5 } as const;

describe('BigrPipeline on the bundled model directory', () => {
  let engine: Engine;
  let bigr: BigrPipeline;
  beforeAll(async () => {
    engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    bigr = await BigrPipeline.load(MODEL, { engine });
  });
  afterAll(async () => bigr.dispose());

  it('resolves classes by name, prefix, index and none', () => {
    expect(bigr.classNames).toHaveLength(10);
    expect(bigr.classIndex('sneaker')).toBe(7);
    expect(bigr.classIndex('Ankle')).toBe(9);
    expect(bigr.classIndex(3)).toBe(3);
    expect(bigr.classIndex('none')).toBe(10);
    expect(bigr.className(7)).toBe('Sneaker');
    expect(() => bigr.classIndex('zebra')).toThrow(ConfigError);
    expect(Array.from(bigr.labels('all', 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('gives every image its own seed: image k regenerated alone is identical', async () => {
    const events: number[] = [];
    const batch = await bigr.generate({ classes: ['sneaker', 'trouser', 'bag'], seeds: [11, 12, 13], ...FAST, onProgress: (e) => events.push(e.current) });
    expect(batch.images.shape).toEqual([3, 1, 28, 28]);
    expect(batch.codes.shape).toEqual([3, 64, 16]);
    expect(Array.from(batch.labels)).toEqual([7, 1, 8]);
    expect(batch.seeds).toEqual([11, 12, 13]);
    for (const v of batch.images.data) expect(v >= 0 && v <= 1).toBe(true);
    // Progress never goes back and ends at its total.
    for (const [i, e] of events.slice(1).entries()) expect(e).toBeGreaterThanOrEqual(required(events[i], 'previous progress event'));

    const alone = await bigr.generate({ classes: 'bag', seeds: [13], ...FAST });
    expect(Array.from(alone.codes.data)).toEqual(Array.from(batch.codes.data.subarray(2 * 64 * 16)));
    expect(Array.from(alone.images.data)).toEqual(Array.from(batch.images.data.subarray(2 * 28 * 28)));
    // seed + k by default.
    const again = await bigr.generate({ classes: ['sneaker', 'trouser'], seed: 11, ...FAST });
    expect(again.seeds).toEqual([11, 12]);
    expect(Array.from(again.codes.data)).toEqual(Array.from(batch.codes.data.subarray(0, 2 * 64 * 16)));
    // Another seed, other bits.
    const other = await bigr.generate({ classes: 'bag', seeds: [14], ...FAST });
    expect(Array.from(other.codes.data)).not.toEqual(Array.from(alone.codes.data));
  });

  it('refuses a seed list of the wrong length and stops on abort', async () => {
    await expect(bigr.generate({ classes: ['bag', 'bag'], seeds: [1] })).rejects.toThrow(/one seed per image/);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(bigr.generate({ n: 2, ...FAST, signal: ac.signal })).rejects.toThrow(/aborted/);
  });

  it('encodes, decodes, hashes, searches and extracts features', async () => {
    const gen = await bigr.generate({ classes: [0, 5], seed: 3, ...FAST });
    const decoded = await bigr.decode(gen.codes);
    expect(Array.from(decoded.data)).toEqual(Array.from(gen.images.data));
    const enc = await bigr.encode(gen.images);
    expect(enc.bits.shape).toEqual([2, 64, 16]);
    const index = await bigr.tokenizer.index(gen.images);
    const hits = await bigr.tokenizer.search(index, gen.images, 1);
    expect(hits.map((h) => [h.ids[0], h.distances[0]])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    const f = await bigr.features(gen.images);
    // The bundled backbone: D = 192, 5 blocks, so the default block is ⌊5·10/24⌋ = 2 (docs/algorithm.md §7.1).
    expect(f.shape).toEqual([2, 192]);
    expect(bigr.representationLayer).toBe(2);
  });

  it('inpaints a region of an image', async () => {
    const image = new CpuTensor<'float32'>(new Float32Array(28 * 28).fill(0.5), [1, 1, 28, 28]);
    const r = await bigr.inpaint({ image, region: { kind: 'boxes', boxes: [{ x0: 0, y0: 0, x1: 16, y1: 16 }] }, samples: 2, seed: 1, ...FAST });
    expect(required(r.images, 'decoded images').shape).toEqual([2, 1, 28, 28]);
    expect(r.regenerated.shape).toEqual([2, 64]);
  });

  it('loads the tokenizer alone from the model directory or its tokenizer/', async () => {
    const a = await TokenizerPipeline.load(MODEL, { engine });
    const b = await TokenizerPipeline.load(join(MODEL, 'tokenizer'), { engine });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toBe(bigr.tokenizer.hash);
    expect(a.grid).toEqual([8, 8]);
    expect(a.geometry).toEqual({ channels: 1, size: 32, pad: 2, inner: 28 });
    await a.dispose();
    await b.dispose();
  });

  it('names a path that is not a model directory', async () => {
    await expect(BigrPipeline.load(join(here, 'no-such-model'), { engine })).rejects.toThrow(/not a model directory/);
  });
});
