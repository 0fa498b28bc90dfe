#!/usr/bin/env node
// Trains the Fashion-MNIST evaluation network of docs/evaluation.md §9.2 ("FMNIST metrics") on tfjs, reports its test
// accuracy and writes the frozen weights (atomically) to packages/eval/weights/fashion-classifier/
// {config.json, model.safetensors}; config.json records the weights' SHA-256, which becomes part of every metric id.
//
//   node packages/eval/scripts/train-fashion-classifier.mjs [options]
//
// Options (all optional):
//   --data=DIR            Fashion-MNIST IDX files (gzipped), default /usr/share/datasets/fashion-mnist
//   --out=DIR             output model directory, default packages/eval/weights/fashion-classifier
//   --epochs=N            passes over the training data (default 4)
//   --steps-per-epoch=N   use at most N batches per epoch (subsampling; default: all)
//   --train-limit=N       use only the first N training images (default 60000)
//   --batch=N             batch size (default 128)
//   --lr=X                peak learning rate of the warm-up + cosine schedule (default 2e-3)
//   --seed=S              seed of initialisation and shuffling (default 20240917)
//   --config=JSON         architecture overrides, e.g. '{"stemChannels":0}' (default: DEFAULT_FASHION_CLASSIFIER_CONFIG)
//   --device=NAME         training engine (default tfjs-wasm); inference for the test set uses onnx-cpu
//   --dist                import the built packages (npm run build) instead of compiling the TypeScript sources
//                         on the fly with @swc/core (the default, so the script always matches the checkout)
//
// Prints progress to stderr and a JSON summary to stdout.
import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const i = a.indexOf('=');
    return i < 0 ? [a.replace(/^--/, ''), 'true'] : [a.slice(0, i).replace(/^--/, ''), a.slice(i + 1)];
  }),
);
const known = new Set(['config', 'data', 'out', 'epochs', 'steps-per-epoch', 'train-limit', 'batch', 'lr', 'seed', 'device', 'dist']);
for (const k of Object.keys(args)) {
  if (!known.has(k)) {
    console.error(`Unknown option --${k}. Known: ${[...known].map((x) => `--${x}`).join(', ')}.`);
    process.exit(2);
  }
}
const int = (name, def) => {
  const v = args[name] === undefined ? def : Number(args[name]);
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer, got ${args[name]}.`);
    process.exit(2);
  }
  return v;
};
const dataDir = resolve(args.data ?? '/usr/share/datasets/fashion-mnist');
const outDir = resolve(args.out ?? join(repo, 'packages/eval/weights/fashion-classifier'));
const epochs = int('epochs', 4);
const batchSize = int('batch', 128);
const trainLimit = int('train-limit', 60000);
const stepsPerEpoch = args['steps-per-epoch'] === undefined ? undefined : int('steps-per-epoch', 1);
const lr = Number(args.lr ?? 2e-3);
if (!(lr > 0 && Number.isFinite(lr))) {
  console.error(`--lr must be a positive number, got ${args.lr}.`);
  process.exit(2);
}
const seed = args.seed ?? '20240917';
const device = args.device ?? 'tfjs-wasm';

// Source mode: resolve @bigr/* to packages/*/src/index.ts and compile .ts with @swc/core (a root devDependency).
const LOADER = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
let repo; let swc;
export function initialize(data) { repo = data.repo; swc = createRequire(repo + 'package.json')('@swc/core'); }
export async function resolve(spec, ctx, next) {
  const m = /^@bigr\\/([a-z-]+)$/.exec(spec);
  if (m) {
    const src = repo + 'packages/' + m[1] + '/src/index.ts';
    if (existsSync(src)) return { url: pathToFileURL(src).href, shortCircuit: true };
  }
  if ((spec.startsWith('./') || spec.startsWith('../')) && spec.endsWith('.js') && ctx.parentURL && ctx.parentURL.endsWith('.ts')) {
    const ts = new URL(spec.slice(0, -3) + '.ts', ctx.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(spec, ctx);
}
export async function load(url, ctx, next) {
  if (!url.endsWith('.ts')) return next(url, ctx);
  const filename = fileURLToPath(url);
  const out = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' }, sourceMaps: 'inline',
  });
  return { format: 'module', source: out.code, shortCircuit: true };
}`;

let classifierUrl;
if (args.dist === 'true') {
  const dist = join(repo, 'packages/eval/dist/classifier/index.js');
  if (!existsSync(dist)) {
    console.error(`--dist needs the built packages (${dist} is missing): run \`npm run build\` first, or drop --dist.`);
    process.exit(1);
  }
  classifierUrl = pathToFileURL(dist).href;
} else {
  register(`data:text/javascript,${encodeURIComponent(LOADER)}`, { data: { repo } });
  classifierUrl = pathToFileURL(join(repo, 'packages/eval/src/classifier/index.ts')).href;
}

const core = await import('@bigr/core');
await import('@bigr/engine-tfjs');
await import('@bigr/engine-onnx');
const cls = await import(classifierUrl);

const t0 = performance.now();
const log = (msg) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

async function loadSplit(prefix, limit) {
  const images = await core.readIdx(join(dataDir, `${prefix}-images-idx3-ubyte.gz`));
  const labels = await core.readIdx(join(dataDir, `${prefix}-labels-idx1-ubyte.gz`));
  if (
    images.dtype !== 'uint8' ||
    labels.dtype !== 'uint8' ||
    images.shape.length !== 3 ||
    images.shape[1] !== 28 ||
    images.shape[2] !== 28 ||
    labels.shape.length !== 1 ||
    labels.shape[0] !== images.shape[0]
  ) {
    throw new core.FormatError(`${dataDir}/${prefix}: images [${images.shape}] and labels [${labels.shape}] are not Fashion-MNIST ([n, 28, 28] and [n]).`);
  }
  const n = Math.min(limit, images.shape[0]);
  return { n, images: images.data.subarray(0, n * 784), labels: labels.data.subarray(0, n) };
}

const train = await loadSplit('train', trainLimit);
const test = await loadSplit('t10k', 10000);
log(`loaded ${train.n} training and ${test.n} test images from ${dataDir}`);

const trainEngine = await core.resolveEngine({ purpose: 'training', device });
const inferEngine = await core.resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
const config = cls.parseFashionClassifierConfig(args.config === undefined ? {} : JSON.parse(args.config));
const totalSteps = epochs * Math.min(Math.ceil(train.n / batchSize), stepsPerEpoch ?? Infinity);
const schedule = { kind: 'warmupCosine', lr, minLr: lr / 100, warmupSteps: Math.min(100, Math.floor(totalSteps / 20)), totalSteps: totalSteps - 1 };

async function accuracy(params, split) {
  const ex = await cls.createFashionFeatureExtractor(inferEngine, params, { config, batchSize: 1000 });
  const f = await ex.extract(new core.CpuTensor(split.images, [split.n, 28, 28, 1]));
  await ex.dispose();
  return cls.classificationAccuracy(f.logits.data, config.classes, split.labels);
}

let last = performance.now();
let lossSum = 0;
let lossCount = 0;
const trainStart = performance.now();
const result = await cls.trainFashionClassifier({
  engine: trainEngine,
  images: train.images,
  labels: train.labels,
  epochs,
  batchSize,
  rng: core.createRng(seed),
  config,
  schedule,
  ...(stepsPerEpoch ? { maxStepsPerEpoch: stepsPerEpoch } : {}),
  onProgress: (e) => {
    lossSum += e.metrics.loss;
    lossCount++;
    if (performance.now() - last > 20000 || e.current === e.total) {
      const rate = e.current / ((performance.now() - trainStart) / 1000);
      log(
        `step ${e.current}/${e.total} epoch ${e.metrics.epoch} loss ${(lossSum / lossCount).toFixed(4)} lr ${e.metrics.lr.toExponential(2)} ` +
          `(${rate.toFixed(2)} steps/s, ~${((e.total - e.current) / rate / 60).toFixed(1)} min left)`,
      );
      last = performance.now();
      lossSum = 0;
      lossCount = 0;
    }
  },
});
const trainSeconds = (performance.now() - trainStart) / 1000;
log(`trained ${result.steps} steps in ${trainSeconds.toFixed(0)} s`);

const testAccuracy = await accuracy(result.params, test);
log(`test accuracy ${(100 * testAccuracy).toFixed(2)} %`);

await mkdir(dirname(outDir), { recursive: true });
const training = {
  data: 'Fashion-MNIST (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)',
  trainImages: train.n,
  epochs,
  stepsPerEpoch: stepsPerEpoch ?? Math.ceil(train.n / batchSize),
  steps: result.steps,
  batchSize,
  optimizer: 'Adam (core AdamW, weight decay 0), betas [0.9, 0.999], eps 1e-8',
  schedule,
  seed: String(seed),
  engine: trainEngine.name,
  convolution: 'native',
  finalLoss: Array.from(result.losses.slice(-50)).reduce((a, b) => a + b, 0) / Math.min(50, result.losses.length),
  testAccuracy,
  testImages: test.n,
  trainSeconds: Math.round(trainSeconds),
};
const hash = await cls.saveFashionClassifier(outDir, result.params, config, training);
// Read back through the loader (validates shapes and the recorded hash) and re-check the accuracy.
const loaded = await cls.loadFashionClassifier(outDir);
const reloadedAccuracy = await accuracy(loaded.params, test);
if (reloadedAccuracy !== testAccuracy) throw new Error(`Reloaded weights give ${reloadedAccuracy}, not ${testAccuracy}.`);
log(`wrote ${outDir} (weights sha256 ${hash})`);
console.log(
  JSON.stringify(
    {
      out: outDir,
      weightsSha256: hash,
      name: cls.fashionExtractorName(hash),
      testAccuracy,
      trainSeconds: Math.round(trainSeconds),
      totalSeconds: Math.round((performance.now() - t0) / 1000),
      steps: result.steps,
    },
    null,
    2,
  ),
);
