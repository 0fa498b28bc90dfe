#!/usr/bin/env node
// B-AE tokenizer speed: encode and decode images/s on each engine at 32x32 and 256x256, and Hamming k-NN search
// queries/s over a 100k-code index.
//
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/engine-onnx/tsconfig.build.json \
//     && npx tsc -p packages/engine-tfjs/tsconfig.build.json && npx tsc -p packages/tokenizer/tsconfig.build.json
//   node bench/tokenizer.mjs [--engines=onnx-cpu,tfjs-wasm] [--sizes=32,256] [--batch32=16] [--batch256=1]
//                            [--iters=3] [--threads=1] [--codes=100000] [--queries=200] [--k=10] [--search=true]
//
// Models (random weights with PyTorch's default initialisation; speed does not depend on the values):
//   32:  the 'cifar-32' preset (RGB, nf 64, ch_mult [1,2,2], 8x8 tokens of K = 24 bits)
//   256: the released 'bae-256-d24' architecture (65.5M parameters, 16x16 tokens of K = 24 bits)
// Every timing excludes graph compilation and one warm-up call. Search: brute-force popcount over codes of the
// fashion-mnist-32 geometry (64 tokens x 16 bits = 128 bytes) and of the 256-px d24 geometry (256 x 24 = 768 bytes).

// @ts-check
import { errorLine, importBuilt, importOptional, machine, parseArgs } from './common.mjs';

const args = parseArgs(import.meta.url);
const engines = (args.engines ?? 'onnx-cpu,tfjs-wasm').split(',').filter(Boolean);
const sizes = (args.sizes ?? '32,256').split(',').map(Number);
const batches = { 32: Number(args.batch32 ?? 16), 256: Number(args.batch256 ?? 1) };
const iters = Number(args.iters ?? 3);
const threads = Number(args.threads ?? 1);
const codes = Number(args.codes ?? 100000);
const queries = Number(args.queries ?? 200);
const k = Number(args.k ?? 10);
const doSearch = args.search !== 'false';

const [core, tok] = await importBuilt('bench/tokenizer.mjs', ['core', 'tokenizer']);
for (const [name, pkg] of [
  ['onnx', 'engine-onnx'],
  ['tfjs', 'engine-tfjs'],
])
  await importOptional(
    pkg,
    engines.some((e) => e.startsWith(name)),
  );
const { CpuTensor, createRng, resolveEngine, packBits } = core;

const { cpu, cpus } = machine();
console.log(`# bench/tokenizer.mjs — node ${process.version}, ${cpus} cores (${cpu ?? '?'}), threads=${threads}`);
const results = [];

async function timeIt(fn) {
  await fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return (performance.now() - t0) / 1000 / iters;
}

for (const size of sizes) {
  const preset = size === 256 ? 'bae-256-d24' : 'cifar-32';
  const config = tok.baePreset(preset, { resolution: size });
  const params = tok.initBaeParameters(config, createRng(`bench-${preset}`));
  const B = batches[size] ?? 1;
  const rng = createRng('bench-images');
  const images = new CpuTensor(rng.uniformsF32(B * config.inChannels * size * size), [B, config.inChannels, size, size]);
  for (const engineName of engines) {
    let engine;
    try {
      engine = await resolveEngine({ purpose: 'inference', device: engineName });
    } catch (err) {
      console.log(`${engineName}: unavailable (${errorLine(err)})`);
      continue;
    }
    const t = await tok.BaeTokenizer.create(engine, config, params, { height: size, width: size, maxBatch: B, compile: { threads } });
    let bits;
    const enc = await timeIt(async () => {
      bits = (await t.encode(images, { mode: 'threshold' })).bits;
    });
    const dec = await timeIt(async () => {
      await t.decode(bits);
    });
    await t.dispose();
    const row = { bench: 'bae', engine: engineName, preset, size, batch: B, encodeImagesPerSec: B / enc, decodeImagesPerSec: B / dec };
    results.push(row);
    console.log(
      `${engineName.padEnd(10)} ${String(size).padStart(3)}px ${preset.padEnd(12)} batch ${String(B).padStart(2)}: ` +
        `encode ${(B / enc).toFixed(2).padStart(8)} img/s, decode ${(B / dec).toFixed(2).padStart(8)} img/s`,
    );
  }
}

if (doSearch) {
  /** @type {[tokens: number, bitsPerToken: number, label: string][]} */
  const geometries = [
    [64, 16, 'fashion-mnist-32'],
    [256, 24, 'bae-256-d24'],
  ];
  for (const [tokens, bitsPerToken, label] of geometries) {
    const rng = createRng(`bench-codes-${label}`);
    const index = new tok.HashIndex(tokens, bitsPerToken, codes);
    const chunk = 5000;
    for (let start = 0; start < codes; start += chunk) {
      const n = Math.min(chunk, codes - start);
      const b = new Uint8Array(n * tokens * bitsPerToken);
      const u = rng.uniformsF32(b.length);
      for (let i = 0; i < b.length; i++) b[i] = u[i] < 0.5 ? 1 : 0;
      index.add(packBits(new CpuTensor(b, [n, tokens, bitsPerToken])));
    }
    const qb = new Uint8Array(queries * tokens * bitsPerToken);
    const qu = rng.uniformsF32(qb.length);
    for (let i = 0; i < qb.length; i++) qb[i] = qu[i] < 0.5 ? 1 : 0;
    const packed = packBits(new CpuTensor(qb, [queries, tokens, bitsPerToken]));
    index.searchBatch({ ...packed, batch: 1, bytes: packed.bytes.subarray(0, index.bytesPerCode) }, k); // warm-up
    const t0 = performance.now();
    index.searchBatch(packed, k);
    const sec = (performance.now() - t0) / 1000;
    const row = { bench: 'hash-search', geometry: label, codes, bytesPerCode: index.bytesPerCode, k, queriesPerSec: queries / sec };
    results.push(row);
    console.log(
      `hash search ${label.padEnd(16)} ${codes} codes x ${index.bytesPerCode} B, k=${k}: ` +
        `${(queries / sec).toFixed(1)} queries/s (${((sec / queries) * 1000).toFixed(2)} ms/query)`,
    );
  }
}

console.log(JSON.stringify({ bench: 'tokenizer', results }));
