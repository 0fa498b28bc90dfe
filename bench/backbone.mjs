#!/usr/bin/env node
// BiGR backbone speed: forward tokens/s on every inference engine and masked-modelling training samples/s on
// tfjs, for a small preset and for BiGR-L shapes (N = 256 tokens), with achieved GFLOP/s compared with the
// onnxruntime matmul peak measured in the same run.
//
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/engine-onnx/tsconfig.build.json \
//     && npx tsc -p packages/engine-tfjs/tsconfig.build.json && npx tsc -p packages/backbone/tsconfig.build.json
//   node bench/backbone.mjs [--presets=BiGR-S,BiGR-L] [--batches=1,8] [--engines=onnx-cpu,tfjs-wasm]
//                           [--threads=1] [--seconds=2] [--train=true] [--train-steps=3] [--large-train-batch=1]
//                           [--train-engine=tfjs-wasm]
//
// FLOP counts are analytic "model FLOPs" (2 per multiply-add) of the matmuls: input projection, adaLN, qkv, the
// attention scores and weighted sum, wo, SwiGLU, plus the RoPE pair-rotation products this implementation
// executes (listed separately). A training step is counted as 3x the forward (forward + backward) plus the head.
// Large presets (dim >= 1024) run fewer cases on tfjs (batch 1 only) and a single training step, which is
// extrapolated; say so in reports.

// @ts-check
import { errorLine, importBuilt, importOptional, machine, measurePeak, parseArgs, peakLine, printTableHeader, tableRow } from './common.mjs';

const args = parseArgs(import.meta.url);
const presets = (args.presets ?? 'BiGR-S,BiGR-L').split(',');
const batches = (args.batches ?? '1,8').split(',').map(Number);
const engines = (args.engines ?? 'onnx-cpu,tfjs-wasm').split(',');
const threads = Number(args.threads ?? 1);
const minSeconds = Number(args.seconds ?? 2);
const doTrain = args.train !== 'false';
const trainSteps = Number(args['train-steps'] ?? 3);
const largeTrainBatch = Number(args['large-train-batch'] ?? 1);
const trainEngine = args['train-engine'] ?? 'tfjs-wasm';

const [core, onnxPkg, bb] = await importBuilt('bench/backbone.mjs', ['core', 'engine-onnx', 'backbone']);
const hasTfjs = await importOptional('engine-tfjs');
const { CpuTensor, resolveEngine, Trainer, bceWithLogits } = core;

/** Deterministic pseudo-random fill (an LCG; drawing 300M normals in JS would dominate the run). */
function fill(n, seed, scale, offset = 0) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = offset + scale * (s / 2 ** 32 - 0.5) * 3.4641; // uniform with std = scale
  }
  return a;
}

/** Non-degenerate random weights with the official names (adaLN is not zero, so every path costs what it would). */
function parameters(config) {
  const params = new Map();
  let seed = 1;
  for (const [name, shape] of bb.backboneParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape[shape.length - 1] : 1;
    let data;
    if (name.endsWith('norm.weight')) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = fill(n, seed++, name.startsWith('adaLN') ? 0.1 / Math.sqrt(fanIn) : 1 / Math.sqrt(fanIn));
    params.set(name, new CpuTensor(data, shape));
  }
  return params;
}

/** Analytic forward FLOPs per sample. */
function forwardFlops(c) {
  const S = c.clsTokenNum + c.tokens;
  const D = c.dim;
  const H = bb.configFfnHidden(c);
  const hd = D / c.heads;
  const perLayer = 2 * S * D * 3 * D + 2 * 2 * S * S * D + 2 * S * D * D + 3 * 2 * S * D * H;
  const rope = 2 * 2 * S * D * hd; // x·R for q and k
  return {
    model: 2 * c.tokens * c.bitsPerToken * D + 2 * D * 6 * D + c.layers * perLayer,
    rope: c.layers * rope,
  };
}

/** The small local head used for training throughput (linear D→K, BCE on masked rows). */
function linearHead(D, K) {
  const names = ['denoise_mlp.linear.weight', 'denoise_mlp.linear.bias'];
  return {
    lossInputs: [],
    parameterNames: names,
    sampleLossInputs: () => ({}),
    lossGraph(ops, features, targets, rowMask) {
      const logits = ops.add(ops.matMul(features, ops.param(names[0]), false, true), ops.param(names[1]));
      const perRow = ops.mean(bceWithLogits(ops, logits, targets), [1], false);
      return { loss: ops.div(ops.sum(ops.mul(perRow, rowMask), [0], false), ops.sum(rowMask, [0], false)), metrics: {} };
    },
    initParameters: () =>
      new Map([
        [names[0], new CpuTensor(fill(K * D, 99, 0.02), [K, D])],
        [names[1], new CpuTensor(new Float32Array(K), [K])],
      ]),
  };
}

function randomBits(n, seed) {
  return fill(n, seed, 1).map((v) => (v > 0 ? 1 : 0));
}

async function timeIt(fn, { minRuns = 2, seconds = minSeconds, maxRuns = 1000 } = {}) {
  await fn(); // warm-up
  const times = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < seconds * 1000 && times.length < maxRuns)) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  // minRuns ≥ 1, so the array is never empty.
  return { median: times[Math.floor(times.length / 2)] ?? NaN, best: times[0] ?? NaN, runs: times.length };
}

const peak = await measurePeak(onnxPkg, threads);
const rows = [];
const trainRows = [];

for (const presetName of presets) {
  const config = bb.presetConfig(presetName);
  const large = config.dim >= 1024;
  const t0 = performance.now();
  const params = parameters(config);
  const initSeconds = (performance.now() - t0) / 1000;
  const flops = forwardFlops(config);
  const N = config.tokens;
  const K = config.bitsPerToken;
  for (const engineName of engines) {
    let engine;
    try {
      engine = await resolveEngine({ purpose: 'inference', device: engineName });
    } catch (err) {
      rows.push({ preset: presetName, engine: engineName, failure: errorLine(err) });
      continue;
    }
    let graph;
    try {
      const c0 = performance.now();
      graph = await engine.compile(bb.backboneGraph(config), params, { threads });
      const compileSeconds = (performance.now() - c0) / 1000;
      for (const B of batches) {
        if (large && engineName.startsWith('tfjs') && B > 1) continue;
        const feeds = {
          bits: new CpuTensor(randomBits(B * N * K, 7), [B, N, K]),
          mask: new CpuTensor(randomBits(B * N, 8), [B, N]),
          labels: new CpuTensor(
            Int32Array.from({ length: B }, (_, i) => i % config.numClasses),
            [B],
          ),
        };
        const t = await timeIt(() => graph.run(feeds), large ? { minRuns: 1, seconds: 0 } : {});
        const gflops = (B * (flops.model + flops.rope)) / t.median / 1e9;
        rows.push({ preset: presetName, engine: engineName, B, tokensPerSec: (B * N) / t.median, seconds: t.median, gflops, runs: t.runs, compileSeconds });
      }
    } catch (err) {
      rows.push({ preset: presetName, engine: engineName, failure: errorLine(err) });
    } finally {
      await graph?.dispose();
    }
  }

  if (doTrain && hasTfjs) {
    const trainBatches = large ? [largeTrainBatch] : batches;
    for (const B of trainBatches) {
      let trainer;
      try {
        const engine = await resolveEngine({ purpose: 'training', device: trainEngine });
        const head = linearHead(config.dim, K);
        const all = new Map([...params, ...head.initParameters()]);
        const data = () => ({
          bits: new CpuTensor(randomBits(B * N * K, 11), [B, N, K]),
          labels: Int32Array.from({ length: B }, (_, i) => i % config.numClasses),
        });
        trainer = await Trainer.create(all, bb.backboneTrainerOptions(config, head, data, { engine, seed: 1 }));
        const steps = large ? 1 : trainSteps;
        // Time the full step (gradients on tfjs + clip + AdamW + EMA on the CPU); the first step is timed too for large
        // models, because a second one would double an already long run.
        const times = [];
        const stepCount = large ? 1 : steps + 1;
        for (let i = 0; i < stepCount; i++) {
          const s0 = performance.now();
          await trainer.run({ steps: trainer.step + 1 });
          times.push((performance.now() - s0) / 1000);
        }
        const timed = large ? times : times.slice(1);
        timed.sort((a, b) => a - b);
        const sec = timed[Math.floor(timed.length / 2)] ?? NaN;
        const trainFlops = 3 * B * (flops.model + flops.rope);
        trainRows.push({
          preset: presetName,
          engine: trainEngine,
          B,
          samplesPerSec: B / sec,
          seconds: sec,
          gflops: trainFlops / sec / 1e9,
          steps: timed.length,
          firstStepIncluded: large,
        });
      } catch (err) {
        trainRows.push({ preset: presetName, engine: trainEngine, B, failure: errorLine(err) });
      } finally {
        trainer?.dispose();
      }
    }
  }
  rows.push({
    preset: presetName,
    note:
      `init ${initSeconds.toFixed(1)} s, ${(bb.countBackboneParameters(config) / 1e6).toFixed(1)}M params, ` +
      `forward ${((flops.model + flops.rope) / 1e9).toFixed(2)} GFLOP/sample (RoPE trick ${(flops.rope / 1e9).toFixed(2)})`,
  });
}

const { cpu, cpus } = machine();
console.log(`BiGR backbone — ${cpu ?? 'unknown CPU'}, ${cpus} CPUs, Node ${process.versions.node}, threads ${threads}`);
console.log(peakLine(peak, threads));
console.log('\nForward (inference graph, eval mode)');
printTableHeader(['preset', 'engine', 'batch', 'tokens/s', 's/call', 'GFLOP/s', '% of peak', 'runs']);
const pct = (gflops) => `${((100 * gflops) / peak.gflops).toFixed(0)}%`;
for (const r of rows) {
  if (r.note !== undefined) console.log(tableRow([r.preset, r.note]));
  else if (r.failure !== undefined) console.log(tableRow([r.preset, r.engine, '—', `unavailable: ${r.failure}`]));
  else console.log(tableRow([r.preset, r.engine, r.B, r.tokensPerSec.toFixed(0), r.seconds.toFixed(3), r.gflops.toFixed(1), pct(r.gflops), r.runs]));
}
if (trainRows.length) {
  console.log('\nTraining step (masked modelling, linear BCE head, AdamW + clip + EMA on the CPU)');
  printTableHeader(['preset', 'engine', 'batch', 'samples/s', 's/step', 'GFLOP/s (3x fwd)', '% of peak', 'steps timed']);
  for (const r of trainRows) {
    if (r.failure !== undefined) console.log(tableRow([r.preset, r.engine, r.B, `failed: ${r.failure}`]));
    else {
      const steps = `${r.steps}${r.firstStepIncluded ? ' (first step, includes warm-up)' : ''}`;
      console.log(tableRow([r.preset, r.engine, r.B, r.samplesPerSec.toFixed(3), r.seconds.toFixed(2), r.gflops.toFixed(1), pct(r.gflops), steps]));
    }
  }
}
