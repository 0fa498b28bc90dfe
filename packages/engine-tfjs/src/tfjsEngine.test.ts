import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  CpuTensor,
  EngineUnavailableError,
  NotFoundError,
  ShapeError,
  at,
  getOrThrow,
  linear,
  registeredEngines,
  required,
  resolveEngine,
  type GraphDefinition,
  type LossFunction,
  type NamedTensors,
  type Ops,
} from '@bigr/core';
import { createTfjsEngine, type TfjsEngine } from './index.js';
import { TestRng } from './test/testRng.js';
import * as ref from './test/reference.js';

const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m));

const D = 3;
const H = 4;

/** y = tanh(x·W1ᵀ + b1)·W2ᵀ + b2, with a dynamic batch dimension. */
const mlp: GraphDefinition = {
  name: 'mlp',
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', D] }],
  outputs: ['y', 'h'],
  build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>) {
    const h = ops.tanh(linear(ops, required(inputs['x'], 'input x'), 'fc1'));
    return { y: linear(ops, h, 'fc2'), h };
  },
};

function mlpReference(p: NamedTensors, x: CpuTensor): ref.Nd {
  const nd = (t: CpuTensor): ref.Nd => ref.nd(t.data as Float32Array, t.shape);
  const h = ref.unary(
    ref.binary(ref.matMul(nd(x), nd(getOrThrow(p, 'fc1.weight')), false, true), nd(getOrThrow(p, 'fc1.bias')), (a, b) => a + b),
    Math.tanh,
  );
  return ref.binary(ref.matMul(h, nd(getOrThrow(p, 'fc2.weight')), false, true), nd(getOrThrow(p, 'fc2.bias')), (a, b) => a + b);
}

function randomParams(rng: TestRng): NamedTensors {
  return new Map([
    ['fc1.weight', new CpuTensor(rng.floats(H * D), [H, D])],
    ['fc1.bias', new CpuTensor(rng.floats(H), [H])],
    ['fc2.weight', new CpuTensor(rng.floats(2 * H), [2, H])],
    ['fc2.bias', new CpuTensor(rng.floats(2), [2])],
  ]);
}

describe('TfjsEngine', () => {
  let wasm: TfjsEngine;
  let cpu: TfjsEngine;
  beforeAll(async () => {
    wasm = await createTfjsEngine('wasm');
    cpu = await createTfjsEngine('cpu');
  });
  afterAll(() => {
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });

  test('registers its providers on import', () => {
    expect(registeredEngines()).toEqual(expect.arrayContaining(['tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'tfjs-node-gpu']));
    expect(wasm.name).toBe('tfjs-wasm');
    expect(cpu.name).toBe('tfjs-cpu');
    expect(wasm.canTrain).toBe(true);
    expect(wasm.info.fallbackKernels).toEqual(
      expect.arrayContaining([
        'UnsortedSegmentSum',
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'Einsum',
      ]),
    );
  });

  test.each(['wasm', 'cpu'] as const)('compile + run on %s matches a float64 reference without leaking', async (kind) => {
    const engine = kind === 'wasm' ? wasm : cpu;
    const rng = new TestRng(5);
    const params = randomParams(rng);
    const x = new CpuTensor(rng.floats(5 * D), [5, D]);
    const before = tf.memory().numTensors;
    const graph = await engine.compile(mlp, params);
    expect(graph.inputNames).toEqual(['x']);
    expect(graph.outputNames).toEqual(['y', 'h']);
    const out = await graph.run({ x });
    expect(out['y']?.shape).toEqual([5, 2]);
    expect(out['h']?.shape).toEqual([5, H]);
    expect(ref.worstRatio(required(out['y'], 'output y').data, mlpReference(params, x).data, 1e-5)).toBeLessThanOrEqual(1);
    const again = await graph.run({ x: new CpuTensor(rng.floats(2 * D), [2, D]) });
    expect(again['y']?.shape).toEqual([2, 2]);
    await graph.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(graph.run({ x })).rejects.toThrow(ConfigError);
  });

  test('feed validation names the problem', async () => {
    const graph = await wasm.compile(mlp, randomParams(new TestRng(1)));
    const before = tf.memory().numTensors;
    await expect(graph.run({})).rejects.toThrow(/missing feed\(s\) "x"/);
    await expect(graph.run({ x: CpuTensor.zeros('float32', [2, D]), z: CpuTensor.zeros('float32', [1]) })).rejects.toThrow(/no input\(s\) "z"/);
    await expect(graph.run({ x: CpuTensor.zeros('int32', [2, D]) })).rejects.toThrow(ShapeError);
    await expect(graph.run({ x: CpuTensor.zeros('float32', [2, D + 1]) })).rejects.toThrow(/declared/);
    const bad: GraphDefinition = { ...mlp, outputs: ['y', 'missing'] };
    const g2 = await wasm.compile(bad, randomParams(new TestRng(1)));
    await expect(g2.run({ x: CpuTensor.zeros('float32', [1, D]) })).rejects.toThrow(/did not return output\(s\) "missing"/);
    const wrongParam: GraphDefinition = { ...mlp, build: (ops) => ({ y: ops.param('fc3.weight'), h: ops.param('fc1.bias') }) };
    const g3 = await wasm.compile(wrongParam, randomParams(new TestRng(1)));
    await expect(g3.run({ x: CpuTensor.zeros('float32', [1, D]) })).rejects.toThrow(NotFoundError);
    expect(tf.memory().numTensors).toBe(before + 8); // only g2's and g3's uploaded parameters
    await Promise.all([graph.dispose(), g2.dispose(), g3.dispose()]);
  });

  test('engines on different backends can alternate (global backend switches per call)', async () => {
    const params = randomParams(new TestRng(3));
    const x = new CpuTensor(new TestRng(4).floats(4 * D), [4, D]);
    const gw = await wasm.compile(mlp, params);
    const gc = await cpu.compile(mlp, params);
    const a = await gw.run({ x });
    const b = await gc.run({ x });
    const c = await gw.run({ x });
    expect(tf.getBackend()).toBe('wasm');
    const y = (out: Record<string, CpuTensor>) => required(out['y'], 'output y').data;
    expect(ref.worstRatio(y(a), y(b), 1e-5)).toBeLessThanOrEqual(1);
    expect(Array.from(y(c))).toEqual(Array.from(y(a)));
    await gw.dispose();
    await gc.dispose();
  });

  describe('trainable parameters', () => {
    const mse: LossFunction = <T>(ops: Ops<T>) => {
      const x = ops.constant(Float32Array.from([0.5, -1, 2, 1, 0, -0.5]), [2, D]);
      const y = ops.dropout(linear(ops, ops.tanh(linear(ops, x, 'fc1')), 'fc2'), 0.5);
      const loss = ops.mean(ops.square(y), [0, 1], false);
      return { loss, metrics: { sum: ops.sum(y, [0, 1], false) } };
    };

    test('gradients, evaluate, assign, read and dispose leave no tensors behind', async () => {
      const params = randomParams(new TestRng(11));
      params.set('unused', new CpuTensor(Float32Array.from([1, 2, 3]), [3]));
      params.set('ids', new CpuTensor(Int32Array.from([4, 5]), [2]));
      const before = tf.memory().numTensors;
      const t = await wasm.createTrainable(params);
      expect(t.names).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'unused', 'ids']);
      const after = tf.memory().numTensors;

      const r1 = await t.gradients(mse, new TestRng(8));
      expect(tf.memory().numTensors).toBe(after);
      expect(Number.isFinite(r1.loss)).toBe(true);
      expect(Object.keys(r1.metrics)).toEqual(['sum']);
      expect(r1.grads.get('unused')).toEqual(new Float32Array(3));
      expect(r1.grads.get('ids')).toEqual(new Float32Array(2));
      expect(r1.grads.get('fc1.weight')?.length).toBe(H * D);
      // Same Rng seed → same dropout mask → identical result; another seed → another mask.
      const r2 = await t.gradients(mse, new TestRng(8));
      expect(r2.loss).toBe(r1.loss);
      expect(r2.grads.get('fc1.weight')).toEqual(r1.grads.get('fc1.weight'));
      const otherLosses: number[] = [];
      for (let seed = 9; seed < 14; seed++) otherLosses.push((await t.gradients(mse, new TestRng(seed))).loss);
      expect(otherLosses.some((l) => l !== r1.loss)).toBe(true); // other masks (4 elements, p = 0.5)

      const x = new CpuTensor(new TestRng(2).floats(3 * D), [3, D]);
      const evalOut = await t.evaluate(mlp, { x });
      expect(ref.worstRatio(required(evalOut['y'], 'output y').data, mlpReference(params, x).data, 1e-5)).toBeLessThanOrEqual(1);
      const dropped: GraphDefinition = {
        ...mlp,
        build: (ops, i) => {
          const input = required(i['x'], 'input x');
          return { y: ops.dropout(input, 0.5), h: input };
        },
      };
      const ev1 = required((await t.evaluate(dropped, { x }, { training: true, rng: new TestRng(1) }))['y'], 'output y');
      const ev2 = required((await t.evaluate(dropped, { x }, { training: true, rng: new TestRng(1) }))['y'], 'output y');
      expect(ev1.data).toEqual(ev2.data);
      expect(ev1.data).not.toEqual(x.data);
      expect((await t.evaluate(dropped, { x }))['y']?.data).toEqual(x.data);
      await expect(t.evaluate(dropped, { x }, { training: true })).rejects.toThrow(ConfigError);
      expect(tf.memory().numTensors).toBe(after);

      const read = t.read();
      expect(read.get('fc1.weight')?.data).toEqual(getOrThrow(params, 'fc1.weight').data);
      expect(read.get('ids')?.dtype).toBe('int32');
      (getOrThrow(read, 'fc1.bias').data as Float32Array)[0] = 123; // a copy: must not reach the engine
      t.assign(new Map([['fc2.bias', Float32Array.from([7, -7])]]));
      const reread = t.read();
      expect(Array.from(getOrThrow(reread, 'fc2.bias').data)).toEqual([7, -7]);
      expect(getOrThrow(reread, 'fc1.bias').data[0]).not.toBe(123);
      expect(() => t.assign(new Map([['fc2.bias', new Float32Array(3)]]))).toThrow(ShapeError);
      expect(() => t.assign(new Map([['fc2.bais', new Float32Array(2)]]))).toThrow(/Similar names: "fc2.bias"/);
      expect(tf.memory().numTensors).toBe(after);

      t.dispose();
      expect(tf.memory().numTensors).toBe(before);
      await expect(t.gradients(mse, new TestRng(1))).rejects.toThrow(ConfigError);
    });

    test('a throwing or invalid loss function leaks nothing and the next call works', async () => {
      const t = await cpu.createTrainable(randomParams(new TestRng(12)));
      const after = tf.memory().numTensors;
      const throwing: LossFunction = <T>(ops: Ops<T>) => {
        ops.tanh(ops.matMul(ops.param('fc1.weight'), ops.param('fc1.weight'), false, true));
        throw new Error('boom');
      };
      await expect(t.gradients(throwing, new TestRng(1))).rejects.toThrow('boom');
      expect(tf.memory().numTensors).toBe(after);
      const vector: LossFunction = <T>(ops: Ops<T>) => ({ loss: ops.param('fc1.bias') });
      await expect(t.gradients(vector, new TestRng(1))).rejects.toThrow(/must be a scalar/);
      expect(tf.memory().numTensors).toBe(after);
      const ok = await t.gradients(mse, new TestRng(1));
      expect(Number.isFinite(ok.loss)).toBe(true);
      expect(tf.memory().numTensors).toBe(after);
      t.dispose();
    });

    test('SGD on the returned gradients fits a linear regression (loss falls > 90%)', async () => {
      const rng = new TestRng(2024);
      const n = 64;
      const din = 4;
      const trueW = Float32Array.from([1.5, -2, 0.5, 3]);
      const xs = rng.floats(n * din);
      const ys = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0.7;
        for (const [j, wj] of trueW.entries()) s += at(xs, i * din + j) * wj;
        ys[i] = s + 0.01 * rng.normal();
      }
      const loss: LossFunction = <T>(ops: Ops<T>) => {
        const pred = linear(ops, ops.constant(xs, [n, din]), 'reg');
        const err = ops.sub(pred, ops.constant(ys, [n, 1]));
        return { loss: ops.mean(ops.square(err), [0, 1], false) };
      };
      const t = await wasm.createTrainable(
        new Map([
          ['reg.weight', CpuTensor.zeros('float32', [1, din])],
          ['reg.bias', CpuTensor.zeros('float32', [1])],
        ]),
      );
      const lr = 0.1;
      const losses: number[] = [];
      for (let step = 0; step < 60; step++) {
        const { loss: l, grads } = await t.gradients(loss, rng);
        losses.push(l);
        const current = t.read();
        const next = new Map<string, Float32Array>();
        for (const [name, g] of grads) {
          const v = Float32Array.from(getOrThrow(current, name, 'parameter').data as Float32Array);
          for (const [i, gi] of g.entries()) v[i] = at(v, i) - lr * gi;
          next.set(name, v);
        }
        t.assign(next);
      }
      expect(at(losses, losses.length - 1)).toBeLessThan(0.1 * at(losses, 0));
      t.dispose();
    });
  });

  test('resolveEngine finds tfjs-wasm for training on wasm (cpu prefers onnxruntime), explains missing native bindings', async () => {
    const e = await resolveEngine({ purpose: 'training', device: 'wasm' });
    expect(e.name).toBe('tfjs-wasm');
    expect(e.canTrain).toBe(true);
    expect(typeof e.createTrainable).toBe('function');
    // The training resolver imports @bigr/engine-onnx first; its 'onnx-cpu' (priority 50) outranks tfjs on 'cpu'.
    expect((await resolveEngine({ purpose: 'training', device: 'cpu' })).name).toBe('onnx-cpu');
    expect((await resolveEngine({ purpose: 'training', device: 'tfjs-cpu' })).name).toBe('tfjs-cpu');
    const gpu = resolveEngine({ purpose: 'training', device: 'gpu' });
    await expect(gpu).rejects.toThrow(EngineUnavailableError);
    // Not installed (offline npm ci skips it), or installed without its native binding (its installer downloads one).
    await expect(gpu).rejects.toThrow(/@tensorflow\/tfjs-node-gpu (is not installed \(its installer downloads libtensorflow|failed to load)/);
    await expect(createTfjsEngine('tensorflow')).rejects.toThrow(/tfjs-node-gpu (is not installed|failed to load).*tfjs-node is not installed/);
    expect(['wasm', 'cpu']).toContain(tf.getBackend());
  });
});
