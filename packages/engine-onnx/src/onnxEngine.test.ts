import { ConfigError, CpuTensor, EngineUnavailableError, ShapeError, linear, registeredEngines, required, resolveEngine } from '@bigr/core';
import type { GraphDefinition, Ops } from '@bigr/core';
import { buildOnnxModel } from './buildModel.js';
import { measureMatmulPeak } from './matmulPeak.js';
import { OnnxEngine } from './onnxEngine.js';
import { onnxCudaProvider } from './providers.js';
import './index.js';
import * as R from './test/reference.js';

const rand = R.makeRandom(7);
const w = R.randomTensor(rand, [3, 4]);
const b = R.randomTensor(rand, [3]);
const params = new Map([
  ['fc.weight', w.t],
  ['fc.bias', b.t],
]);

/** y = linear(x) over a dynamic batch; also returns the token embeddings of int32 ids. */
const dynamicDef: GraphDefinition = {
  name: 'dynamic',
  inputs: [
    { name: 'x', dtype: 'float32', shape: ['batch', 4] },
    { name: 'ids', dtype: 'int32', shape: ['batch', 2] },
  ],
  outputs: ['y', 'e'],
  build<T>(ops: Ops<T>, v: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
    return { y: linear(ops, required(v['x'], 'input x'), 'fc'), e: ops.gather(ops.param('fc.weight'), required(v['ids'], 'input ids')) };
  },
};

function refLinear(x: R.Ref): R.Ref {
  return R.binary(R.matMul(x, w.ref, false, true), b.ref, (u, v) => u + v);
}

describe('OnnxEngine', () => {
  const engine = new OnnxEngine();

  test('one session runs batch 1 and batch 3 through a dynamic dimension', async () => {
    const graph = await engine.compile(dynamicDef, params);
    expect(graph.inputNames).toEqual(['x', 'ids']);
    expect(graph.outputNames).toEqual(['y', 'e']);
    for (const batch of [1, 3]) {
      const x = R.randomTensor(rand, [batch, 4]);
      const idsData = Int32Array.from({ length: batch * 2 }, (_, i) => i % 3);
      const ids = new CpuTensor(idsData, [batch, 2]);
      const out = await graph.run({ x: x.t, ids });
      R.expectClose(required(out['y'], 'output y'), refLinear(x.ref));
      R.expectClose(required(out['e'], 'output e'), R.gather(w.ref, idsData, [batch, 2]), 0);
      expect(out['y']).toBeInstanceOf(CpuTensor);
    }
    await graph.dispose();
    await graph.dispose();
    await expect(graph.run({})).rejects.toThrow(/disposed/);
  });

  test('feeds that are views into a larger buffer are read at their offset', async () => {
    const graph = await engine.compile(dynamicDef, params, { threads: 2 });
    const big = R.randomTensor(rand, [5, 4]);
    const view = new CpuTensor(big.t.data.subarray(8, 16), [2, 4]);
    const ids = new CpuTensor(Int32Array.of(0, 1, 2, 0, 9, 9).subarray(0, 4), [2, 2]);
    const out = await graph.run({ x: view, ids });
    R.expectClose(required(out['y'], 'output y'), refLinear({ data: big.ref.data.slice(8, 16), shape: [2, 4] }));
    await graph.dispose();
  });

  test('validates feed names, dtypes, ranks and dimensions', async () => {
    const graph = await engine.compile(dynamicDef, params);
    const x = new CpuTensor(new Float32Array(8), [2, 4]);
    const ids = new CpuTensor(new Int32Array(4), [2, 2]);
    await expect(graph.run({})).rejects.toThrow(ConfigError);
    await expect(graph.run({})).rejects.toThrow(/missing feeds for "x", "ids"/);
    await expect(graph.run({ x })).rejects.toThrow(/missing feeds for "ids"/);
    await expect(graph.run({ x, ids, extra: x })).rejects.toThrow(/has no input "extra"/);
    await expect(graph.run({ x: ids, ids })).rejects.toThrow(ShapeError);
    await expect(graph.run({ x: ids, ids })).rejects.toThrow(/is int32 but float32 is expected/);
    await expect(graph.run({ x: new CpuTensor(new Float32Array(8), [8]), ids })).rejects.toThrow(/rank 2/);
    await expect(graph.run({ x: new CpuTensor(new Float32Array(10), [2, 5]), ids })).rejects.toThrow(/dimension 1 must be 4/);
    await expect(graph.run({ x: new CpuTensor(new Float32Array(12), [3, 4]), ids })).rejects.toThrow(/"batch" is 2 here but 3/);
    await graph.dispose();
  });

  test('rejects invalid thread counts and graphs whose parameters do not fit', async () => {
    await expect(engine.compile(dynamicDef, params, { threads: 0 })).rejects.toThrow(ConfigError);
    const wrong = new Map([
      ['fc.weight', new CpuTensor(new Float32Array(15), [3, 5])],
      ['fc.bias', b.t],
    ]);
    await expect(engine.compile(dynamicDef, wrong)).rejects.toThrow(/onnxruntime rejected graph "dynamic"/);
  });

  test('compileModel runs exported model bytes', async () => {
    const bytes = buildOnnxModel(dynamicDef, params);
    const graph = await engine.compileModel(bytes, dynamicDef);
    const x = R.randomTensor(rand, [2, 4]);
    const out = await graph.run({ x: x.t, ids: new CpuTensor(Int32Array.of(0, 1, 2, 1), [2, 2]) });
    R.expectClose(required(out['y'], 'output y'), refLinear(x.ref));
    await graph.dispose();
  });
});

describe('engine registration', () => {
  test('registers onnx-cpu and onnx-cuda on import; onnx-cpu resolves for inference and is the default for training', async () => {
    expect(registeredEngines()).toEqual(expect.arrayContaining(['onnx-cpu', 'onnx-cuda']));
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    expect(engine.name).toBe('onnx-cpu');
    expect(engine.canTrain).toBe(true);
    expect((await resolveEngine({ purpose: 'training', device: 'auto' })).name).toBe('onnx-cpu');
  });

  test('onnx-cuda explains why CUDA is unavailable', async () => {
    const err = await onnxCudaProvider.create().then(
      () => null,
      (e: unknown) => e,
    );
    if (err === null) return; // a machine with the CUDA provider installed
    expect(err).toBeInstanceOf(EngineUnavailableError);
    expect((err as Error).message).toMatch(/CUDA/);
    expect((err as Error).message).toMatch(/libonnxruntime_providers_shared\.so|ONNXRUNTIME_NODE_INSTALL_CUDA/);
  });
});

describe('measureMatmulPeak', () => {
  test('returns a positive throughput', async () => {
    const r = await measureMatmulPeak({ size: 64, minSeconds: 0.01 });
    expect(r.gflops).toBeGreaterThan(0);
    expect(r.gflops).toBeGreaterThanOrEqual(r.medianGflops);
  });

  test('measures a rectangular product on a given engine (its result checked against float64 products first)', async () => {
    const r = await measureMatmulPeak({ engine: new OnnxEngine({ name: 'onnx-bench' }), m: 12, k: 40, n: 7, minSeconds: 0.01 });
    expect([r.m, r.k, r.n, r.size]).toEqual([12, 40, 7, 7]);
    expect(r.runs).toBeGreaterThanOrEqual(3);
    expect(r.medianGflops).toBeGreaterThan(0);
  });
});
