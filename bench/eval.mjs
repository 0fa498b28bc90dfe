#!/usr/bin/env node
// Throughput of the @bigr/eval metrics on this machine (plain JS, float64, one thread).
//
//   npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/eval/tsconfig.build.json
//   node bench/eval.mjs [--n=10000] [--d=2048] [--batch=256] [--pr-n=2000] [--fid=1] [--kid=1]
//
// Measures, in one run:
//   * a plain JS float64 matmul (naive i-k-j triple loop, 512³) and the package's NT kernel (gemmNT) in GFLOP/s;
//   * FID statistics: FeatureStats.add over n×d float32 features in batches → features/s (flops counted as
//     n·d² multiply-adds ×2 / 2 for the symmetric scatter, plus the d² merge per batch);
//   * the Fréchet distance itself at d (eigendecomposition with vectors, two d³ products, eigenvalues of M);
//   * precision/recall (k = 3) on pr-n real × pr-n generated d-dim features, extrapolated by flop count to
//     10k×10k and to ADM's 10k real × 50k generated (the cost is quadratic in N: 2·d·(R²/2 + G²/2 + R·G));
//   * optionally KID (one subset of 1000 at d).
// Ratios are given against the plain JS matmul measured here and against onnxruntime's float32 matmul peak
// (~80 GFLOP/s on this box, measured separately by bench/matmul.mjs). All rates use this process's CPU time
// (user + system), so they stay meaningful when other jobs share the 2 cores; wall times are printed too.

// @ts-check
import { importBuilt, machine, parseArgs } from './common.mjs';

const args = parseArgs(import.meta.url);
const N = Number(args.n ?? 10000);
const D = Number(args.d ?? 2048);
const BATCH = Number(args.batch ?? 256);
const PR_N = Number(args['pr-n'] ?? 2000);
const RUN_FID = args.fid !== '0';
const RUN_KID = args.kid === '1' || args.kid === 'true';
const ONNX_PEAK = 80;

const [, ev] = await importBuilt(
  'bench/eval.mjs',
  ['core', 'eval'],
  'bench/eval.mjs needs built packages: npx tsc -p packages/core/tsconfig.build.json && npx tsc -p packages/eval/tsconfig.build.json',
);

/** Deterministic float32 features, ReLU-like (pool3 is post-ReLU, non-negative) with correlated columns. */
function features(rows, d, seed) {
  const out = new Float32Array(rows * d);
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < rows; i++) {
    const shared = next();
    for (let j = 0; j < d; j++) out[i * d + j] = Math.max(0, next() + 0.5 * shared - 0.6);
  }
  return out;
}

const secs = (t0) => (performance.now() - t0) / 1000;
/** CPU seconds (user + system) of this process since `c0` — robust when other jobs share the 2 cores. */
const cpuSecs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const fmt = (x, digits = 2) => x.toFixed(digits);
const rows = [];
const report = (name, value, unit, extra = '') => {
  rows.push([name, value, unit, extra]);
  console.log(`${name.padEnd(46)} ${String(value).padStart(12)} ${unit.padEnd(12)} ${extra}`);
};

const { cpu, cpus } = machine();
console.log(`# @bigr/eval bench — node ${process.version}, ${cpu ?? 'cpu'} ×${cpus}, n=${N}, d=${D}, batch=${BATCH}, pr-n=${PR_N}`);

// 1. plain JS float64 matmul reference (naive i-k-j) and the package kernel
function naiveMatmul(a, b, m, k, n, c) {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      const bo = p * n;
      const co = i * n;
      for (let j = 0; j < n; j++) c[co + j] += x * b[bo + j];
    }
  }
}
function gflopsOf(fn, flops, minSeconds = 1) {
  fn();
  let runs = 0;
  const c0 = process.cpuUsage();
  do {
    fn();
    runs++;
  } while (cpuSecs(c0) < minSeconds);
  return (flops * runs) / cpuSecs(c0) / 1e9;
}
function matmulGflops() {
  const m = 512;
  const a = Float64Array.from(features(m, m, 1));
  const b = Float64Array.from(features(m, m, 2));
  const c = new Float64Array(m * m);
  return { plain: gflopsOf(() => naiveMatmul(a, b, m, m, m, c), 2 * m ** 3), kernel: gflopsOf(() => ev.gemmNT(a, b, m, m, m, c), 2 * m ** 3) };
}
const { plain: plainGflops, kernel: kernelGflops } = matmulGflops();
report('plain JS f64 matmul (naive ikj, 512³)', fmt(plainGflops), 'GFLOP/s');
report('gemmNT f64 kernel (512³)', fmt(kernelGflops), 'GFLOP/s', `${fmt(kernelGflops / plainGflops)}× plain`);

// 2. FID statistics throughput
let genStats;
{
  const stats = new ev.FeatureStats(D);
  let done = 0;
  let timed = 0;
  let cpu = 0;
  while (done < N) {
    const b = Math.min(BATCH, N - done);
    const x = features(b, D, 100 + done); // generation excluded from timing
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    stats.add({ data: x, rows: b, dim: D });
    timed += secs(t0);
    cpu += cpuSecs(c0);
    done += b;
  }
  genStats = stats;
  const flops = N * D * D; // multiply-adds of the symmetric scatter (upper triangle) ×2
  const gf = flops / cpu / 1e9;
  report(
    `FID stats (FeatureStats.add), ${N}×${D}`,
    fmt(N / cpu, 0),
    'features/s',
    `${fmt(cpu, 1)} s CPU (${fmt(timed, 1)} s wall), ${fmt(gf)} GFLOP/s = ${fmt(gf / plainGflops)}× plain matmul, ${fmt(gf / ONNX_PEAK, 3)}× onnx peak`,
  );
}

// 3. Fréchet distance at d
if (RUN_FID) {
  const other = new ev.FeatureStats(D);
  for (let done = 0; done < Math.min(N, 4 * D); done += BATCH) {
    const b = Math.min(BATCH, Math.min(N, 4 * D) - done);
    other.add({ data: features(b, D, 9000 + done), rows: b, dim: D });
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = ev.frechetDistance(genStats.toGaussian(), other.toGaussian());
  const t = cpuSecs(c0);
  report(
    `Fréchet distance, d=${D}`,
    fmt(t, 1),
    's CPU',
    `${fmt(secs(t0), 1)} s wall; FID=${r.value.toFixed(6)} (≈16·d³ = ${fmt((16 * D ** 3) / 1e9, 0)} GFLOP → ${fmt((16 * D ** 3) / t / 1e9)} GFLOP/s)`,
  );
  const eye = new Float64Array(D * D);
  for (let i = 0; i < D; i++) eye[i * D + i] = 1;
  const ce = process.cpuUsage();
  const known = ev.frechetDistance({ mu: new Float64Array(D), sigma: eye }, { mu: new Float64Array(D).fill(1), sigma: eye });
  report(`pytorch-fid known answer (μ 0 vs 1, Σ = I, d=${D})`, known.value, '', `expected ${D}; ${fmt(cpuSecs(ce), 1)} s CPU`);
  const c1 = process.cpuUsage();
  const self = ev.frechetDistance(genStats.toGaussian(), genStats.toGaussian());
  report('Fréchet distance of a set with itself', self.value.toExponential(2), '', `${fmt(cpuSecs(c1), 1)} s CPU; tr Σ = ${self.traceSigma1.toFixed(3)}`);
}

// 4. precision/recall
{
  const real = features(PR_N, D, 777);
  const gen = features(PR_N, D, 778).map((v, i) => v * (1 + (0.1 * ((i % 7) - 3)) / 3));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await ev.precisionRecall({ data: real, rows: PR_N, dim: D }, { data: gen, rows: PR_N, dim: D }, { tileSize: 1024 });
  const wall = secs(t0);
  const t = cpuSecs(c0);
  const flopsOf = (R, G) => 2 * D * ((R * R) / 2 + (G * G) / 2 + R * G);
  const gf = flopsOf(PR_N, PR_N) / t / 1e9;
  report(
    `precision/recall k=3, ${PR_N}×${PR_N}×${D}`,
    fmt(t, 1),
    's CPU',
    `${fmt(wall, 1)} s wall; P=${r.precision.toFixed(4)} R=${r.recall.toFixed(4)}, ${fmt(gf)} GFLOP/s = ${fmt(gf / plainGflops)}× plain matmul, ` +
      `${fmt((2 * PR_N) / t, 0)} features/s`,
  );
  const t10 = flopsOf(10000, 10000) / (gf * 1e9);
  const tAdm = flopsOf(10000, 50000) / (gf * 1e9);
  report(
    '  extrapolated 10k real × 10k generated',
    fmt(t10 / 60, 1),
    'CPU-min',
    `(${fmt(20000 / t10, 0)} features/s; at the onnx peak: ${fmt(flopsOf(10000, 10000) / ONNX_PEAK / 1e9 / 60, 2)} min)`,
  );
  report(
    '  extrapolated ADM 10k real × 50k generated',
    fmt(tAdm / 60, 1),
    'CPU-min',
    `(at the onnx peak: ${fmt(flopsOf(10000, 50000) / ONNX_PEAK / 1e9 / 60, 1)} min)`,
  );
}

// 5. KID (optional)
if (RUN_KID) {
  const m = 1000;
  const x = features(m, D, 31);
  const y = features(m, D, 32);
  let s = 1;
  const rng = {
    int: (n) => {
      s = (Math.imul(1664525, s) + 1013904223) >>> 0;
      return Math.floor((s / 4294967296) * n);
    },
  };
  const c0 = process.cpuUsage();
  const r = await ev.kernelInceptionDistance({ data: x, rows: m, dim: D }, { data: y, rows: m, dim: D }, { rng, numSubsets: 1, subsetSize: m });
  const t = cpuSecs(c0);
  report(`KID, one subset of ${m} at d=${D}`, fmt(t, 2), 's CPU', `KID=${r.mean.toExponential(3)}; 100 subsets ≈ ${fmt((100 * t) / 60, 1)} min`);
}
