import { CpuTensor, InvariantError, at, required } from '@bigr/core';
import type { Engine, GraphDefinition, Ops } from '@bigr/core';
import { OnnxEngine } from './onnxEngine.js';

/** Options of {@link measureMatmulPeak}. */
export interface MatmulPeakOptions {
  /** The engine to measure; default a new {@link OnnxEngine} (onnxruntime-node on the CPU). */
  readonly engine?: Engine;
  /** Intra-op threads; default 1. */
  readonly threads?: number;
  /** Square matrix size: m = k = n = size unless given separately; default 1024. */
  readonly size?: number;
  /** Rows of A and C (default `size`). */
  readonly m?: number;
  /** Columns of A, rows of B (default `size`). */
  readonly k?: number;
  /** Columns of B and C (default `size`). */
  readonly n?: number;
  /** Minimum total timed duration in seconds; default 1. */
  readonly minSeconds?: number;
}

/** Result of {@link measureMatmulPeak}. */
export interface MatmulPeakResult {
  /** Best observed throughput, GFLOP/s (2·m·k·n FLOP per product). */
  readonly gflops: number;
  /** Median throughput over the timed runs, GFLOP/s. */
  readonly medianGflops: number;
  /** Threads used. */
  readonly threads: number;
  /** Matrix size n (columns of C). */
  readonly size: number;
  /** Shape of the product: A [m, k] · B [k, n]. */
  readonly m: number;
  /** Inner dimension. */
  readonly k: number;
  /** Columns of B and C. */
  readonly n: number;
  /** Timed runs. */
  readonly runs: number;
}

/** Deterministic values in [-0.5, 0.5) (a linear congruential sequence). */
function fill(len: number, seed: number): Float32Array {
  const a = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Checks a few entries of C against float64 dot products, so a wrong result is never timed. */
function verify(c: ArrayLike<number>, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
  for (const [i, j] of [
    [0, 0],
    [m - 1, n - 1],
    [m >> 1, n >> 2],
    [m >> 3, Math.max(0, n - 2)],
  ] as const) {
    let s = 0;
    for (let p = 0; p < k; p++) s += at(a, i * k + p) * at(b, p * n + j);
    const got = at(c, i * n + j);
    if (!(Math.abs(got - s) <= 1e-4 * (1 + Math.abs(s))))
      throw new InvariantError(`matmul benchmark: C[${i}, ${j}] is ${got} but the float64 product is ${s}.`);
  }
}

/**
 * Measures an engine's float32 matmul throughput on this machine: C = A·B with A an input [m, k] and B a parameter
 * [k, n] (like a linear layer), compiled with the engine's `compile` and timed end to end through `run` (feeds in, CPU
 * tensors out), after two warm-up runs of which the first is checked against float64 products. Runs until
 * `minSeconds` have passed (at least 3 runs); an engine that has spent four times that after 3 runs stops there. The
 * default (onnxruntime, 1024³) is the yardstick other benchmarks quote.
 */
export async function measureMatmulPeak(options: MatmulPeakOptions = {}): Promise<MatmulPeakResult> {
  const threads = options.threads ?? 1;
  const size = options.size ?? 1024;
  const { m = size, k = size, n = size } = options;
  const minSeconds = options.minSeconds ?? 1;
  const def: GraphDefinition = {
    name: 'matmul_peak',
    inputs: [{ name: 'a', dtype: 'float32', shape: [m, k] }],
    outputs: ['c'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      return { c: ops.matMul(required(inputs['a'], 'input "a"'), ops.param('b')) };
    },
  };
  const a = fill(m * k, 1);
  const b = fill(k * n, 2);
  const engine = options.engine ?? new OnnxEngine();
  const graph = await engine.compile(def, new Map([['b', new CpuTensor(b, [k, n])]]), { threads });
  try {
    const feeds = { a: new CpuTensor(a, [m, k]) };
    verify(required((await graph.run(feeds))['c'], 'output "c"').data, a, b, m, k, n);
    await graph.run(feeds);
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || performance.now() - start < minSeconds * 1000) {
      const t0 = performance.now();
      await graph.run(feeds);
      times.push((performance.now() - t0) / 1000);
      if (times.length >= 2000) break;
      if (times.length >= 3 && performance.now() - start > 4 * minSeconds * 1000) break;
    }
    times.sort((x, y) => x - y);
    const flop = 2 * m * k * n;
    return {
      gflops: flop / at(times, 0, 'run time') / 1e9,
      medianGflops: flop / at(times, Math.floor(times.length / 2), 'run time') / 1e9,
      threads,
      size: n,
      m,
      k,
      n,
      runs: times.length,
    };
  } finally {
    await graph.dispose();
  }
}
