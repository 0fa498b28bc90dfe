#!/usr/bin/env node
// Binary transcoder sampling speed: the BiGR-L head (denoiser width 1024, 3 blocks, K = 16, D = 1024), the full
// reverse process with CFG (both halves batched in one step call) on onnxruntime and tfjs-wasm.
//
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/engine-onnx/tsconfig.build.json \
//     && npx tsc -p packages/engine-tfjs/tsconfig.build.json && npx tsc -p packages/transcoder/tsconfig.build.json
//   node bench/transcoder.mjs [--tokens=256] [--steps=100] [--cfg=2.5] [--threads=1] [--tfjs-steps=3]
//                             [--preset=BiGR-L] [--bits=16] [--engines=onnx,tfjs-wasm] [--baseline=true]
//
// Reports, per engine: denoiser step calls/s (each call = all tokens x both CFG halves), denoised rows/s, sampled
// tokens/s (tokens of one sampling call / its wall time), achieved GFLOP/s (analytic FLOP count of the condition
// graph once + the step graph per step) and that as a fraction of onnxruntime's 1024^3 matmul peak measured in the
// same run. tfjs-wasm runs only a few steps (it is ~5-10x slower) and its rates are extrapolated per step.
// With --baseline, also times the naive schedule (two whole-denoiser calls per step, c_embedder recomputed).

// @ts-check
import { importBuilt, importOptional, machine, measurePeak, parseArgs, peakLine } from './common.mjs';

const args = parseArgs(import.meta.url);
const tokens = Number(args.tokens ?? 256);
const steps = Number(args.steps ?? 100);
const cfgScale = Number(args.cfg ?? 2.5);
const threads = Number(args.threads ?? 1);
const tfjsSteps = Number(args['tfjs-steps'] ?? 3);
const presetName = args.preset ?? 'BiGR-L';
const bits = Number(args.bits ?? 16);
const engines = new Set((args.engines ?? 'onnx,tfjs-wasm').split(','));
const baseline = args.baseline !== 'false';

const [core, onnxPkg, tc] = await importBuilt('bench/transcoder.mjs', ['core', 'engine-onnx', 'transcoder']);
const hasTfjs = await importOptional('engine-tfjs', engines.has('tfjs-wasm'));
const { CpuTensor, createRng, resolveEngine } = core;

const config = tc.transcoderPreset(presetName, { bitsPerToken: bits });
const { featureDim: D, width: W, blocks: NB, bitsPerToken: K } = config;

/** Random, non-degenerate parameters (the zero-initialised layers get small values too). */
function parameters() {
  const rng = createRng('bench-transcoder');
  const params = new Map();
  for (const [name, shape] of tc.denoiserParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.normalsF32(n);
    const scale = name.endsWith('.bias') ? 0.02 : 0.5 / Math.sqrt(shape[1]);
    for (let i = 0; i < n; i++) data[i] *= scale;
    params.set(name, new CpuTensor(data, shape));
  }
  return params;
}

/** FLOP of one step-graph call over `rows` rows (matmuls + adds; elementwise ops ignored), and of c_embedder per row. */
function stepFlops(rows) {
  const perRow = 2 * K * W + NB * (2 * W * 3 * W + 2 * 2 * W * W) + 2 * W * 2 * W + 2 * W * K;
  const timestepMlp = 2 * 256 * W + 2 * W * W; // one row: τ is shared by all rows of a step
  return rows * perRow + timestepMlp;
}
const conditionFlopsPerRow = 2 * D * W;

const G = cfgScale !== 1 ? 2 : 1;
const rows = G * tokens;
const rng = createRng('bench-features');
const cond = new CpuTensor(rng.normalsF32(tokens * D), [tokens, D]);
const uncond = G === 2 ? new CpuTensor(rng.normalsF32(tokens * D), [tokens, D]) : null;
const params = parameters();

const { cpu, cpus } = machine();
console.log(`# transcoder sampling benchmark (${cpu ?? 'cpu'}, ${cpus} cores, node ${process.version})`);
console.log(
  `# ${presetName}: denoiser ${W}x${NB}, K=${K}, D=${D}; ${tokens} tokens, CFG ${cfgScale} -> ${rows} rows per step call; ` +
    `${(stepFlops(rows) / 1e9).toFixed(2)} GFLOP per step; params ${(tc.denoiserParameterCount(config) / 1e6).toFixed(2)}M`,
);

const peak = await measurePeak(onnxPkg, threads);
console.log(peakLine(peak, threads, ' GFLOP/s'));

async function timeSampler(engine, nSteps, label) {
  const sampler = await tc.TranscoderSampler.create(engine, params, config, { threads });
  try {
    await sampler.sample(cond, uncond, { cfgScale, steps: Math.min(2, nSteps), rng: createRng(1) }); // warm-up
    const t0 = performance.now();
    const r = await sampler.sample(cond, uncond, { cfgScale, steps: nSteps, rng: createRng(2) });
    const seconds = (performance.now() - t0) / 1000;
    const flop = nSteps * stepFlops(rows) + rows * conditionFlopsPerRow;
    const gflops = flop / seconds / 1e9;
    const perStep = seconds / nSteps;
    let ones = 0;
    for (const b of r.bits.data) ones += b;
    console.log(
      `${label.padEnd(22)} ${nSteps} steps in ${seconds.toFixed(2)} s: ${(1 / perStep).toFixed(2)} step calls/s, ` +
        `${(rows / perStep / 1e3).toFixed(1)}k denoised rows/s, ` +
        `${(tokens / seconds).toFixed(1)} sampled tokens/s (${(tokens / (perStep * steps)).toFixed(1)} at ${steps} steps), ` +
        `${gflops.toFixed(1)} GFLOP/s = ${((100 * gflops) / peak.gflops).toFixed(0)}% of ORT matmul peak` +
        ` [mean bit ${(ones / r.bits.size).toFixed(3)}]`,
    );
    return perStep;
  } finally {
    await sampler.dispose();
  }
}

/**
 * Interleaved comparison of one reverse step's engine work: the split schedule (one step-graph call over both CFG
 * halves, c_emb precomputed, τ on one row) against the naive one (one whole-denoiser call per CFG half, c_embedder and
 * the timestep MLP on every row). Medians over `reps` alternating runs, so machine load affects both alike.
 */
async function compareSchedules(engine, reps) {
  const condG = await engine.compile(tc.conditionGraph(config), params, { threads });
  const stepG = await engine.compile(tc.stepGraph(config), params, { threads });
  const whole = await engine.compile(tc.denoiserGraph(config), params, { threads });
  try {
    const both = new Float32Array(rows * D);
    both.set(cond.data, 0);
    if (uncond) both.set(uncond.data, tokens * D);
    const cEmb = (await condG.run({ features: new CpuTensor(both, [rows, D]) })).c_emb;
    const xs = new CpuTensor(new Float32Array(rows * K), [rows, K]);
    const x = new CpuTensor(new Float32Array(tokens * K), [tokens, K]);
    const tau1 = new CpuTensor(Float32Array.of(100), [1]);
    const tauR = new CpuTensor(new Float32Array(tokens).fill(100), [tokens]);
    const split = async () => stepG.run({ x_t: xs, tau: tau1, c_emb: cEmb });
    const naive = async () => {
      await whole.run({ x_t: x, tau: tauR, features: cond });
      if (uncond) await whole.run({ x_t: x, tau: tauR, features: uncond });
    };
    await split();
    await naive();
    const a = [];
    const b = [];
    for (let i = 0; i < reps; i++) {
      let t0 = performance.now();
      await split();
      a.push(performance.now() - t0);
      t0 = performance.now();
      await naive();
      b.push(performance.now() - t0);
    }
    const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
    return { split: median(a), naive: median(b) };
  } finally {
    await condG.dispose();
    await stepG.dispose();
    await whole.dispose();
  }
}

if (engines.has('onnx')) {
  const onnx = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
  await timeSampler(onnx, steps, `onnx-cpu (${threads}t)`);
  if (baseline) {
    const { split, naive } = await compareSchedules(onnx, 8);
    const naiveFlop = G * (tokens * (conditionFlopsPerRow + 2 * 256 * W + 2 * W * W) + stepFlops(tokens) - (2 * 256 * W + 2 * W * W));
    console.log(
      `  per step, medians of 8 interleaved runs: split condition/step graphs + batched CFG ${split.toFixed(0)} ms ` +
        `(${(stepFlops(rows) / 1e9).toFixed(2)} GFLOP) vs naive 2 whole-denoiser calls ${naive.toFixed(0)} ms ` +
        `(${(naiveFlop / 1e9).toFixed(2)} GFLOP): ${(naive / split).toFixed(2)}x`,
    );
  }
}

if (engines.has('tfjs-wasm')) {
  if (!hasTfjs) console.log('tfjs-wasm: skipped (build packages/engine-tfjs first)');
  else {
    const tfjs = await resolveEngine({ purpose: 'inference', device: 'tfjs-wasm' });
    const plain = await timeTfjsMatmul(tfjs, false);
    const transposed = await timeTfjsMatmul(tfjs, true);
    console.log(
      `tfjs-wasm matmul (1024^3): ${plain.toFixed(1)} GFLOP/s = ${((100 * plain) / peak.gflops).toFixed(0)}% of the ORT peak; ` +
        `with transposeB (how linear layers call it): ${transposed.toFixed(1)} GFLOP/s`,
    );
    await timeSampler(tfjs, tfjsSteps, 'tfjs-wasm');
    await timeSampler(transposeFirst(tfjs), tfjsSteps, 'tfjs-wasm (W^T first)');
  }
}

/**
 * Diagnostic only: the same engine, but every `matMul(a, W, false, true)` is rewritten as `matMul(a, transpose(W))`,
 * to show what the tfjs-wasm transposeB slowdown costs the sampler.
 */
function transposeFirst(engine) {
  return {
    name: `${engine.name}+transpose`,
    canTrain: false,
    compile(def, p, o) {
      return engine.compile(
        {
          ...def,
          build(ops, inputs) {
            const matMul = (a, b, ta = false, tb = false) => (tb && !ta ? ops.matMul(a, ops.transpose(b, [1, 0])) : ops.matMul(a, b, ta, tb));
            const proxy = new Proxy(ops, {
              get(target, prop) {
                if (prop === 'matMul') return matMul;
                const v = target[prop];
                return typeof v === 'function' ? v.bind(target) : v;
              },
            });
            return def.build(proxy, inputs);
          },
        },
        p,
        o,
      );
    },
  };
}

async function timeTfjsMatmul(engine, transposeB) {
  const n = 1024;
  const def = {
    name: 'bench_matmul',
    inputs: [{ name: 'a', dtype: 'float32', shape: [n, n] }],
    outputs: ['c'],
    build(ops, inputs) {
      return { c: ops.matMul(inputs.a, ops.param('b'), false, transposeB) };
    },
  };
  const r = createRng('mm');
  const g = await engine.compile(def, new Map([['b', new CpuTensor(r.normalsF32(n * n), [n, n])]]));
  try {
    const feeds = { a: new CpuTensor(r.normalsF32(n * n), [n, n]) };
    await g.run(feeds);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await g.run(feeds);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return (2 * n ** 3) / best / 1e9;
  } finally {
    await g.dispose();
  }
}
