import { ConfigError, CpuTensor, ShapeError, at, createRng, linear, required, resolveEngine } from '@bigr/core';
import type { GraphDefinition, Ops } from '@bigr/core';
import { OnnxEngine } from '@bigr/engine-onnx';
import { configureOrtWeb, OnnxWebEngine, registerOnnxWebEngines } from './index.js';

// onnxruntime-web also runs in Node (its wasm backend, one thread here), so the engine is tested against
// onnxruntime-node on the same traced graphs and against a float64 reference written here.
const rng = createRng(11);
const rand = (shape: number[]): CpuTensor<'float32'> =>
  new CpuTensor<'float32'>(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1),
    shape,
  );
const W = rand([3, 4]);
const bias = rand([3]);
const params = new Map([
  ['fc.weight', W],
  ['fc.bias', bias],
]);

const def: GraphDefinition = {
  name: 'linear-gather',
  inputs: [
    { name: 'x', dtype: 'float32', shape: ['batch', 4] },
    { name: 'ids', dtype: 'int32', shape: ['batch', 2] },
  ],
  outputs: ['y', 'e'],
  build<T>(ops: Ops<T>, v: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
    return { y: ops.silu(linear(ops, required(v['x'], 'input x'), 'fc')), e: ops.gather(ops.param('fc.weight'), required(v['ids'], 'input ids')) };
  },
};

describe('OnnxWebEngine (onnxruntime-web wasm, in Node)', () => {
  beforeAll(() => {
    expect(configureOrtWeb({ threads: 1 }).threads).toBe(1);
  });

  test('runs the graph of the shared builder: equal to a float64 reference and to onnxruntime-node', async () => {
    const web = await new OnnxWebEngine().compile(def, params);
    const node = await new OnnxEngine().compile(def, params, { threads: 1 });
    const x = rand([5, 4]);
    const ids = new CpuTensor<'int32'>(Int32Array.from([0, 2, 1, 1, 2, 0, 0, 0, 1, 2]), [5, 2]);
    const got = await web.run({ x, ids });
    const ref = await node.run({ x, ids });
    const gotY = required(got['y'], 'onnxruntime-web output y');
    const refY = required(ref['y'], 'onnxruntime-node output y');
    expect(gotY.shape).toEqual([5, 3]);
    for (let r = 0; r < 5; r++) {
      for (let o = 0; o < 3; o++) {
        let z = at(bias.data, o);
        for (let i = 0; i < 4; i++) z += at(x.data, r * 4 + i) * at(W.data, o * 4 + i);
        const want = z / (1 + Math.exp(-z));
        expect(Math.abs(at(gotY.data, r * 3 + o) - want)).toBeLessThan(1e-6);
      }
    }
    gotY.data.forEach((v, i) => {
      expect(Math.abs(v - at(refY.data, i))).toBeLessThan(1e-6);
    });
    expect([...required(got['e'], 'onnxruntime-web output e').data]).toEqual([...required(ref['e'], 'onnxruntime-node output e').data]);
    await web.dispose();
    await node.dispose();
    await expect(web.run({ x, ids })).rejects.toThrow(ConfigError);
  });

  test('checks feeds like OnnxEngine: missing, unknown, dtype and shared dynamic dimensions', async () => {
    const web = await new OnnxWebEngine().compile(def, params);
    const x = rand([2, 4]);
    const ids = new CpuTensor<'int32'>(new Int32Array(6), [3, 2]);
    await expect(web.run({ x } as never)).rejects.toThrow(/missing feeds for "ids"/);
    await expect(web.run({ x, ids: new CpuTensor<'int32'>(new Int32Array(4), [2, 2]), z: x } as never)).rejects.toThrow(/has no input "z"/);
    await expect(web.run({ x: new CpuTensor<'int32'>(new Int32Array(8), [2, 4]) as never, ids })).rejects.toThrow(ShapeError);
    await expect(web.run({ x, ids })).rejects.toThrow(/dimension "batch" is 3 here but 2/);
    await web.dispose();
  });

  test('registers onnx-web-wasm with the engine registry; WebGPU is refused without an adapter', async () => {
    registerOnnxWebEngines();
    expect((await resolveEngine({ purpose: 'inference', device: 'onnx-web-wasm' })).name).toBe('onnx-web-wasm');
    await expect(resolveEngine({ purpose: 'inference', device: 'onnx-web-webgpu' })).rejects.toThrow(/WebGPU/);
    expect(() => new OnnxWebEngine({ executionProvider: 'webgl' as never })).toThrow(ConfigError);
  });
});
