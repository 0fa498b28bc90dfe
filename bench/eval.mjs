#!/usr/bin/env node
// Throughput of the @bigr/eval metrics on this machine, on both of their product paths, checked against each other:
// the plain JavaScript float64 kernels (one thread) and onnxruntime's float64 Gemm (createFloat64GemmNT of
// @bigr/engine-onnx, passed as `gemm`; what `bigr eval` uses, on every core).
//
//   npx nx run-many -t build
//   node bench/eval.mjs [--n=10000] [--d=2048] [--batch=256] [--pr-n=2000] [--kid-m=1000] [--kid-subsets=1]
//                       [--threads=<cores>] [--fid=0] [--kid=0]
//
// Measures, in one run:
//   * onnxruntime's float32 matmul peak (2048³) on 1 thread and on --threads threads (every core by default): the
//     reference of every "% of peak" below (the plain JS path against the 1-thread peak, the onnxruntime path against
//     the --threads peak);
//   * a plain JS float64 matmul (naive i-k-j, 512³), the package's NT kernel (gemmNT, 512³) and the onnxruntime
//     float64 Gemm (1024³, --threads threads) in GFLOP/s;
//   * FID statistics: FeatureStats over n×d float32 features in batches of --batch (computeMetrics streams batches;
//     --batch=<n> is the CLI's single batch): `add` (JS) against `addWith(batch, gemm)`; the two statistics must
//     agree (max |Δμ|, |ΔΣ| ≤ 1e-10, the featureStats tests' tolerance);
//   * the Fréchet distance at d (eigendecomposition, two d³ products, eigenvalues of M). It takes no `gemm` (its
//     products run in JS in production too), so it is timed once; it is evaluated on both paths' statistics against
//     one reference, and the two FIDs must agree to 1e-9·max(1, FID) (1e-8 when n ≤ d), the tolerance of
//     engineGemm.test.ts and docs/evaluation.md §6.2; then the pytorch-fid known answer (μ 0 vs 1, Σ = I → d) and the
//     distance of a set with itself (≈ 0);
//   * precision/recall (k = 3, tiles of 1024) on pr-n real × pr-n generated d-dim features, both paths, which must
//     give exactly the same precision and recall (as engineGemm.test.ts asks); extrapolated by flop count to
//     10k×10k and to ADM's 10k real × 50k generated (the cost is quadratic in N: 2·d·(R²/2 + G²/2 + R·G));
//   * KID (kid-subsets subsets of kid-m rows at d), both paths, each subset's MMD² agreeing to
//     1e-12·max(1e-3, |v|) + 1e-15 (engineGemm.test.ts).
// All times are wall times of this process (generating the features is not timed); CPU seconds (user + system, all
// threads) are printed beside them, since other jobs sharing the cores inflate wall times. GFLOP/s count the flops
// each path executes: the JS path computes symmetric products (the scatter, KID's Gram matrices) as upper
// triangles, onnxruntime's Gemm computes the full square, twice the flops. The onnxruntime gemm gets one small
// warm-up product before the clock starts. A disagreement beyond a tolerance is printed as FAILED and the script
// exits with status 1 after the remaining measurements.

// @ts-check
import os from 'node:os';
import { importBuilt, machine, measurePeak, parseArgs, peakLine } from './common.mjs';

const args = parseArgs(import.meta.url);
const N = Number(args.n ?? 10000);
const D = Number(args.d ?? 2048);
const BATCH = Number(args.batch ?? 256);
const PR_N = Number(args['pr-n'] ?? 2000);
const KID_M = Number(args['kid-m'] ?? 1000);
const KID_SUBSETS = Number(args['kid-subsets'] ?? 1);
const THREADS = Number(args.threads ?? os.availableParallelism());
const RUN_FID = args.fid !== '0' && args.fid !== 'false';
const RUN_KID = args.kid !== '0' && args.kid !== 'false';

const [, ev, onnxPkg] = await importBuilt(
  'bench/eval.mjs',
  ['core', 'eval', 'engine-onnx'],
  'bench/eval.mjs needs the built packages: run npx nx run-many -t build first.',
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

/** Wall and CPU (user + system, all threads) seconds of `fn`. */
async function timed(fn) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const fmt = (x, digits = 2) => x.toFixed(digits);
const report = (name, value, unit, extra = '') => console.log(`${name.padEnd(64)} ${String(value).padStart(10)} ${unit.padEnd(8)} ${extra}`);
/** Largest |a[i] − b[i]|. */
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const relDiff = (a, b) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE);

const failures = [];
/** Prints an agreement line and records a failure when `ok` is false. */
function check(name, ok, detail) {
  console.log(`  ${name}: ${detail} ${ok ? 'ok' : 'FAILED'}`);
  if (!ok) failures.push(`${name}: ${detail}`);
}

const { cpu, cpus } = machine();
console.log(
  `# @bigr/eval bench — node ${process.version}, ${cpu ?? 'cpu'} ×${cpus}, n=${N}, d=${D}, batch=${BATCH}, pr-n=${PR_N}, ` +
    `kid ${KID_SUBSETS}×${KID_M}, onnxruntime gemm threads=${THREADS}; load average ${os.loadavg()[0]?.toFixed(2)}`,
);

// 1. the onnxruntime float32 matmul peak, 1 thread and --threads threads, in this run
const peak1 = await measurePeak(onnxPkg, 1);
console.log(peakLine(peak1, 1, ' GFLOP/s'));
const peakAll = THREADS === 1 ? peak1 : await measurePeak(onnxPkg, THREADS);
if (THREADS !== 1) console.log(peakLine(peakAll, THREADS, ' GFLOP/s'));
const PATHS = {
  js: { label: 'plain JS', peak: peak1, threads: 1 },
  ort: { label: `onnxruntime f64 Gemm ×${THREADS}`, peak: peakAll, threads: THREADS },
};
/** "x GFLOP/s = y% of the t-thread peak" for `flop` done in `seconds` on a path. */
const rate = (path, flop, seconds) => {
  const gf = flop / seconds / 1e9;
  const p = PATHS[path];
  return { gf, text: `${fmt(gf)} GFLOP/s = ${fmt((100 * gf) / p.peak.gflops, 1)}% of the ${p.threads}-thread peak` };
};

const gemm = await onnxPkg.createFloat64GemmNT({ threads: THREADS });
{
  // warm-up: session creation aside, the first run allocates
  const w = Float64Array.from(features(64, 64, 5));
  await gemm(w, w, 64, 64, 64);
}

// 2. raw product rates
async function gflopsOf(fn, flops, minSeconds = 1) {
  await fn();
  let runs = 0;
  const t0 = performance.now();
  do {
    await fn();
    runs++;
  } while (performance.now() - t0 < minSeconds * 1000);
  return (flops * runs) / ((performance.now() - t0) / 1000) / 1e9;
}
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
let plainGflops;
{
  const m = 512;
  const a = Float64Array.from(features(m, m, 1));
  const b = Float64Array.from(features(m, m, 2));
  const c = new Float64Array(m * m);
  plainGflops = await gflopsOf(() => naiveMatmul(a, b, m, m, m, c), 2 * m ** 3);
  const kernelGflops = await gflopsOf(() => ev.gemmNT(a, b, m, m, m, c), 2 * m ** 3);
  report('plain JS f64 matmul (naive ikj, 512³)', fmt(plainGflops), 'GFLOP/s', `${fmt((100 * plainGflops) / peak1.gflops, 1)}% of the 1-thread peak`);
  report(
    'gemmNT f64 kernel (512³)',
    fmt(kernelGflops),
    'GFLOP/s',
    `${fmt((100 * kernelGflops) / peak1.gflops, 1)}% of the 1-thread peak; ${fmt(kernelGflops / plainGflops)}× naive`,
  );
  const g = 1024;
  const ga = Float64Array.from(features(g, g, 3));
  const gb = Float64Array.from(features(g, g, 4));
  const ortGflops = await gflopsOf(() => gemm(ga, gb, g, g, g), 2 * g ** 3);
  report(
    `onnxruntime f64 Gemm (1024³, ${THREADS} thread${THREADS > 1 ? 's' : ''})`,
    fmt(ortGflops),
    'GFLOP/s',
    `${fmt((100 * ortGflops) / peakAll.gflops, 1)}% of the ${THREADS}-thread f32 peak; ${fmt(ortGflops / kernelGflops)}× gemmNT`,
  );
}

// 3. FID statistics, both paths over the same batches
/** FeatureStats over the n×d features, batch by batch with `add` (js) or `addWith(…, gemm)` (ort). */
async function featureStats(path) {
  const stats = new ev.FeatureStats(D);
  let wall = 0;
  let cpuS = 0;
  for (let done = 0; done < N; done += BATCH) {
    const b = Math.min(BATCH, N - done);
    const batch = { data: features(b, D, 100 + done), rows: b, dim: D }; // generation excluded from timing
    const t = await timed(() => (path === 'js' ? stats.add(batch) : stats.addWith(batch, gemm)));
    wall += t.wall;
    cpuS += t.cpu;
  }
  const flop = (path === 'js' ? 1 : 2) * N * D * D; // the scatter: upper triangle (JS) or full square (Gemm), 2 flops per multiply-add
  const r = rate(path, flop, wall);
  report(`FID stats ${N}×${D}, ${PATHS[path].label}`, fmt(wall, 2), 's wall', `${fmt(cpuS, 2)} s CPU; ${fmt(N / wall, 0)} features/s; ${r.text}`);
  return { stats, wall };
}
const js = await featureStats('js');
const ort = await featureStats('ort');
console.log(`  onnxruntime / plain JS: ${fmt(js.wall / ort.wall)}× faster`);
{
  const dMu = maxAbsDiff(js.stats.mean(), ort.stats.mean());
  const dSigma = maxAbsDiff(js.stats.covariance(), ort.stats.covariance());
  check('statistics agree', dMu <= 1e-10 && dSigma <= 1e-10, `max |Δμ| ${dMu.toExponential(2)}, max |ΔΣ| ${dSigma.toExponential(2)} (tolerance 1e-10)`);
}

// 4. Fréchet distance at d (no gemm option: plain JS on both paths' statistics)
if (RUN_FID) {
  const refN = Math.min(N, 4 * D);
  const reference = new ev.FeatureStats(D);
  for (let done = 0; done < refN; done += BATCH) {
    const b = Math.min(BATCH, refN - done);
    reference.add({ data: features(b, D, 9000 + done), rows: b, dim: D });
  }
  const refG = reference.toGaussian();
  const a = await timed(() => ev.frechetDistance(js.stats.toGaussian(), refG));
  const flop = 16 * D ** 3;
  report(
    `Fréchet distance, d=${D} (plain JS)`,
    fmt(a.wall, 2),
    's wall',
    `${fmt(a.cpu, 2)} s CPU; ≈16·d³ = ${fmt(flop / 1e9, 1)} GFLOP → ${rate('js', flop, a.wall).text}`,
  );
  const b = ev.frechetDistance(ort.stats.toGaussian(), refG);
  const fullRank = N > D && refN > D;
  const tol = (fullRank ? 1e-9 : 1e-8) * Math.max(1, Math.abs(a.value.value));
  const diff = Math.abs(a.value.value - b.value);
  check(
    'FID agrees',
    diff <= tol,
    `JS stats ${a.value.value.toFixed(9)}, onnxruntime stats ${b.value.toFixed(9)}: relative difference ` +
      `${relDiff(a.value.value, b.value).toExponential(2)} (tolerance ${fullRank ? '1e-9' : '1e-8, n ≤ d'}·max(1, FID))`,
  );
  const eye = new Float64Array(D * D);
  for (let i = 0; i < D; i++) eye[i * D + i] = 1;
  const known = await timed(() => ev.frechetDistance({ mu: new Float64Array(D), sigma: eye }, { mu: new Float64Array(D).fill(1), sigma: eye }));
  report(`pytorch-fid known answer (μ 0 vs 1, Σ = I, d=${D})`, known.value.value, '', `expected ${D}; ${fmt(known.wall, 2)} s wall`);
  const self = await timed(() => ev.frechetDistance(js.stats.toGaussian(), js.stats.toGaussian()));
  report(
    'Fréchet distance of a set with itself',
    self.value.value.toExponential(2),
    '',
    `${fmt(self.wall, 2)} s wall; tr Σ = ${self.value.traceSigma1.toFixed(3)}`,
  );
}

// 5. precision/recall, both paths
{
  const real = features(PR_N, D, 777);
  const gen = features(PR_N, D, 778).map((v, i) => v * (1 + (0.1 * ((i % 7) - 3)) / 3));
  const flopsOf = (R, G) => 2 * D * ((R * R) / 2 + (G * G) / 2 + R * G);
  const results = {};
  for (const path of /** @type {const} */ (['js', 'ort'])) {
    const t = await timed(() =>
      ev.precisionRecall({ data: real, rows: PR_N, dim: D }, { data: gen, rows: PR_N, dim: D }, { tileSize: 1024, ...(path === 'ort' ? { gemm } : {}) }),
    );
    const r = rate(path, flopsOf(PR_N, PR_N), t.wall);
    results[path] = { ...t, gf: r.gf };
    report(
      `precision/recall k=3, ${PR_N}×${PR_N}×${D}, ${PATHS[path].label}`,
      fmt(t.wall, 2),
      's wall',
      `${fmt(t.cpu, 2)} s CPU; P=${t.value.precision.toFixed(4)} R=${t.value.recall.toFixed(4)}; ${r.text}`,
    );
  }
  const a = results.js.value;
  const b = results.ort.value;
  console.log(
    `  onnxruntime / plain JS: ${fmt(results.js.wall / results.ort.wall)}× faster; ` +
      `radii max relative difference ${Math.max(
        ...[
          [a.realRadii, b.realRadii],
          [a.generatedRadii, b.generatedRadii],
        ].map(([x, y]) => x.reduce((m, v, i) => Math.max(m, relDiff(v, y[i])), 0)),
      ).toExponential(2)}`,
  );
  check(
    'precision/recall agree',
    a.precision === b.precision && a.recall === b.recall,
    `P ${a.precision} vs ${b.precision}, R ${a.recall} vs ${b.recall}: relative difference ` +
      `${Math.max(relDiff(a.precision, b.precision), relDiff(a.recall, b.recall)).toExponential(2)} (tolerance: identical)`,
  );
  for (const [label, R, G] of [
    ['10k real × 10k generated', 10000, 10000],
    ['ADM 10k real × 50k generated', 10000, 50000],
  ]) {
    const f = flopsOf(R, G);
    report(
      `  extrapolated ${label}`,
      fmt(f / results.ort.gf / 1e9 / 60, 2),
      'min',
      `on onnxruntime ×${THREADS} (${fmt(f / results.js.gf / 1e9 / 60, 1)} min in plain JS; ${fmt(f / 1e9)} GFLOP)`,
    );
  }
}

// 6. KID, both paths (the same subsets: one seeded generator per path)
if (RUN_KID) {
  const rows = KID_M;
  const x = features(rows, D, 31);
  const y = features(rows, D, 32);
  const rngOf = () => {
    let s = 1;
    return {
      int: (n) => {
        s = (Math.imul(1664525, s) + 1013904223) >>> 0;
        return Math.floor((s / 4294967296) * n);
      },
    };
  };
  const results = {};
  for (const path of /** @type {const} */ (['js', 'ort'])) {
    const t = await timed(() =>
      ev.kernelInceptionDistance(
        { data: x, rows, dim: D },
        { data: y, rows, dim: D },
        { rng: rngOf(), numSubsets: KID_SUBSETS, subsetSize: KID_M, ...(path === 'ort' ? { gemm } : {}) },
      ),
    );
    // Kxx, Kyy (symmetric: upper triangles in JS, full squares on the Gemm) and Kxy, per subset
    const flop = KID_SUBSETS * 2 * KID_M * KID_M * D * (path === 'js' ? 2 : 3);
    results[path] = t;
    report(
      `KID, ${KID_SUBSETS} subset${KID_SUBSETS > 1 ? 's' : ''} of ${KID_M} at d=${D}, ${PATHS[path].label}`,
      fmt(t.wall, 2),
      's wall',
      `${fmt(t.cpu, 2)} s CPU; KID=${t.value.mean.toExponential(6)}; ${rate(path, flop, t.wall).text}; ` +
        `100 subsets ≈ ${fmt((100 * t.wall) / KID_SUBSETS / 60, 2)} min`,
    );
  }
  const a = results.js.value.values;
  const b = results.ort.value.values;
  const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / (1e-12 * Math.max(1e-3, Math.abs(v)) + 1e-15)), 0);
  check(
    'KID agrees',
    worst <= 1,
    `onnxruntime / plain JS: ${fmt(results.js.wall / results.ort.wall)}× faster; max relative difference ` +
      `${a.reduce((m, v, i) => Math.max(m, relDiff(v, b[i])), 0).toExponential(2)} over the subsets ` +
      `(tolerance 1e-12·max(1e-3, |MMD²|) + 1e-15; worst at ${worst.toExponential(2)} of it)`,
  );
}

await gemm.dispose();
if (failures.length > 0) {
  console.error(`bench/eval.mjs: the plain JS and onnxruntime paths disagree beyond the tests' tolerances:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
