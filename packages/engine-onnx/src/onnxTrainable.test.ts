import { ConfigError, CpuTensor, at, createRng, getOrThrow, linear, required, type GraphDefinition, type LossFunction, type Ops } from '@bigr/core';
import { OnnxEngine } from './onnxEngine.js';
import type { OnnxTrainableParameters } from './onnxTrainable.js';

/** loss = mean((linear(x) − y)²) over a batch of `n` rows; `unused.weight` is a parameter the loss never reads. */
function mseLoss(n: number, seed: number): LossFunction {
  const rng = createRng(seed);
  const x = rng.normalsF32(n * 4);
  const y = rng.normalsF32(n * 3);
  return <T>(ops: Ops<T>) => {
    const pred = linear(ops, ops.constant(x, [n, 4]), 'fc');
    return { loss: ops.mean(ops.square(ops.sub(pred, ops.constant(y, [n, 3]))), [0, 1], false), metrics: { scale: ops.mean(ops.square(pred), [0, 1], false) } };
  };
}

/** The same loss and its gradient in float64, by hand: d/dW = 2/(n·3)·(pred − y)ᵀ·x, d/db = 2/(n·3)·Σ(pred − y). */
function reference(w: Float32Array, b: Float32Array, n: number, seed: number): { loss: number; dw: number[]; db: number[] } {
  const rng = createRng(seed);
  const x = rng.normalsF32(n * 4);
  const y = rng.normalsF32(n * 3);
  const dw = new Array<number>(12).fill(0);
  const db = new Array<number>(3).fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const xi = x.subarray(i * 4, (i + 1) * 4);
    for (let o = 0; o < 3; o++) {
      let p = at(b, o);
      for (const [k, xk] of xi.entries()) p += at(w, o * 4 + k) * xk;
      const r = p - at(y, i * 3 + o);
      loss += (r * r) / (n * 3);
      db[o] = at(db, o) + (2 * r) / (n * 3);
      for (const [k, xk] of xi.entries()) dw[o * 4 + k] = at(dw, o * 4 + k) + (2 * r * xk) / (n * 3);
    }
  }
  return { loss, dw, db };
}

describe('OnnxTrainableParameters', () => {
  const engine = new OnnxEngine();
  const w = createRng('w').normalsF32(12);
  const b = createRng('b').normalsF32(3);
  const params = new Map([
    ['fc.weight', new CpuTensor(w, [3, 4])],
    ['fc.bias', new CpuTensor(b, [3])],
    ['unused.weight', new CpuTensor(new Float32Array([1, 2]), [2])],
  ]);

  test('gradients match a hand-written float64 gradient; unused parameters get zeros; metrics come back', async () => {
    const t = await engine.createTrainable(params, { threads: 1 });
    try {
      const r = await t.gradients(mseLoss(5, 1), createRng(0));
      const ref = reference(w, b, 5, 1);
      expect(r.loss).toBeCloseTo(ref.loss, 5);
      Array.from(getOrThrow(r.grads, 'fc.weight')).forEach((g, i) => {
        expect(g).toBeCloseTo(at(ref.dw, i), 5);
      });
      Array.from(getOrThrow(r.grads, 'fc.bias')).forEach((g, i) => {
        expect(g).toBeCloseTo(at(ref.db, i), 5);
      });
      expect(Array.from(getOrThrow(r.grads, 'unused.weight'))).toEqual([0, 0]);
      expect(r.metrics['scale']).toBeGreaterThan(0);
    } finally {
      t.dispose();
    }
  });

  test('one compiled graph per batch shape, reused across steps and parameter updates', async () => {
    const t = (await engine.createTrainable(params, { threads: 1 })) as OnnxTrainableParameters;
    try {
      await t.gradients(mseLoss(5, 1), createRng(0));
      await t.gradients(mseLoss(5, 2), createRng(0));
      t.assign(new Map([['fc.bias', new Float32Array([0.5, 0, -0.5])]]));
      const again = await t.gradients(mseLoss(5, 3), createRng(0));
      expect(t.compiledGraphs).toBe(1);
      const ref = reference(w, Float32Array.of(0.5, 0, -0.5), 5, 3);
      expect(again.loss).toBeCloseTo(ref.loss, 5);
      await t.gradients(mseLoss(7, 4), createRng(0));
      expect(t.compiledGraphs).toBe(2);
    } finally {
      t.dispose();
    }
  });

  test('evaluate runs a graph definition on the current values; read/assign round-trip; dispose is final', async () => {
    const t = await engine.createTrainable(params, { threads: 1 });
    const def: GraphDefinition = {
      name: 'predict',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: ['y'],
      build: <T>(ops: Ops<T>, v: Readonly<Record<string, T>>) => ({ y: linear(ops, required(v['x'], 'input x'), 'fc') }),
    };
    const x = new CpuTensor(Float32Array.of(1, 0, 0, 0), [1, 4]);
    const { y } = await t.evaluate(def, { x });
    expect(Array.from(required(y, 'output y').data)).toEqual([at(w, 0) + at(b, 0), at(w, 4) + at(b, 1), at(w, 8) + at(b, 2)].map(Math.fround));
    await expect(t.evaluate(def, { x }, { training: true })).rejects.toThrow(ConfigError);
    t.assign(new Map([['fc.weight', new Float32Array(12)]]));
    expect(Array.from(getOrThrow(t.read(), 'fc.weight').data)).toEqual(new Array(12).fill(0));
    expect(Array.from(required((await t.evaluate(def, { x })).y, 'output y').data)).toEqual(Array.from(b));
    expect(() => t.assign(new Map([['fc.weight', new Float32Array(3)]]))).toThrow(/12 elements/);
    t.dispose();
    t.dispose();
    expect(() => t.read()).toThrow(/disposed/);
  });

  test('the thread option is validated', async () => {
    await expect(engine.createTrainable(params, { threads: 0 })).rejects.toThrow(/threads = 0 is invalid/);
  });
});
