import '@bigr/engine-onnx';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, CpuTensor, FormatError, NotFoundError, required, resolveEngine, type Engine } from '@bigr/core';
import { BigrPipeline } from './bigrPipeline.js';
import { TokenizerPipeline } from './tokenizerPipeline.js';
import { fetchBigrModel, WebBigrPipeline, type FetchModelOptions } from './webPipeline.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundled Fashion-MNIST model of the CLI (read only). */
const MODEL = join(here, '..', '..', '..', 'apps', 'cli', 'models', 'fashion-mnist');
const FAST = { iterations: 3, diffusionSteps: 5 } as const;
const BASE = 'https://models.example/fashion-mnist';

/** A fetch that serves the model directory at BASE, with optional overrides per relative path. */
function fakeFetch(overrides: Record<string, Uint8Array | number> = {}): NonNullable<FetchModelOptions['fetch']> {
  return async (url) => {
    const rel = url.slice(BASE.length + 1);
    const o = overrides[rel];
    if (typeof o === 'number') return new Response('nope', { status: o, statusText: 'Not Found' });
    const body = o ?? new Uint8Array(await readFile(join(MODEL, rel)));
    return new Response(body, { status: 200, headers: { 'content-length': String(body.length) } });
  };
}

describe('WebBigrPipeline (the browser pipeline) on the bundled model, on onnx-cpu', () => {
  let engine: Engine;
  let web: WebBigrPipeline;
  let node: BigrPipeline;
  beforeAll(async () => {
    engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const progress: number[] = [];
    web = await WebBigrPipeline.fromBytes(await fetchBigrModel(BASE, { fetch: fakeFetch(), onProgress: (e) => progress.push(e.current) }), engine);
    expect(progress.at(-1)).toBeGreaterThan(5_000_000);
    node = await BigrPipeline.fromDirectory(MODEL, engine);
  });
  afterAll(async () => {
    await web.dispose();
    await node.dispose();
  });

  it('generates exactly what BigrPipeline generates for the same classes and seeds', async () => {
    const request = { classes: ['sneaker', 'bag'], seeds: [21, 22], ...FAST } as const;
    const a = await web.generate(request);
    const b = await node.generate(request);
    expect(a.seeds).toEqual([21, 22]);
    expect(Array.from(a.labels)).toEqual([7, 8]);
    expect(Array.from(a.codes.data)).toEqual(Array.from(b.codes.data));
    expect(Array.from(a.images.data)).toEqual(Array.from(b.images.data));
    expect(web.classIndex('ankle')).toBe(9);
    expect(() => web.classIndex('zebra')).toThrow(ConfigError);
  });

  it('inpaints, encodes and searches like the Node pipelines', async () => {
    const image = new CpuTensor<'float32'>(
      Float32Array.from({ length: 28 * 28 }, (_, i) => ((i * 37) % 255) / 255),
      [1, 1, 28, 28],
    );
    const mask = new CpuTensor<'uint8'>(
      Uint8Array.from({ length: 32 * 32 }, (_, i) => (i % 32 < 16 ? 1 : 0)),
      [32, 32],
    );
    const req = { image, region: { kind: 'image', image: mask }, samples: 2, seed: 4, ...FAST } as const;
    const a = await web.inpaint(req);
    const b = await node.inpaint(req);
    expect(Array.from(required(a.images, 'web images').data)).toEqual(Array.from(required(b.images, 'node images').data));
    const tok = await TokenizerPipeline.fromDirectory(MODEL, engine);
    const images = new CpuTensor<'float32'>(
      Float32Array.from({ length: 3 * 28 * 28 }, (_, i) => ((i * 13) % 101) / 100),
      [3, 1, 28, 28],
    );
    const index = await tok.index(images);
    expect(Array.from((await web.encode(images)).packed.bytes)).toEqual(Array.from((await tok.encode(images)).packed.bytes));
    const hits = await web.search(index, new CpuTensor<'float32'>(images.data.subarray(784, 1568), [1, 1, 28, 28]), 2);
    const [best] = hits;
    expect(best?.ids[0]).toBe(1);
    expect(best?.distances[0]).toBe(0);
    await tok.dispose();
  });

  it('reports missing files, oversized files and configs that leave the model', async () => {
    await expect(fetchBigrModel(BASE, { fetch: fakeFetch({ 'model.safetensors': 404 }) })).rejects.toThrow(NotFoundError);
    await expect(fetchBigrModel(BASE, { fetch: fakeFetch(), maxBytes: 1000 })).rejects.toThrow(FormatError);
    const config = JSON.parse(await readFile(join(MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
    const escaping = new TextEncoder().encode(JSON.stringify({ ...config, tokenizer: '../elsewhere' }));
    await expect(fetchBigrModel(BASE, { fetch: fakeFetch({ 'config.json': escaping }) })).rejects.toThrow(ConfigError);
    const files = await fetchBigrModel(BASE, { fetch: fakeFetch() });
    await expect(WebBigrPipeline.fromBytes({ ...files, config: { ...config, format: 'other' } }, engine)).rejects.toThrow(/not a BiGR model/);
  });
});
