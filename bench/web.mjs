#!/usr/bin/env node
// Seconds per generated image of the bundled Fashion-MNIST model (default sampling settings, one seed per image) in
// headless Chromium on onnxruntime-web (wasm, 1 thread and every thread) beside onnxruntime-node (1 thread and every
// thread), measured in one run on this machine. Not a test. Needs the packages and the page built:
//   npm run build && npm run build -w @bigr/web && node bench/web.mjs [--images=4] [--class=7]
// Each configuration generates one warm-up image first (session warm-up), then --images images with seeds 100….

// @ts-check
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const images = Number(args.images ?? 4);
const cls = Number(args.class ?? 7);
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dist = join(repo, 'apps', 'web', 'dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.error('bench/web: apps/web/dist is missing; run `npm run build && npm run build -w @bigr/web` first.');
  process.exit(2);
}
// puppeteer-core is a dependency of apps/web.
const require = createRequire(join(repo, 'apps', 'web', 'package.json'));
const puppeteer = (await import(require.resolve('puppeteer-core'))).default;
const { startServer } = await import(join(repo, 'apps', 'web', 'scripts', 'serve.mjs'));

const rows = [];

async function browserRun(threads) {
  const server = await startServer(dist);
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}?backend=wasm${threads ? `&threads=${threads}` : ''}`);
    // The callbacks run in the page, where globalThis is the window and `bigr` its test hook (apps/web/src/main.ts).
    const info = await page.evaluate(() => /** @type {any} */ (globalThis).bigr.ready);
    await page.evaluate((c) => /** @type {any} */ (globalThis).bigr.generate({ classIndex: c, seed: 99, n: 1 }), cls);
    const r = await page.evaluate((c, n) => /** @type {any} */ (globalThis).bigr.generate({ classIndex: c, seed: 100, n }).then((x) => x.ms), cls, images);
    rows.push({
      what: `Chromium ${(await browser.version()).replace('Chrome/', '')}, onnxruntime-web wasm SIMD`,
      threads: info.threads,
      sPerImage: r / 1000 / images,
      load: info.loadMs / 1000,
    });
  } finally {
    await browser.close();
    await server.close();
  }
}

async function nodeRun(threads) {
  await import('@bigr/engine-onnx');
  const { BigrPipeline } = await import('@bigr/pipeline');
  const { OnnxEngine } = await import('@bigr/engine-onnx');
  process.env.BIGR_THREADS = String(threads);
  const t0 = performance.now();
  const bigr = await BigrPipeline.fromDirectory(join(repo, 'apps', 'cli', 'models', 'fashion-mnist'), new OnnxEngine());
  const load = (performance.now() - t0) / 1000;
  await bigr.generate({ classes: cls, n: 1, seed: 99 });
  const t1 = performance.now();
  await bigr.generate({ classes: cls, n: images, seed: 100 });
  rows.push({
    what: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
    threads,
    sPerImage: (performance.now() - t1) / 1000 / images,
    load,
  });
  await bigr.dispose();
  delete process.env.BIGR_THREADS;
}

const cores = availableParallelism();
await browserRun(1);
await browserRun(undefined);
await nodeRun(1);
await nodeRun(cores);

console.log(`\nBundled Fashion-MNIST model, class ${cls}, ${images} images (seeds 100…${99 + images}) after one warm-up image, ${cores} logical cores:\n`);
console.log('| runtime | threads | s/image | model load + compile (s) |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.what} | ${r.threads} | ${r.sPerImage.toFixed(2)} | ${r.load.toFixed(1)} |`);
