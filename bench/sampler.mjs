#!/usr/bin/env node
// End-to-end BiGR sampling speed (entropy-ordered unmasking, docs/algorithm.md §6) on onnxruntime, on one thread and
// on every core, in one run: seconds per image, achieved GFLOP/s against onnxruntime's matmul peak measured in the
// same run (1 thread, and every core), the ratio to the released PyTorch sampler, and the images/s of a class-balanced
// 10,000-sample generation with the bundled Fashion-MNIST model (what `bigr eval --model` generates).
//
//   npx nx run pipeline:build
//   node bench/sampler.mjs [--configs=tiny,small,L] [--workers=<cores>] [--batch=8] [--single-jobs=2] [--jobs=<2 x workers>]
//                          [--l-batch=1] [--l-single-jobs=1] [--l-jobs=<workers>] [--cfg=2.5] [--steps=100]
//                          [--gen-n=10000] [--gen-batch=50] [--gen-model=apps/cli/models/fashion-mnist] [--gen-steps=<model's>] [--gen=false]
//
// Configurations (random weights, CFG 2.5, S = 100 of T = 256 diffusion steps, K = 16, Gumbel 0.17):
//   tiny : dim 64, 2 layers, 4 heads, denoiser 64x2, N = 16, 10 iterations, batches of 8  (official torch: 0.228 s/image)
//   small: dim 256, 4 layers, 8 heads, denoiser 256x3, N = 64, 10 iterations, batches of 8 (official torch: 3.27 s/image)
//   L    : BiGR-L shapes (dim 1024, 24 layers, 16 heads, denoiser 1024x3), N = 256, 20 iterations, batches of 1
//          (official torch, BiGR-L-d16, batch 1: 354 s/image)
// (official figures: the released PyTorch code with Debian torch 1.13 and OpenBLAS, 2 threads, on this machine.)
//
// Every run is complete (all iterations, all diffusion steps, nothing extrapolated). "1 thread" is a SamplerPool with
// one worker and one intra-op thread running --single-jobs batches; "all cores" is a pool of --workers workers (one
// intra-op thread each) running --jobs batches, several in flight. Each image has its own seed, so the batches both
// runs share must come out bit-identical, which the script checks. Each worker compiles its graphs and runs one
// warm-up job before the clock starts. GFLOP are counted analytically per backbone and transcoder call (matmuls and
// attention) inside the workers.

// @ts-check
import os from 'node:os';
import { errorLine, importBuilt, machine, measurePeak, parseArgs, peakLine, repo } from './common.mjs';

const args = parseArgs(import.meta.url);
const configs = (args.configs ?? 'tiny,small,L').split(',').filter(Boolean);
const cores = os.availableParallelism();
const workers = Number(args.workers ?? cores);
const batch = Number(args.batch ?? 8);
const cfgScale = Number(args.cfg ?? 2.5);
const diffusionSteps = Number(args.steps ?? 100);
const genN = Number(args['gen-n'] ?? 10000);
const genBatch = Number(args['gen-batch'] ?? 50);
const genModel = args['gen-model'] ?? `${repo}apps/cli/models/fashion-mnist`;
// The generation uses the model's own transcoder.inferenceSteps (what `bigr eval --model` uses) unless --gen-steps is given.
const genSteps = args['gen-steps'] !== undefined ? Number(args['gen-steps']) : undefined;

const [, onnxPkg, sp, pl] = await importBuilt(
  'bench/sampler.mjs',
  ['core', 'engine-onnx', 'sampler', 'pipeline'],
  'bench/sampler.mjs needs the built packages: run npx nx run pipeline:build first.',
);
const { SIZES } = await import('./samplerModels.mjs');
const factoryModule = new URL('./samplerModels.mjs', import.meta.url).href;

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Jobs of a configuration: job j has `b` images with labels (37·i + 11·j) mod C and seeds 1000·j + i. */
function jobs(s, count, b) {
  return Array.from({ length: count }, (_, j) => ({
    labels: Int32Array.from({ length: b }, (_, i) => (37 * i + 11 * j) % s.numClasses),
    seeds: Array.from({ length: b }, (_, i) => 1000 * j + i),
  }));
}

/** Runs `list` on a fresh pool of `n` workers after one warm-up job per worker; wall time, FLOP and codes. */
async function timedPool(name, n, list, settings) {
  const pool = await sp.SamplerPool.create({
    workers: n,
    factory: { module: factoryModule, exportName: 'randomBigrFactory', args: { name, steps: diffusionSteps } },
  });
  try {
    const s = SIZES[name];
    await Promise.all(
      Array.from({ length: n }, (_, w) =>
        pool.sample({ labels: [w % s.numClasses], seeds: [999999 - w], settings: { ...settings, iterations: 1 }, decode: false }),
      ),
    );
    const t0 = performance.now();
    const results = await Promise.all(list.map((job) => pool.sample({ ...job, settings, decode: false })));
    const wall = (performance.now() - t0) / 1000;
    const flop = results.reduce((a, r) => a + (r.stats?.backboneFlop ?? 0) + (r.stats?.headFlop ?? 0), 0);
    const busyMs = results.reduce((a, r) => a + (r.stats?.backboneMs ?? 0) + (r.stats?.headMs ?? 0), 0);
    const images = list.reduce((a, j) => a + j.labels.length, 0);
    return { wall, flop, busyMs, images, codes: results.map((r) => r.codes.data) };
  } finally {
    await pool.dispose();
  }
}

function same(a, b) {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function runConfig(name, peak1, peakAll) {
  const s = SIZES[name];
  const isL = name === 'L';
  const b = isL ? Number(args['l-batch'] ?? 1) : batch;
  const singleJobs = Number(isL ? (args['l-single-jobs'] ?? 1) : (args['single-jobs'] ?? 2));
  const allJobs = Number(isL ? (args['l-jobs'] ?? workers) : (args.jobs ?? 2 * workers));
  const settings = { iterations: s.iterations, cfgScale, gumbelTemperature: 0.17 };
  const list = jobs(s, Math.max(singleJobs, allJobs), b);
  const one = await timedPool(name, 1, list.slice(0, singleJobs), settings);
  const all = await timedPool(name, workers, list.slice(0, allJobs), settings);
  const shared = Math.min(singleJobs, allJobs);
  const identical = one.codes.slice(0, shared).every((c, j) => same(c, all.codes[j]));
  const line = (label, r, peak) => {
    const perImage = r.wall / r.images;
    const gflops = r.flop / r.wall / 1e9;
    return (
      `${name.padEnd(5)} ${label.padEnd(24)} ${perImage.toFixed(perImage < 10 ? 3 : 1)} s/image  (${r.images} images in ${r.wall.toFixed(1)} s; ` +
      `${gflops.toFixed(1)} GFLOP/s = ${((100 * gflops) / peak.gflops).toFixed(0)}% of the ${peak.threads}-thread matmul peak; ` +
      `official torch ${s.official} s/image -> ${(s.official / perImage).toFixed(2)}x)`
    );
  };
  console.log(line('1 thread', one, peak1));
  console.log(line(`all cores (${workers} workers)`, all, peakAll));
  console.log(
    `${name.padEnd(5)} ${''.padEnd(24)} all cores / 1 thread: ${(one.wall / one.images / (all.wall / all.images)).toFixed(2)}x throughput; ` +
      `bits of the ${shared} shared batch${shared === 1 ? '' : 'es'} identical: ${identical ? 'yes' : 'NO'}; ` +
      `${(one.flop / one.images / 1e9).toFixed(1)} GFLOP/image; load average ${load()}`,
  );
}

async function runGeneration() {
  const settings = { iterations: 10, cfgScale, gumbelTemperature: 0.17 };
  const { config } = await pl.readBigrModel(genModel);
  const steps = pl.modelDiffusionSteps(config, genSteps);
  const pool = await pl.createBigrSamplerPool(genModel, { workers, ...(steps !== undefined ? { diffusionSteps: steps } : {}) });
  const b = config.backbone;
  try {
    await Promise.all(
      Array.from({ length: workers }, (_, w) => pool.sample({ labels: [w % 10], seeds: [999999 - w], settings: { ...settings, iterations: 1 } })),
    );
    const labels = Int32Array.from({ length: genN }, (_, i) => i % 10);
    const seeds = Array.from({ length: genN }, (_, i) => i);
    let images = 0;
    const t0 = performance.now();
    await sp.generateBatches(pool, {
      labels,
      seeds,
      batchSize: genBatch,
      settings,
      onBatch: (r) => {
        images += r.images.shape[0];
      },
    });
    const wall = (performance.now() - t0) / 1000;
    console.log(
      `generation: ${images} class-balanced images of the bundled model ` +
        `(D ${b.dim}, ${b.layers} layers, ${b.tokens} tokens, 10 iterations, CFG ${cfgScale}, ${steps} diffusion steps, decoded), ` +
        `${workers} workers, batches of ${genBatch}: ${(images / wall).toFixed(1)} images/s, ${(wall / 60).toFixed(2)} min; load average ${load()}`,
    );
  } finally {
    await pool.dispose();
  }
}

const { cpu, cpus } = machine();
console.log(`# BiGR sampler benchmark (${cpu ?? 'cpu'}, ${cpus} cores, node ${process.version}); random weights; load average at start ${load()}`);
console.log(`# K 16, CFG ${cfgScale}, ${diffusionSteps} diffusion steps, entropy order, Gumbel 0.17, per-image seeds; ${workers} workers for "all cores"`);
const peak1 = await measurePeak(onnxPkg, 1);
console.log(peakLine(peak1, 1));
const peakAll = await measurePeak(onnxPkg, cores);
console.log(peakLine(peakAll, cores));
for (const name of configs) {
  if (!SIZES[name]) throw new Error(`unknown config ${name}; use tiny, small or L`);
  try {
    await runConfig(name, peak1, peakAll);
  } catch (err) {
    console.log(`${name.padEnd(5)} FAILED: ${errorLine(err)}`);
  }
}
if (args.gen !== 'false') {
  try {
    await runGeneration();
  } catch (err) {
    console.log(`generation FAILED: ${errorLine(err)}`);
  }
}
console.log(`# load average at end ${load()}`);
