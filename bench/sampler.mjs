#!/usr/bin/env node
// End-to-end BiGR sampling speed (entropy-ordered unmasking, docs/algorithm.md §6) with random weights: seconds per image,
// share of time in the backbone vs the transcoder, achieved GFLOP/s against onnxruntime's matmul peak measured in
// the same run, and the work saved against the released sampler's schedule.
//
//   for p in core engine-onnx engine-tfjs backbone transcoder sampler; do npx tsc -p packages/$p/tsconfig.build.json; done
//   node bench/sampler.mjs [--configs=tiny,small,L] [--engines=onnx,tfjs] [--threads=1] [--batch=8]
//                          [--l-iters=2] [--tfjs-l-iters=1] [--tfjs-l-steps=10] [--tfjs-l-batch=1] [--tfjs-l-layers=4]
//                          [--tfjs-iters=2] [--tfjs-steps=100]
//
// Configurations (B = 8 images per batch, CFG 2.5, S = 100 of T = 256 diffusion steps, K = 16):
//   tiny : dim 64, 2 layers, 4 heads, denoiser 64x2, N = 16, 10 iterations   (official torch: 0.35 s/image)
//   small: dim 256, 4 layers, 8 heads, denoiser 256x3, N = 64, 10 iterations (official torch: 3.31 s/image)
//   L    : BiGR-L shapes (dim 1024, 24 layers, 16 heads, denoiser 1024x3), N = 256, 20 iterations
//          (official torch, BiGR-L-d16, batch 1: 282 s/image)
// (official figures: the released PyTorch code measured with Debian torch 1.13 with OpenBLAS SkylakeX, 2 threads, same machine type.)
//
// When a run is limited (defaults: BiGR-L runs 2 of 20 iterations on onnxruntime; tfjs-wasm runs 2 iterations of
// 'small', and 1 iteration of BiGR-L at batch 1 with 10 diffusion steps and 4 of the 24 backbone layers, since its
// wasm heap cannot hold BiGR-L), the full-image time is EXTRAPOLATED and the output says so: backbone time per call
// x calls of the full schedule (x 24 / layers run), plus transcoder time per (row x step) x the rows x steps of the
// full schedule. Rows per iteration are the measured ones for the iterations run and B x still-masked tokens x 2 CFG
// halves afterwards (an upper bound: the Gumbel bounds prune candidates, most in early iterations). Per-call costs
// (the condition projection, per-step overheads) are amortised over fewer steps in a short run.
import { errorLine, importBuilt, importOptional, machine, measurePeak, parseArgs, peakLine } from './common.mjs';

const args = parseArgs(import.meta.url);
const configs = (args.configs ?? 'tiny,small,L').split(',');
const engines = (args.engines ?? 'onnx,tfjs').split(',');
const threads = Number(args.threads ?? 1);
const batch = Number(args.batch ?? 8);
const cfgScale = Number(args.cfg ?? 2.5);
const diffusionSteps = Number(args.steps ?? 100);

const [core, onnxPkg, bb, tc, sp] = await importBuilt('bench/sampler.mjs', ['core', 'engine-onnx', 'backbone', 'transcoder', 'sampler']);
const hasTfjs = await importOptional('engine-tfjs', engines.includes('tfjs'));
const { CpuTensor, createRng, resolveEngine, AbortError } = core;

const SIZES = {
  tiny: { dim: 64, layers: 2, heads: 4, tokens: 16, numClasses: 10, width: 64, blocks: 2, iterations: 10, official: 0.35 },
  small: { dim: 256, layers: 4, heads: 8, tokens: 64, numClasses: 1000, width: 256, blocks: 3, iterations: 10, official: 3.31 },
  L: { dim: 1024, layers: 24, heads: 16, tokens: 256, numClasses: 1000, width: 1024, blocks: 3, iterations: 20, official: 282 },
};
const K = 16;

/** How much of a configuration to run (iterations, diffusion steps, batch); the rest is extrapolated. */
function limits(name, engine) {
  const full = { iters: Infinity, steps: diffusionSteps, batch };
  if (engine === 'onnx') return name === 'L' ? { ...full, iters: Number(args['l-iters'] ?? 2) } : full;
  // tfjs-wasm is 20-50x slower than onnxruntime here: BiGR-L runs one iteration of a batch of 1 at a few steps.
  // Its wasm heap cannot hold BiGR-L's 336M parameters either, so the backbone runs --tfjs-l-layers of the 24 layers
  // (same width) and its time is scaled by 24 / layers.
  if (name === 'L') {
    return {
      iters: Number(args['tfjs-l-iters'] ?? 1),
      steps: Number(args['tfjs-l-steps'] ?? 10),
      batch: Number(args['tfjs-l-batch'] ?? 1),
      layers: Number(args['tfjs-l-layers'] ?? 4),
    };
  }
  if (name === 'small') return { ...full, iters: Number(args['tfjs-iters'] ?? 2), steps: Number(args['tfjs-steps'] ?? diffusionSteps) };
  return { ...full, iters: Number(args['tfjs-iters'] ?? Infinity), steps: Number(args['tfjs-steps'] ?? diffusionSteps) };
}

/** Random non-degenerate weights (the zero-initialised layers get values too, so nothing is trivially 0). */
function randomize(params, seed) {
  const rng = createRng(seed);
  const out = new Map();
  for (const [name, t] of params) {
    const n = t.size;
    const data = rng.normalsF32(n);
    const fanIn = t.shape.length >= 2 ? t.shape[t.shape.length - 1] : 1;
    const scale = name.endsWith('norm.weight') ? 0 : name.endsWith('.bias') ? 0.02 : t.shape.length >= 2 ? 0.5 / Math.sqrt(fanIn) : 0.1;
    for (let i = 0; i < n; i++) data[i] = (name.endsWith('norm.weight') ? 1 : 0) + data[i] * scale;
    out.set(name, new CpuTensor(data, t.shape));
  }
  return out;
}

/** Analytic FLOP of one backbone call over `seqs` sequences (matmuls and attention; elementwise ignored). */
function backboneFlops(s, seqs, layers = s.layers) {
  const D = s.dim;
  const L = s.tokens + 1;
  const H = bb.ffnHiddenSize(D);
  const perLayerPerToken = 2 * D * 3 * D + 2 * D * D + 2 * 3 * D * H + 4 * L * D;
  return seqs * (L * layers * perLayerPerToken + 2 * D * 6 * D + s.tokens * 2 * K * D);
}

/** Analytic FLOP of one transcoder call: `rows` token rows, `halves` CFG halves, `steps` diffusion steps. */
function headFlops(s, rows, halves, steps) {
  const W = s.width;
  const perRow = 2 * K * W + s.blocks * (2 * W * 3 * W + 2 * 2 * W * W) + 2 * W * 2 * W + 2 * W * K;
  return halves * rows * 2 * s.dim * W + steps * (halves * rows * perRow + 2 * 256 * W + 2 * W * W);
}

/** Rows the optimised sampler sends to the transcoder per iteration (entropy order: all still-masked tokens). */
function scheduleRows(s, batch) {
  const counts = sp.unmaskCounts(s.tokens, s.iterations);
  const before = sp.maskedBeforeIterations(s.tokens, s.iterations);
  return Array.from(before, (m, i) => (counts[i] > 0 ? batch * m : 0));
}

async function runOne(name, engineName, peak) {
  const s = SIZES[name];
  const lim = limits(name, engineName);
  const batch = lim.batch;
  const layers = lim.layers ?? s.layers;
  const engine = await resolveEngine({ purpose: 'inference', device: engineName === 'onnx' ? 'onnx-cpu' : 'tfjs-wasm' });
  const bconfig = bb.resolveBackboneConfig({ dim: s.dim, layers, heads: s.heads, bitsPerToken: K, tokens: s.tokens, numClasses: s.numClasses });
  const tconfig = tc.resolveTranscoderConfig({ bitsPerToken: K, featureDim: s.dim, width: s.width, blocks: s.blocks });
  const bparams = randomize(bb.initialiseBackbone(bconfig, createRng(`bb-${name}`)), `bbw-${name}`);
  const tparams = randomize(tc.initTranscoderParameters(tconfig, createRng(`tc-${name}`)), `tcw-${name}`);
  const compileOptions = engineName === 'onnx' ? { threads } : {};
  const featureModel = new bb.BackboneFeatureModel(engine, bconfig, bparams, compileOptions);
  const head = await tc.TranscoderSampler.create(engine, tparams, tconfig, compileOptions);

  const t = { backboneMs: 0, backboneCalls: 0, backboneFlop: 0, headMs: 0, headRowSteps: 0, headFlop: 0, iterRows: [] };
  let done = 0;
  const timedFeatures = {
    tokens: featureModel.tokens,
    bitsPerToken: featureModel.bitsPerToken,
    featureDim: featureModel.featureDim,
    nullClass: featureModel.nullClass,
    async features(bits, mask, condition, withNull) {
      const t0 = performance.now();
      const r = await featureModel.features(bits, mask, condition, withNull);
      t.backboneMs += performance.now() - t0;
      t.backboneCalls++;
      t.backboneFlop += backboneFlops(s, bits.shape[0] * (withNull ? 2 : 1), layers);
      return r;
    },
  };
  const timedHead = {
    bitsPerToken: head.bitsPerToken,
    async sampleProbabilities(cond, uncond, options) {
      const t0 = performance.now();
      const r = await head.sampleProbabilities(cond, uncond, options);
      t.headMs += performance.now() - t0;
      const halves = uncond ? 2 : 1;
      t.headRowSteps += halves * cond.shape[0] * (options.steps ?? diffusionSteps);
      t.iterRows[done] = (t.iterRows[done] ?? 0) + cond.shape[0];
      t.headFlop += headFlops(s, cond.shape[0], halves, options.steps ?? diffusionSteps);
      return r;
    },
  };
  const predictor = sp.createBigrPredictor(timedFeatures, timedHead, { steps: lim.steps });
  const condition = sp.classCondition(Array.from({ length: batch }, (_, i) => (i * 37) % s.numClasses));

  // Warm-up: compile both graphs and run them once on one token per image (not timed). A separate condition object,
  // so the predictor's feature cache cannot serve the first timed iteration.
  await predictor.predict({
    bits: new CpuTensor(new Float32Array(batch * s.tokens * K), [batch, s.tokens, K]),
    mask: new CpuTensor(new Uint8Array(batch * s.tokens).fill(1), [batch, s.tokens]),
    condition: sp.classCondition(condition.labels),
    cfgScale,
    needed: Array.from({ length: batch }, () => Int32Array.of(0)),
    rng: createRng('warm'),
  });
  Object.assign(t, { backboneMs: 0, backboneCalls: 0, backboneFlop: 0, headMs: 0, headRowSteps: 0, headFlop: 0, iterRows: [] });

  const controller = new AbortController();
  const t0 = performance.now();
  try {
    await sp.generate({
      predictor,
      condition,
      rng: createRng(`gen-${name}`),
      iterations: s.iterations,
      cfgScale,
      gumbelTemperature: 0.17,
      signal: controller.signal,
      onProgress: (e) => {
        done = e.current;
        if (done >= lim.iters) controller.abort();
      },
    });
  } catch (err) {
    if (!(err instanceof AbortError) && err?.name !== 'AbortError') throw err;
  }
  const wall = (performance.now() - t0) / 1000;
  await featureModel.dispose();
  await head.dispose();

  const complete = done >= s.iterations && lim.steps === diffusionSteps && layers === s.layers;
  const batchNote = batch === Number(args.batch ?? 8) ? '' : `, batch ${batch}`;
  // Transcoder rows per iteration: measured where the run got to, else every still-masked token (an upper bound:
  // the Gumbel bounds prune candidates, most in early iterations).
  const masked = scheduleRows(s, batch);
  const rows = masked.map((r, i) => (i < done ? (t.iterRows[i] ?? 0) : r));
  const measuredMasked = masked.slice(0, done).reduce((a, r) => a + r, 0);
  const measuredRows = rows.slice(0, done).reduce((a, r) => a + r, 0);
  const fullBackboneCalls = masked.filter((r) => r > 0).length;
  const fullRowSteps = rows.reduce((a, r) => a + 2 * r * diffusionSteps, 0);
  const backboneS = complete ? t.backboneMs / 1000 : (t.backboneMs / 1000 / t.backboneCalls) * fullBackboneCalls * (s.layers / layers);
  const headS = complete ? t.headMs / 1000 : (t.headMs / 1000 / t.headRowSteps) * fullRowSteps;
  const otherS = complete ? Math.max(0, wall - (t.backboneMs + t.headMs) / 1000) : 0;
  const totalS = backboneS + headS + otherS;
  const perImage = totalS / batch;

  // Full-schedule FLOP (ours) and the released sampler's (every token, both halves, every iteration).
  const ourFlop = fullBackboneCalls * backboneFlops(s, 2 * batch) + rows.reduce((a, r) => a + (r > 0 ? headFlops(s, r, 2, diffusionSteps) : 0), 0);
  const officialFlop = s.iterations * (backboneFlops(s, 2 * batch) + headFlops(s, batch * s.tokens, 2, diffusionSteps));
  const measuredGflops = (t.backboneFlop + t.headFlop) / ((t.backboneMs + t.headMs) / 1000) / 1e9;
  const bGflops = t.backboneFlop / (t.backboneMs / 1000) / 1e9;
  const hGflops = t.headFlop / (t.headMs / 1000) / 1e9;
  const label = `${name.padEnd(5)} ${engineName === 'onnx' ? `onnx-cpu(${threads}t)` : engine.name}`;
  const how = complete
    ? `full run: ${s.iterations} iterations x ${diffusionSteps} steps, ${wall.toFixed(1)} s wall`
    : `EXTRAPOLATED from ${done} of ${s.iterations} iterations at ${lim.steps} of ${diffusionSteps} diffusion steps${batchNote}${layers === s.layers ? '' : `, backbone ${layers} of ${s.layers} layers`} (${wall.toFixed(1)} s measured)`;
  console.log(
    `${label.padEnd(22)} ${perImage.toFixed(perImage < 10 ? 3 : 1)} s/image  [${how}]\n` +
      `${''.padEnd(22)} time: backbone ${((100 * backboneS) / totalS).toFixed(0)}%, transcoder ${((100 * headS) / totalS).toFixed(0)}%` +
      (complete ? `, sampler/other ${((100 * otherS) / totalS).toFixed(0)}%` : '') +
      `; achieved ${measuredGflops.toFixed(1)} GFLOP/s = ${((100 * measuredGflops) / peak).toFixed(0)}% of the ORT matmul peak` +
      ` (backbone ${bGflops.toFixed(1)}, transcoder ${hGflops.toFixed(1)})\n` +
      `${''.padEnd(22)} transcoder rows: ${((100 * measuredRows) / (batch * s.tokens * done)).toFixed(0)}% of all tokens, ${((100 * measuredRows) / measuredMasked).toFixed(0)}% of the still-masked ones (measured iterations)\n` +
      `${''.padEnd(22)} work: ${(ourFlop / batch / 1e9).toFixed(1)} GFLOP/image vs ${(officialFlop / batch / 1e9).toFixed(1)} for the released schedule` +
      ` (${(officialFlop / ourFlop).toFixed(2)}x less); official torch: ${s.official} s/image -> ${(s.official / perImage).toFixed(2)}x`,
  );
}

const { cpu, cpus } = machine();
console.log(`# BiGR sampler benchmark (${cpu ?? 'cpu'}, ${cpus} cores, node ${process.version}); random weights`);
console.log(`# batch ${batch}, K ${K}, CFG ${cfgScale}, ${diffusionSteps} diffusion steps, entropy order, Gumbel 0.17; timings on a shared machine are noisy`);
const mm = await measurePeak(onnxPkg, threads);
console.log(peakLine(mm, threads));
for (const engineName of engines) {
  if (engineName === 'tfjs' && !hasTfjs) {
    console.log('tfjs: skipped (build packages/engine-tfjs first)');
    continue;
  }
  for (const name of configs) {
    if (!SIZES[name]) throw new Error(`unknown config ${name}; use tiny, small or L`);
    try {
      await runOne(name, engineName, mm.gflops);
    } catch (err) {
      console.log(`${name.padEnd(5)} ${engineName.padEnd(16)} FAILED: ${errorLine(err)}`);
    }
  }
}
