#!/usr/bin/env node
// Training speed on every training engine, in one run: samples/s and s/step of the bundled model's BiGR step
// (BiGR-XS with 3 layers, D 128, 8×8 tokens × 16 bits, transcoder 128×2, batch 32: masked modelling + transcoder loss,
// AdamW, clipping, EMA), of BiGR-S (D 256, 4 layers, 16×16 tokens) at batch 8, and of the bundled B-AE (nf 16, 32 px,
// batch 16), with achieved GFLOP/s compared with the onnxruntime matmul peak measured in the same run on the same
// threads.
//
//   npm run build && node bench/train.mjs [--engines=onnx-cpu,tfjs-wasm] [--cases=xs3,s,bae] [--steps=10]
//                                         [--warmup=4] [--threads=<all cores>]
//
// FLOPs are counted, not estimated by hand: the step's gradient is built once exactly as the ONNX engine builds it
// (lossGradients: the loss on a tape, then the emitted backward pass), over a second tape that tracks static shapes
// and counts 2 FLOPs per multiply-add of every matMul, conv2d, conv2dInputGrad and conv2dWeightGrad it receives. So
// the count is of the products the train-step graph really executes, forward and backward — fewer than the usual
// "3× forward" convention, because the backward pass builds no gradient for masks, one-hot inputs or the image.
// Element-wise work, AdamW and EMA are not counted. Warm-up steps (graph compilation,
// onnxruntime's first runs) are excluded. The official PyTorch step of the same XS/3 configuration measured 0.20 s on
// this machine type (Debian torch 1.13 + OpenBLAS, 2 threads); that reference is printed, not re-measured here.

// @ts-check
import os from 'node:os';
import { errorLine, importBuilt, machine, measurePeak, parseArgs, peakLine, printTableHeader, tableRow } from './common.mjs';

const args = parseArgs(import.meta.url);
const engines = (args.engines ?? 'onnx-cpu,tfjs-wasm').split(',');
const cases = (args.cases ?? 'xs3,s,bae').split(',');
const steps = Number(args.steps ?? 10);
const warmup = Number(args.warmup ?? 4);
const threads = Number(args.threads ?? os.availableParallelism());
process.env.BIGR_THREADS = String(threads);
const PYTORCH_XS3_STEP_SECONDS = 0.2;

const [core, onnxPkg, bb, tc, tok] = await importBuilt('bench/train.mjs', ['core', 'engine-onnx', 'backbone', 'transcoder', 'tokenizer']);
await import('@bigr/engine-tfjs').catch(() => undefined);
const { CpuTensor, createRng, lossGradients, resolveEngine } = core;
/**
 * core's TapeOps(inner ops, tape options), typed here because the built packages are imported dynamically (untyped).
 * @type {new (inner: unknown, options: unknown) => Record<string, any>}
 */
const TapeOps = core.TapeOps;

const size = (shape) => shape.reduce((p, d) => p * d, 1);

/** A shape-tracking tape that counts the multiply-adds of the products it receives (2 FLOPs each). */
class FlopTape extends TapeOps {
  flops = 0;
  matMul(a, b, tA = false, tB = false) {
    const y = super.matMul(a, b, tA, tB);
    this.flops += 2 * size(y.shape) * a.shape[a.shape.length - (tA ? 2 : 1)];
    return y;
  }
  conv2d(x, w, bias, options) {
    const y = super.conv2d(x, w, bias, options);
    this.flops += 2 * size(y.shape) * size(w.shape.slice(1));
    return y;
  }
  conv2dInputGrad(dy, w, shapes, options) {
    this.flops += 2 * size(dy.shape) * size(shapes.weight.slice(1));
    return super.conv2dInputGrad(dy, w, shapes, options);
  }
  conv2dWeightGrad(x, dy, shapes, options) {
    this.flops += 2 * size(dy.shape) * size(shapes.weight.slice(1));
    return super.conv2dWeightGrad(x, dy, shapes, options);
  }
}

function signatures(params) {
  return new Map([...params].map(([k, t]) => [k, { shape: t.shape, dtype: t.dtype === 'int32' ? 'int32' : 'float32' }]));
}

/** FLOPs of one training step's forward and backward products, as the ONNX engine would emit them for `loss`. */
function stepFlops(params, loss) {
  const sig = signatures(params);
  const counter = new FlopTape(new onnxPkg.SignatureOps(params), { parameters: sig, rng: createRng(0) });
  lossGradients(counter, sig, loss, { rng: createRng(1) });
  return counter.flops;
}

function bigrCase(name, preset, overrides, transcoderSize, batch) {
  const config = bb.presetConfig(preset, { residDropout: 0, ffnDropout: 0, numClasses: 10, ...overrides });
  const transcoder = tc.resolveTranscoderConfig({ bitsPerToken: config.bitsPerToken, featureDim: config.dim, ...transcoderSize });
  const head = new tc.TranscoderLoss(transcoder);
  const rng = createRng(`bench-train/${name}`);
  const params = bb.initialiseBackbone(config, rng.fork('backbone'));
  for (const [k, v] of head.initParameters(rng.fork('head'))) params.set(k, v);
  const { tokens: N, bitsPerToken: K } = config;
  const data = (_step, r) => ({
    bits: new CpuTensor(
      Uint8Array.from(r.uniformsF32(batch * N * K), (u) => (u < 0.5 ? 1 : 0)),
      [batch, N, K],
    ),
    labels: Int32Array.from({ length: batch }, () => r.int(10)),
  });
  const sample = bb.prepareMaskedModellingBatch(config, head, data(0, createRng(1)), createRng(2));
  const flops = stepFlops(params, bb.maskedModellingLoss(config, head)(sample));
  return {
    name,
    describe: `${preset} D${config.dim} L${config.layers} N${N} K${K}, transcoder ${transcoder.width}×${transcoder.blocks}, batch ${batch}`,
    batch,
    params: [...params.values()].reduce((s, t) => s + t.size, 0),
    stepFlops: flops,
    async run(engine, total, onStep) {
      const trainer = await bb.createBackboneTrainer(config, head, params, data, { engine, seed: 0, learningRate: 1e-4, emaDecay: 0.999 });
      try {
        await trainer.run({ steps: total, onProgress: onStep });
      } finally {
        trainer.dispose();
      }
    },
  };
}

function baeCase(batch) {
  const config = tok.validateConfig({ ...tok.baePreset('fashion-mnist-32'), nf: 16, normGroups: 8 });
  const images = new CpuTensor(createRng('bae-images').uniformsF32(512 * 32 * 32), [512, 1, 32, 32]);
  const params = tok.initBaeParameters(config, createRng('bae-init'));
  const enc = tok.encoderGraph(config, 32, 32);
  const dec = tok.decoderGraph(config, 32, 32);
  // The products of trainBae's step: encoder, straight-through bits (element-wise), decoder, L1 (element-wise).
  const flops = stepFlops(params, (ops) => {
    const image = ops.constant(new Float32Array(batch * 32 * 32), [batch, 1, 32, 32]);
    const probs = enc.build(ops, { image }).probabilities;
    const grid = tok.latentGrid(config, 32, 32);
    const recon = dec.build(ops, { bits: ops.reshape(probs, [batch, grid[0] * grid[1], config.codeDim]) }).image;
    return { loss: ops.mean(ops.abs(ops.sub(recon, image)), [0, 1, 2, 3], false) };
  });
  return {
    name: 'bae',
    describe: `B-AE nf ${config.nf}, ch ${config.chMult.join('/')}, 32×32 → 8×8×${config.codeDim} bits, batch ${batch} (L1 + code regulariser)`,
    batch,
    params: [...params.values()].reduce((s, t) => s + t.size, 0),
    stepFlops: flops,
    async run(engine, total, onStep) {
      await tok.trainBae(config, images, { engine, steps: total, batchSize: batch, seed: 0, learningRate: 1e-3, emaDecay: null, onProgress: onStep });
    },
  };
}

const CASES = {
  xs3: () => bigrCase('xs3', 'BiGR-XS', { layers: 3 }, { width: 128, blocks: 2 }, 32),
  s: () => bigrCase('s', 'BiGR-S', {}, { width: 256, blocks: 2 }, 8),
  bae: () => baeCase(16),
  // BiGR-L (336M parameters, 16×16 tokens × 24 bits, transcoder 1024×3) at batch 2: not in the default set (minutes
  // per step here); run with --cases=l --steps=2 --warmup=1 --engines=onnx-cpu.
  l: () => bigrCase('l', 'BiGR-L', {}, { width: 1024, blocks: 3 }, 2),
};

const m = machine();
console.log(
  `# bench/train.mjs — ${m.cpu ?? 'unknown CPU'}, ${m.cpus} CPUs, ${threads} onnxruntime threads, ${steps} timed steps after ${warmup} warm-up steps`,
);
const peak = await measurePeak(onnxPkg, threads);
console.log(peakLine(peak, threads));
console.log();
const rows = [];
for (const key of cases) {
  const c = CASES[key]();
  console.log(
    `- ${key}: ${c.describe}; ${(c.params / 1e6).toFixed(2)}M parameters; ` +
      `${(c.stepFlops / 1e9).toFixed(2)} GFLOP per step (forward + backward products as executed)`,
  );
  for (const name of engines) {
    let engine;
    try {
      engine = await resolveEngine({ purpose: 'training', device: name });
    } catch (err) {
      rows.push([key, name, 'unavailable', errorLine(err), '', '', '', '']);
      continue;
    }
    const stamps = [];
    try {
      await c.run(engine, warmup + steps, () => stamps.push(performance.now()));
    } catch (err) {
      rows.push([key, name, 'failed', errorLine(err), '', '', '', '']);
      continue;
    }
    const timed = stamps.slice(warmup - 1);
    const s = (timed[timed.length - 1] - timed[0]) / 1000 / (timed.length - 1);
    const gflops = c.stepFlops / s / 1e9;
    rows.push([key, name, s.toFixed(3), (c.batch / s).toFixed(1), gflops.toFixed(1), `${((100 * gflops) / peak.gflops).toFixed(0)} %`, '', '']);
    console.log(
      `  ${key} on ${name}: ${s.toFixed(3)} s/step; peak RSS of this process so far ${(process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2)} GiB`,
    );
  }
}
console.log();
printTableHeader(['case', 'engine', 's/step', 'samples/s', 'GFLOP/s', 'of matmul peak', 'vs tfjs-wasm', 'vs PyTorch (0.20 s, XS/3)']);
for (const r of rows) {
  const ref = rows.find((x) => x[0] === r[0] && x[1] === 'tfjs-wasm');
  if (ref && r !== ref && Number.isFinite(Number(r[2])) && Number.isFinite(Number(ref[2]))) r[6] = `${(Number(ref[2]) / Number(r[2])).toFixed(2)}×`;
  if (r[0] === 'xs3' && Number.isFinite(Number(r[2]))) r[7] = `${(PYTORCH_XS3_STEP_SECONDS / Number(r[2])).toFixed(2)}×`;
  console.log(tableRow(r));
}
