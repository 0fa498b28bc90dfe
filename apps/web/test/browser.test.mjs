// End-to-end test of the page in Debian's Chromium (headless, driven by puppeteer-core; no browser is downloaded):
// every browser entry bundles without Node built-ins; the built page (apps/web/dist, `npm run build` first) is served
// from 127.0.0.1 and used as a person would — a grid for a fixed class and seed (codes bit-identical to the Node
// engine's, pixels within tolerance), cancel, inpaint (against the Node pipeline too) and a hash search — with no
// console error. Screenshots go to apps/web/test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { BROWSER_ENTRIES, checkBrowserEntry } from '../scripts/checkBrowserEntries.mjs';
import { startServer } from '../scripts/serve.mjs';

const app = fileURLToPath(new URL('..', import.meta.url));
const dist = join(app, 'dist');
const artifacts = join(app, 'test-artifacts');
const modelDir = join(app, '..', 'cli', 'models', 'fashion-mnist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLASS = 7; // sneaker
const SEED = 3;
const N = 4;
const PIXEL_TOLERANCE = 1e-3;

describe('browser entries', () => {
  it('the check catches Node built-ins (the Node entry of @bigr/core imports node:fs)', async () => {
    const r = await checkBrowserEntry('@bigr/core', { conditions: ['node'] });
    assert.ok(
      r.nodeImports.some((n) => n.startsWith('node:fs')),
      JSON.stringify(r),
    );
  });
  for (const entry of BROWSER_ENTRIES) {
    it(`${entry} bundles for the browser without Node built-ins`, async () => {
      const r = await checkBrowserEntry(entry);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.nodeImports, []);
    });
  }
});

describe('the page in headless Chromium', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  let node;
  const consoleErrors = [];

  before(async () => {
    assert.ok(existsSync(join(dist, 'index.html')), 'apps/web/dist is missing; run `npm run build -w @bigr/web` first');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)`);
    await mkdir(artifacts, { recursive: true });
    server = await startServer(dist);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 1500 });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction(
      () => document.getElementById('status')?.textContent?.startsWith('Ready') || document.getElementById('status')?.dataset.state === 'error',
      { timeout: 180_000, polling: 250 },
    );
    // The Node engine's results for the same requests (onnxruntime-node through @bigr/pipeline).
    await import('@bigr/engine-onnx');
    const { BigrPipeline } = await import('@bigr/pipeline');
    const { resolveEngine } = await import('@bigr/core');
    node = await BigrPipeline.fromDirectory(modelDir, await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' }));
  });

  after(async () => {
    await node?.dispose();
    await browser?.close();
    await server?.close();
  });

  it('loads the model on onnxruntime-web (wasm, threads: cross-origin isolated)', async () => {
    const status = await page.$eval('#status', (e) => e.textContent);
    assert.match(status, /^Ready/, status);
    const info = await page.evaluate(() => window.bigr.ready);
    assert.equal(info.engine, 'onnx-web-wasm');
    assert.equal(info.crossOriginIsolated, true);
    assert.equal(info.indexSize, 10000);
    await page.screenshot({ path: join(artifacts, '01-loaded.png'), fullPage: true });
  });

  it('cancels a running generation', async () => {
    await page.select('#gen-n', '16');
    await page.click('#gen-run');
    await page.waitForFunction(() => document.getElementById('gen-progress').value > 0, { timeout: 120_000, polling: 250 });
    await page.click('#gen-cancel');
    await page.waitForFunction(() => document.getElementById('gen-info').textContent === 'Cancelled.', { timeout: 120_000, polling: 250 });
    assert.equal(await page.$eval('#gen-run', (b) => b.disabled), false);
  });

  it(`generates a grid (class ${CLASS}, seed ${SEED}) whose codes are bit-identical to the Node engine's`, async () => {
    await page.select('#gen-class', String(CLASS));
    await page.$eval(
      '#gen-seed',
      (e, v) => {
        e.value = v;
      },
      String(SEED),
    );
    await page.select('#gen-n', String(N));
    await page.click('#gen-run');
    await page.waitForFunction(() => /s\/image|Error/.test(document.getElementById('gen-info').textContent), { timeout: 300_000, polling: 250 });
    const info = await page.$eval('#gen-info', (e) => e.textContent);
    assert.match(info, /s\/image/, info);
    const web = await page.evaluate(() => window.bigr.lastGenerate);
    await page.screenshot({ path: join(artifacts, '02-generate.png'), fullPage: true });
    const ref = await node.generate({ classes: CLASS, n: N, seed: SEED });
    assert.deepEqual(web.codeShape, [...ref.codes.shape]);
    assert.deepEqual(web.seeds, [...ref.seeds]);
    const refCodes = [...ref.codes.data];
    const differing = refCodes.reduce((s, v, i) => s + (v !== web.codes[i] ? 1 : 0), 0);
    assert.equal(differing, 0, `${differing} of ${refCodes.length} code bits differ from the Node engine's`);
    assert.deepEqual(web.imageShape, [...ref.images.shape]);
    let maxDiff = 0;
    ref.images.data.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - web.images[i]));
    });
    assert.ok(maxDiff <= PIXEL_TOLERANCE, `pixels differ by up to ${maxDiff} (tolerance ${PIXEL_TOLERANCE})`);
    await writeFile(
      join(artifacts, 'generate-comparison.json'),
      JSON.stringify({ class: CLASS, seed: SEED, n: N, differingBits: differing, maxPixelDiff: maxDiff, info }, null, 2),
    );
  });

  it('inpaints a painted mask over a test image like the Node pipeline', async () => {
    await page.$eval('#inp-index', (e) => {
      e.value = '42';
      e.dispatchEvent(new Event('change'));
    });
    await page.click('#inp-clear');
    // Paint a stroke across the middle of the image with the pointer, as a person would.
    const box = await (await page.$('#inp-mask')).boundingBox();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.5);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.25 + 0.05 * i), box.y + box.height * 0.5);
    await page.mouse.up();
    await page.click('#inp-run');
    await page.waitForFunction(() => /samples in|Error|Paint/.test(document.getElementById('inp-info').textContent), { timeout: 300_000, polling: 250 });
    const info = await page.$eval('#inp-info', (e) => e.textContent);
    assert.match(info, /samples in/, info);
    await page.screenshot({ path: join(artifacts, '03-inpaint.png'), fullPage: true });
    const web = await page.evaluate(() => window.bigr.lastInpaint);
    assert.deepEqual(web.imageShape, [4, 1, 28, 28]);
    // The same request on the Node pipeline: the mask the page painted, padded like the page pads it.
    const mask28 = await page.evaluate(() => {
      const c = document.getElementById('inp-mask');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return Array.from({ length: c.width * c.height }, (_, p) => (d[4 * p + 3] > 0 ? 1 : 0));
    });
    assert.ok(
      mask28.some((v) => v),
      'the stroke painted nothing',
    );
    const { CpuTensor } = await import('@bigr/core');
    const mask32 = new Uint8Array(32 * 32);
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) mask32[(y + 2) * 32 + x + 2] = mask28[y * 28 + x];
    const pixels = await page.evaluate(() => window.bigr.testImage(42));
    const image = new CpuTensor(
      Float32Array.from(pixels, (v) => v / 255),
      [1, 1, 28, 28],
    );
    const ref = await node.inpaint({ image, region: { kind: 'image', image: new CpuTensor(mask32, [32, 32]) }, samples: 4, seed: 0 });
    let maxDiff = 0;
    ref.images.data.forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - web.images[i]));
    });
    assert.ok(maxDiff <= PIXEL_TOLERANCE, `inpainted pixels differ from the Node pipeline's by up to ${maxDiff}`);
  });

  it('finds a dropped test image among its nearest neighbours by Hamming distance', async () => {
    const { encodePng } = await import('@bigr/tokenizer');
    const pixels = await page.evaluate(() => window.bigr.testImage(123));
    const dir = await mkdtemp(join(tmpdir(), 'bigr-web-'));
    const file = join(dir, 'query.png');
    await writeFile(file, encodePng({ width: 28, height: 28, channels: 1, data: Uint8Array.from(pixels) }));
    try {
      const input = await page.$('#search-file');
      await input.uploadFile(file);
      await page.waitForFunction(() => /nearest|Could not|Error/.test(document.getElementById('search-info').textContent), { timeout: 120_000, polling: 250 });
      const info = await page.$eval('#search-info', (e) => e.textContent);
      assert.match(info, /8 nearest/, info);
      const hits = await page.evaluate(() => window.bigr.lastSearch);
      assert.equal(hits.ids[0], 123);
      assert.ok(hits.distances[0] <= 2, `the image's own code is ${hits.distances[0]} bits away`);
      assert.equal(await page.$$eval('#search-results li', (li) => li.length), 8);
      // Dropping a file on the drop zone runs the same search.
      const png456 = [...encodePng({ width: 28, height: 28, channels: 1, data: Uint8Array.from(await page.evaluate(() => window.bigr.testImage(456))) })];
      await page.evaluate((bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, png456);
      await page.waitForFunction(() => window.bigr.lastSearch?.ids[0] !== 123, { timeout: 120_000, polling: 250 });
      const dropped = await page.evaluate(() => window.bigr.lastSearch);
      assert.equal(dropped.ids[0], 456);
      assert.ok(dropped.distances[0] <= 2, `the dropped image's own code is ${dropped.distances[0]} bits away`);
      await page.screenshot({ path: join(artifacts, '04-search.png'), fullPage: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logged no console error', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
