import { CpuTensor, at, required } from '@bigr/core';
import type { GraphDefinition, Ops } from '@bigr/core';
import { OnnxEngine } from './onnxEngine.js';

/** Options of {@link measureMatmulPeak}. */
export interface MatmulPeakOptions {
  /** Intra-op threads; default 1. */
  readonly threads?: number;
  /** Square matrix size n (n×n · n×n); default 1024. */
  readonly size?: number;
  /** Minimum total timed duration in seconds; default 1. */
  readonly minSeconds?: number;
}

/** Result of {@link measureMatmulPeak}. */
export interface MatmulPeakResult {
  /** Best observed throughput, GFLOP/s (2·n³ FLOP per product). */
  readonly gflops: number;
  /** Median throughput over the timed runs, GFLOP/s. */
  readonly medianGflops: number;
  /** Threads used. */
  readonly threads: number;
  /** Matrix size n. */
  readonly size: number;
  /** Timed runs. */
  readonly runs: number;
}

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/**
 * Measures onnxruntime's float32 matmul throughput on this machine (n×n input times an n×n parameter,
 * end to end through {@link OnnxEngine}), as a yardstick for other benchmarks. Returns the best run.
 */
export async function measureMatmulPeak(options: MatmulPeakOptions = {}): Promise<MatmulPeakResult> {
  const threads = options.threads ?? 1;
  const n = options.size ?? 1024;
  const minSeconds = options.minSeconds ?? 1;
  const def: GraphDefinition = {
    name: 'matmul_peak',
    inputs: [{ name: 'a', dtype: 'float32', shape: [n, n] }],
    outputs: ['c'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      return { c: ops.matMul(required(inputs['a'], 'input "a"'), ops.param('b')) };
    },
  };
  const graph = await new OnnxEngine().compile(def, new Map([['b', new CpuTensor(fill(n * n, 2), [n, n])]]), { threads });
  try {
    const feeds = { a: new CpuTensor(fill(n * n, 1), [n, n]) };
    for (let i = 0; i < 2; i++) await graph.run(feeds);
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || performance.now() - start < minSeconds * 1000) {
      const t0 = performance.now();
      await graph.run(feeds);
      times.push((performance.now() - t0) / 1000);
      if (times.length >= 1000) break;
    }
    times.sort((x, y) => x - y);
    const flop = 2 * n ** 3;
    return {
      gflops: flop / at(times, 0, 'run time') / 1e9,
      medianGflops: flop / at(times, Math.floor(times.length / 2), 'run time') / 1e9,
      threads,
      size: n,
      runs: times.length,
    };
  } finally {
    await graph.dispose();
  }
}
