#!/usr/bin/env node
// Matmul throughput (GFLOP/s, float32) of the inference engines on this machine.
//
//   npm run build && node bench/matmul.mjs [--seconds=1] [--engines=onnx-1,onnx-2,tfjs-wasm,tfjs-cpu] [--tfjs-dist=DIR]
//
// Each case is C = A·B with A an input [m, k] and B a parameter [k, n] (like a linear layer), measured by
// `measureMatmulPeak` of @bigr/engine-onnx (compiled through the engine's `compile`, timed end to end with `run`). Reports
// the median and best GFLOP/s (2·m·k·n FLOP per product) and the ratio of each engine's median to the
// best median of the same case in this run. tfjs rows appear when packages/engine-tfjs/dist exists.

// @ts-check
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorLine, importBuilt, machine, parseArgs, printTableHeader, tableRow } from './common.mjs';

const args = parseArgs(import.meta.url);
const minSeconds = Number(args.seconds ?? 1);
const wanted = new Set((args.engines ?? 'onnx-1,onnx-2,tfjs-wasm,tfjs-cpu').split(','));

const CASES = [
  { label: '256x512 · 512x512', m: 256, k: 512, n: 512 },
  { label: '1024x1024 · 1024x1024', m: 1024, k: 1024, n: 1024 },
];

const [core, onnxPkg] = await importBuilt('bench/matmul.mjs', ['core', 'engine-onnx'], 'bench/matmul.mjs needs built packages: run `npm run build` first.');

// One measurement for every engine: engine-onnx's measureMatmulPeak (checked result, warm-up, timed runs).
async function measure(engine, threads, { m, k, n }) {
  const r = await onnxPkg.measureMatmulPeak({ engine, threads, m, k, n, minSeconds });
  return { median: r.medianGflops, best: r.gflops, runs: r.runs };
}

/**
 * An engine to measure, or the reason it is skipped.
 * @typedef {{ label: string, threads: number, get: () => Promise<unknown> } | { label: string, threads: number, skip: string }} Candidate
 */
/** Engines to measure. @type {Candidate[]} */
const candidates = [];
if (wanted.has('onnx-1')) candidates.push({ label: 'onnxruntime (1 thread)', threads: 1, get: async () => new onnxPkg.OnnxEngine() });
if (wanted.has('onnx-2')) candidates.push({ label: 'onnxruntime (2 threads)', threads: 2, get: async () => new onnxPkg.OnnxEngine() });
// --tfjs-dist=DIR measures a tfjs engine build elsewhere (a directory holding its compiled index.js).
const tfjsDist = args['tfjs-dist'] ? new URL(`file://${args['tfjs-dist'].replace(/\/?$/, '/')}`) : new URL('../packages/engine-tfjs/dist/', import.meta.url);
const tfjsBuilt = existsSync(new URL('index.js', tfjsDist));
for (const device of ['tfjs-wasm', 'tfjs-cpu']) {
  if (!wanted.has(device)) continue;
  if (!tfjsBuilt) {
    candidates.push({ label: device, threads: 1, skip: `${fileURLToPath(tfjsDist)} not built (npm run build)` });
    continue;
  }
  candidates.push({
    label: device,
    threads: 1,
    get: async () => {
      await import(new URL('index.js', tfjsDist).href); // registers the tfjs providers
      return core.resolveEngine({ purpose: 'inference', device });
    },
  });
}

/**
 * One measured (engine, case), or why it could not be measured.
 * @typedef {{ engine: string, kase: (typeof CASES)[number], failure: string }
 *   | { engine: string, kase: (typeof CASES)[number], median: number, best: number, runs: number }} Row
 */
/** @type {Row[]} */
const rows = [];
for (const c of candidates) {
  let engine = null;
  let failure = 'skip' in c ? c.skip : null;
  if (!('skip' in c)) {
    try {
      engine = await c.get();
    } catch (err) {
      failure = errorLine(err);
    }
  }
  for (const kase of CASES) {
    if (failure) {
      rows.push({ engine: c.label, kase, failure });
      continue;
    }
    try {
      rows.push({ engine: c.label, kase, ...(await measure(engine, c.threads, kase)) });
    } catch (err) {
      rows.push({ engine: c.label, kase, failure: errorLine(err) });
    }
  }
}

const { cpu, cpus } = machine();
console.log(`matmul float32 — ${cpu ?? 'unknown CPU'}, ${cpus} CPUs, Node ${process.versions.node}, ${minSeconds}s per case`);
for (const kase of CASES) {
  const caseRows = rows.filter((r) => r.kase === kase);
  const best = Math.max(...caseRows.map((r) => ('failure' in r ? 0 : r.median)), 0);
  console.log(`\n${kase.label}  (${((2 * kase.m * kase.k * kase.n) / 1e9).toFixed(3)} GFLOP per product)`);
  printTableHeader(['engine'.padEnd(24), 'median GFLOP/s', 'best GFLOP/s', 'runs', 'ratio to best'], { aligned: true });
  for (const r of caseRows) {
    if ('failure' in r) {
      console.log(`| ${r.engine.padEnd(24)} | unavailable: ${r.failure}`);
      continue;
    }
    console.log(
      tableRow([
        r.engine.padEnd(24),
        r.median.toFixed(2).padStart(14),
        r.best.toFixed(2).padStart(12),
        String(r.runs).padStart(4),
        (r.median / best).toFixed(3).padStart(13),
      ]),
    );
  }
}
