/**
 * Float64 matrix products on onnxruntime (its double-precision Gemm, on every core by default), for the evaluation
 * metrics' heavy products (covariances, kernel matrices, pairwise distances), which run at a few GFLOP/s in
 * JavaScript. The function has the shape of `@bigr/eval`'s `GemmNT`.
 */
import { ConfigError, ShapeError } from '@bigr/core';
import type * as Ort from 'onnxruntime-node';
import { defaultThreadCount } from './onnxEngine.js';
import { onnx, ONNX_DATA_TYPE } from './onnxProto.js';
import { loadOrt } from './ortRuntime.js';

/** Options of {@link createFloat64GemmNT}. */
export interface Float64GemmOptions {
  /** Intra-op threads (default `BIGR_THREADS`, else every core). */
  readonly threads?: number;
}

/** A float64 product `out[i·n + j] = Σ_p a[i·k + p]·b[j·k + p]` (A·Bᵀ) with a `dispose` for its session. */
export interface Float64GemmNT {
  (a: Float64Array, b: Float64Array, m: number, n: number, k: number): Promise<Float64Array>;
  /** Releases the onnxruntime session. */
  dispose(): Promise<void>;
}

function gemmModel(): Uint8Array {
  const dbl = ONNX_DATA_TYPE.float64;
  const input = (name: string, rows: string) => ({
    name,
    type: { tensorType: { elemType: dbl, shape: { dim: [{ dimParam: rows }, { dimParam: 'k' }] } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: '@bigr/engine-onnx',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'gemm_nt_f64',
      input: [input('a', 'm'), input('b', 'n')],
      output: [{ name: 'c', type: { tensorType: { elemType: dbl, shape: { dim: [{ dimParam: 'm' }, { dimParam: 'n' }] } } } }],
      node: [{ opType: 'Gemm', input: ['a', 'b'], output: ['c'], name: 'gemm', attribute: [{ name: 'transB', type: 2, i: 1 }] }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A float64 A·Bᵀ on onnxruntime's CPU Gemm. Each product is computed by onnxruntime's double-precision kernels
 * (blocked accumulation, fused multiply-add), so entries differ from a sequential JavaScript dot product by a few
 * units in the last place; dispose the function's session when done.
 */
export async function createFloat64GemmNT(options: Float64GemmOptions = {}): Promise<Float64GemmNT> {
  const threads = options.threads ?? defaultThreadCount();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new ConfigError(`threads = ${threads} is invalid; use a whole number >= 1.`);
  const ort = await loadOrt();
  let session: Ort.InferenceSession | null = await ort.InferenceSession.create(gemmModel(), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const gemm = async (a: Float64Array, b: Float64Array, m: number, n: number, k: number): Promise<Float64Array> => {
    if (!session) throw new ConfigError('This float64 gemm was disposed; create a new one.');
    if (a.length < m * k || b.length < n * k) throw new ShapeError(`float64 gemm: a has ${a.length} values for ${m}×${k} and b ${b.length} for ${n}×${k}.`);
    if (m === 0 || n === 0) return new Float64Array(m * n);
    if (k === 0) return new Float64Array(m * n);
    const out = await session.run({
      a: new ort.Tensor('float64', a.length === m * k ? a : a.subarray(0, m * k), [m, k]),
      b: new ort.Tensor('float64', b.length === n * k ? b : b.subarray(0, n * k), [n, k]),
    });
    const c = out['c'] as Ort.Tensor;
    return c.data as Float64Array;
  };
  return Object.assign(gemm, {
    async dispose(): Promise<void> {
      const s = session;
      session = null;
      if (s) await s.release();
    },
  });
}
