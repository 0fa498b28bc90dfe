// Builds the static page into apps/web/dist: bundles src/main.ts and src/worker.ts with esbuild for browsers, and
// copies the HTML/CSS, onnxruntime-web's wasm files (served by the page itself, never a CDN), the bundled
// Fashion-MNIST model (apps/cli/models/fashion-mnist, read only), the Fashion-MNIST test set (Debian's
// dataset-fashion-mnist) and a prebuilt Hamming index of the test set's threshold codes (made here with the Node
// engine; cached in apps/web/.cache by the tokenizer's SHA-256).
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, '..');
const repo = join(app, '..', '..');
const out = join(app, 'dist');
const modelDir = join(repo, 'apps', 'cli', 'models', 'fashion-mnist');
const datasetDir = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const log = (m) => process.stdout.write(`[web build] ${m}\n`);

async function copyDir(from, to) {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await copyDir(join(from, e.name), join(to, e.name));
    else await copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Threshold codes of the 10,000 test images in a HashIndex file, built with the Node engine (cached). */
async function testIndex(imagesGz) {
  const tokWeights = await readFile(join(modelDir, 'tokenizer', 'model.safetensors'));
  const key = createHash('sha256')
    .update(tokWeights)
    .update(await readFile(imagesGz))
    .digest('hex')
    .slice(0, 16);
  const cache = join(app, '.cache', `test-index-${key}.bigrhash`);
  if (existsSync(cache)) return readFile(cache);
  log('hashing the 10,000 test images with the Node engine (once; cached in apps/web/.cache)…');
  await import('@bigr/engine-onnx');
  const { TokenizerPipeline } = await import('@bigr/pipeline');
  const { resolveEngine, readIdx, CpuTensor } = await import('@bigr/core');
  const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
  const tok = await TokenizerPipeline.fromDirectory(modelDir, engine);
  const idx = await readIdx(imagesGz);
  const [n, h, w] = idx.shape;
  const images = new CpuTensor(
    Float32Array.from(idx.data, (v) => v / 255),
    [n, 1, h, w],
  );
  const t0 = Date.now();
  const index = await tok.index(images);
  log(`  ${n} images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await tok.dispose();
  const bytes = index.serialize();
  await mkdir(dirname(cache), { recursive: true });
  await writeFile(cache, bytes);
  return bytes;
}

export async function build({ minify = true } = {}) {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const t0 = Date.now();
  const result = await esbuild.build({
    entryPoints: { main: join(app, 'src', 'main.ts'), worker: join(app, 'src', 'worker.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome120', 'firefox120', 'safari17'],
    // onnxruntime-web's build that loads its wasm glue (.mjs) from env.wasm.wasmPaths, i.e. from this page.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    // Resolve @bigr/* through package.json exports as any app would (the packages' tsconfig paths point at src).
    tsconfigRaw: { compilerOptions: { target: 'es2022', useDefineForClassFields: true } },
    minify,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeInputs = inputs.filter((p) => p.startsWith('node:'));
  if (nodeInputs.length) throw new Error(`The page bundle imports Node built-ins: ${nodeInputs.join(', ')}`);
  log(`bundled main.js + worker.js in ${Date.now() - t0} ms`);
  for (const f of ['index.html', 'style.css']) await copyFile(join(app, 'src', f), join(out, f));
  const ortDist = join(repo, 'node_modules', 'onnxruntime-web', 'dist');
  await mkdir(join(out, 'ort'), { recursive: true });
  for (const f of await readdir(ortDist)) {
    if (/^ort-wasm-simd-threaded(\.jsep|\.asyncify)?\.(wasm|mjs)$/.test(f)) await copyFile(join(ortDist, f), join(out, 'ort', f));
  }
  await copyDir(modelDir, join(out, 'models', 'fashion-mnist'));
  await mkdir(join(out, 'data'), { recursive: true });
  const images = join(datasetDir, 't10k-images-idx3-ubyte.gz');
  const labels = join(datasetDir, 't10k-labels-idx1-ubyte.gz');
  if (!existsSync(images) || !existsSync(labels))
    throw new Error(
      `The Fashion-MNIST test set is missing in ${datasetDir}; ` +
        `install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set FASHION_MNIST_DIR.`,
    );
  await copyFile(images, join(out, 'data', 't10k-images-idx3-ubyte.gz'));
  await copyFile(labels, join(out, 'data', 't10k-labels-idx1-ubyte.gz'));
  await writeFile(join(out, 'data', 'test-index.bigrhash'), await testIndex(images));
  log(`done: ${out}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build({ minify: !process.argv.includes('--no-minify') });
}
