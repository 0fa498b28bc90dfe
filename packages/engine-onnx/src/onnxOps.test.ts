import { CpuTensor, required } from '@bigr/core';
import { runGraph } from './test/harness.js';
import * as R from './test/reference.js';

const rand = R.makeRandom(1234);

describe('OnnxOps element-wise ops vs float64 reference', () => {
  test('unary ops', async () => {
    const z = R.randomTensor(rand, [3, 4, 5], -2.5, 2.5);
    const p = R.randomTensor(rand, [3, 4, 5], 0.05, 4);
    const names = ['neg', 'exp', 'square', 'sigmoid', 'silu', 'tanh', 'relu', 'sin', 'cos', 'log', 'sqrt', 'rsqrt'] as const;
    const out = await runGraph({ z: z.t, p: p.t }, names, (ops, x) => {
      const zz = x['z'];
      const pp = x['p'];
      return {
        neg: ops.neg(zz),
        exp: ops.exp(zz),
        square: ops.square(zz),
        sigmoid: ops.sigmoid(zz),
        silu: ops.silu(zz),
        tanh: ops.tanh(zz),
        relu: ops.relu(zz),
        sin: ops.sin(zz),
        cos: ops.cos(zz),
        log: ops.log(pp),
        sqrt: ops.sqrt(pp),
        rsqrt: ops.rsqrt(pp),
      };
    });
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    const refs: Record<(typeof names)[number], R.Ref> = {
      neg: R.unary(z.ref, (v) => -v),
      exp: R.unary(z.ref, Math.exp),
      square: R.unary(z.ref, (v) => v * v),
      sigmoid: R.unary(z.ref, sig),
      silu: R.unary(z.ref, (v) => v * sig(v)),
      tanh: R.unary(z.ref, Math.tanh),
      relu: R.unary(z.ref, (v) => Math.max(v, 0)),
      sin: R.unary(z.ref, Math.sin),
      cos: R.unary(z.ref, Math.cos),
      log: R.unary(p.ref, Math.log),
      sqrt: R.unary(p.ref, Math.sqrt),
      rsqrt: R.unary(p.ref, (v) => 1 / Math.sqrt(v)),
    };
    for (const n of names) R.expectClose(out[n], refs[n]);
  });

  test('broadcasting binary ops, scalars and constants', async () => {
    const a = R.randomTensor(rand, [2, 3, 4]);
    const b = R.randomTensor(rand, [3, 1]);
    const c = R.randomTensor(rand, [4]);
    const d = R.randomTensor(rand, [1, 3, 4], 0.5, 2);
    const k = R.randomTensor(rand, [2, 1, 1]);
    const out = await runGraph({ a: a.t, b: b.t, c: c.t, d: d.t }, ['add', 'sub', 'mul', 'div', 'scal', 'cst'], (ops, x) => ({
      add: ops.add(x['a'], x['b']),
      sub: ops.sub(x['b'], x['a']),
      mul: ops.mul(x['a'], x['c']),
      div: ops.div(x['a'], x['d']),
      scal: ops.add(ops.mul(x['c'], ops.scalar(-1.5)), ops.scalar(0.25)),
      cst: ops.mul(x['a'], ops.constant(k.t.data, [2, 1, 1])),
    }));
    R.expectClose(
      out['add'],
      R.binary(a.ref, b.ref, (u, v) => u + v),
    );
    R.expectClose(
      out['sub'],
      R.binary(b.ref, a.ref, (u, v) => u - v),
    );
    R.expectClose(
      out['mul'],
      R.binary(a.ref, c.ref, (u, v) => u * v),
    );
    R.expectClose(
      out['div'],
      R.binary(a.ref, d.ref, (u, v) => u / v),
    );
    R.expectClose(
      out['scal'],
      R.unary(c.ref, (v) => v * -1.5 + 0.25),
    );
    R.expectClose(
      out['cst'],
      R.binary(a.ref, k.ref, (u, v) => u * v),
    );
  });

  test('dropout is the identity in inference graphs', async () => {
    const a = R.randomTensor(rand, [2, 5]);
    const out = await runGraph({ a: a.t }, ['y'], (ops, x) => {
      expect(ops.training).toBe(false);
      return { y: ops.dropout(x['a'], 0.3) };
    });
    R.expectClose(out['y'], a.ref, 0);
  });
});

describe('OnnxOps reductions and shape ops', () => {
  test('mean and sum over axes with and without keepDims', async () => {
    const a = R.randomTensor(rand, [2, 3, 4]);
    const cases: [string, number[], boolean, 'mean' | 'sum'][] = [
      ['m1', [-1], true, 'mean'],
      ['m2', [0, 2], false, 'mean'],
      ['s1', [1], false, 'sum'],
      ['s2', [0, -1], true, 'sum'],
      ['s3', [0, 1, 2], false, 'sum'],
    ];
    const out = await runGraph(
      { a: a.t },
      cases.map((c) => c[0]),
      (ops, x) => {
        const r: Record<string, (typeof x)['a']> = {};
        for (const [n, axes, keep, kind] of cases) r[n] = kind === 'mean' ? ops.mean(x['a'], axes, keep) : ops.sum(x['a'], axes, keep);
        return r;
      },
    );
    for (const [n, axes, keep, kind] of cases) R.expectClose(required(out[n], `output ${n}`), R.reduce(a.ref, axes, keep, kind));
  });

  test('reshape with -1, transpose, concat, slice', async () => {
    const a = R.randomTensor(rand, [2, 3, 4]);
    const b = R.randomTensor(rand, [2, 2, 4]);
    const out = await runGraph({ a: a.t, b: b.t }, ['rs', 'tr', 'tn', 'cc', 'cl', 'sl', 'sn'], (ops, x) => ({
      rs: ops.reshape(x['a'], [-1, 4, 2]),
      tr: ops.transpose(x['a'], [2, 0, 1]),
      tn: ops.transpose(x['a'], [0, -1, -2]),
      cc: ops.concat([x['a'], x['b']], 1),
      cl: ops.concat([x['a'], x['a']], -1),
      sl: ops.slice(x['a'], 1, 1, 3),
      sn: ops.slice(x['a'], -1, 0, 2),
    }));
    R.expectClose(out['rs'], { data: a.ref.data, shape: [3, 4, 2] }, 0);
    R.expectClose(out['tr'], R.transpose(a.ref, [2, 0, 1]), 0);
    R.expectClose(out['tn'], R.transpose(a.ref, [0, 2, 1]), 0);
    R.expectClose(out['cc'], R.concat([a.ref, b.ref], 1), 0);
    R.expectClose(out['cl'], R.concat([a.ref, a.ref], 2), 0);
    R.expectClose(out['sl'], R.slice(a.ref, 1, 1, 3), 0);
    R.expectClose(out['sn'], R.slice(a.ref, 2, 0, 2), 0);
  });

  test('int32 values through reshape, transpose, concat, slice and add', async () => {
    const i = new CpuTensor(
      Int32Array.from({ length: 12 }, (_, k) => k * 7 - 30),
      [3, 4],
    );
    const out = await runGraph({ i }, ['y', 'z'], (ops, x) => ({
      y: ops.slice(ops.concat([ops.transpose(ops.reshape(x['i'], [4, 3]), [1, 0]), ops.constantInt(Int32Array.of(1, 2, 3), [3, 1])], 1), 1, 2, 5),
      z: ops.add(x['i'], x['i']),
    }));
    const ref = R.slice(
      R.concat([R.transpose({ data: Float64Array.from(i.data), shape: [4, 3] }, [1, 0]), { data: Float64Array.of(1, 2, 3), shape: [3, 1] }], 1),
      1,
      2,
      5,
    );
    expect(out['y'].dtype).toBe('int32');
    R.expectClose(out['y'], ref, 0);
    R.expectClose(
      out['z'],
      R.unary(R.toRef(i), (v) => 2 * v),
      0,
    );
  });
});

describe('OnnxOps matMul, softmax, gather', () => {
  test('2-D and batched matMul with transposes and broadcasting', async () => {
    const a = R.randomTensor(rand, [5, 7]);
    const b = R.randomTensor(rand, [7, 3]);
    const bt = R.randomTensor(rand, [3, 7]);
    const at = R.randomTensor(rand, [7, 5]);
    const ba = R.randomTensor(rand, [2, 3, 4, 5]);
    const bb = R.randomTensor(rand, [2, 3, 5, 6]);
    const bc = R.randomTensor(rand, [3, 6, 5]);
    const b1 = R.randomTensor(rand, [2, 1, 4, 5]);
    const out = await runGraph(
      { a: a.t, b: b.t, bt: bt.t, at: at.t, ba: ba.t, bb: bb.t, bc: bc.t, b1: b1.t },
      ['ab', 'abT', 'aTb', 'aTbT', 'batched', 'batchedT', 'bcast'],
      (ops, x) => ({
        ab: ops.matMul(x['a'], x['b']),
        abT: ops.matMul(x['a'], x['bt'], false, true),
        aTb: ops.matMul(x['at'], x['b'], true, false),
        aTbT: ops.matMul(x['at'], x['bt'], true, true),
        batched: ops.matMul(x['ba'], x['bb']),
        batchedT: ops.matMul(x['ba'], x['bc'], false, true),
        bcast: ops.matMul(x['b1'], x['bb']),
      }),
    );
    R.expectClose(out['ab'], R.matMul(a.ref, b.ref));
    R.expectClose(out['abT'], R.matMul(a.ref, bt.ref, false, true));
    R.expectClose(out['aTb'], R.matMul(at.ref, b.ref, true, false));
    R.expectClose(out['aTbT'], R.matMul(at.ref, bt.ref, true, true));
    R.expectClose(out['batched'], R.matMul(ba.ref, bb.ref));
    R.expectClose(out['batchedT'], R.matMul(ba.ref, bc.ref, false, true));
    R.expectClose(out['bcast'], R.matMul(b1.ref, bb.ref));
  });

  test('matMul with transposed parameters and constants (transposed at build time)', async () => {
    const a = R.randomTensor(rand, [2, 4, 6]);
    const w = R.randomTensor(rand, [5, 6]);
    const w3 = R.randomTensor(rand, [2, 5, 6]);
    const c = R.randomTensor(rand, [4, 3]);
    const params = new Map([
      ['w', w.t],
      ['w3', w3.t],
    ]);
    const out = await runGraph(
      { a: a.t },
      ['y', 'y3', 'yc', 'yw'],
      (ops, x) => ({
        y: ops.matMul(x['a'], ops.param('w'), false, true),
        y3: ops.matMul(x['a'], ops.param('w3'), false, true),
        yc: ops.matMul(ops.constant(c.t.data, [4, 3]), x['a'], true, false),
        yw: ops.matMul(ops.param('w'), ops.param('w'), false, true),
      }),
      params,
    );
    R.expectClose(out['y'], R.matMul(a.ref, w.ref, false, true));
    R.expectClose(out['y3'], R.matMul(a.ref, w3.ref, false, true));
    R.expectClose(out['yc'], R.matMul(c.ref, a.ref, true, false));
    R.expectClose(out['yw'], R.matMul(w.ref, w.ref, false, true));
  });

  test('softmax over the last axis', async () => {
    const a = R.randomTensor(rand, [2, 3, 7], -4, 4);
    const out = await runGraph({ a: a.t }, ['y'], (ops, x) => ({ y: ops.softmax(x['a']) }));
    R.expectClose(out['y'], R.softmax(a.ref));
  });

  test('gather rows with int32 indices (input and constant)', async () => {
    const table = R.randomTensor(rand, [10, 4]);
    const idxData = Int32Array.of(3, 0, 9, 9, 2, 5);
    const idx = new CpuTensor(idxData, [2, 3]);
    const out = await runGraph(
      { idx },
      ['y', 'z'],
      (ops, x) => ({ y: ops.gather(ops.param('emb'), x['idx']), z: ops.gather(ops.param('emb'), ops.constantInt(Int32Array.of(7, 1), [2])) }),
      new Map([['emb', table.t]]),
    );
    R.expectClose(out['y'], R.gather(table.ref, idxData, [2, 3]), 0);
    R.expectClose(out['z'], R.gather(table.ref, Int32Array.of(7, 1), [2]), 0);
  });
});

describe('OnnxOps conv2d and upsampling', () => {
  test('conv2d stride 2 with asymmetric pads and bias', async () => {
    const x = R.randomTensor(rand, [2, 3, 9, 8]);
    const w = R.randomTensor(rand, [4, 3, 3, 3]);
    const b = R.randomTensor(rand, [4]);
    const out = await runGraph(
      { x: x.t },
      ['y'],
      (ops, v) => ({ y: ops.conv2d(v['x'], ops.param('w'), ops.param('b'), { strides: 2, pads: [1, 0, 2, 1] }) }),
      new Map([
        ['w', w.t],
        ['b', b.t],
      ]),
    );
    R.expectClose(out['y'], R.conv2d(x.ref, w.ref, b.ref, 2, [1, 0, 2, 1]));
  });

  test('conv2d stride 1 without bias, other asymmetric pads, and a 1x1 kernel', async () => {
    const x = R.randomTensor(rand, [1, 2, 6, 5]);
    const w = R.randomTensor(rand, [3, 2, 2, 3]);
    const w1 = R.randomTensor(rand, [5, 2, 1, 1]);
    const out = await runGraph(
      { x: x.t },
      ['y', 'y1'],
      (ops, v) => ({
        y: ops.conv2d(v['x'], ops.param('w'), null, { strides: 1, pads: [0, 2, 1, 0] }),
        y1: ops.conv2d(v['x'], ops.param('w1'), null, { strides: 1, pads: [0, 0, 0, 0] }),
      }),
      new Map([
        ['w', w.t],
        ['w1', w1.t],
      ]),
    );
    R.expectClose(out['y'], R.conv2d(x.ref, w.ref, null, 1, [0, 2, 1, 0]));
    R.expectClose(out['y1'], R.conv2d(x.ref, w1.ref, null, 1, [0, 0, 0, 0]));
  });

  test('upsampleNearest2x matches PyTorch nearest', async () => {
    const x = R.randomTensor(rand, [2, 3, 3, 5]);
    const out = await runGraph({ x: x.t }, ['y'], (ops, v) => ({ y: ops.upsampleNearest2x(v['x']) }));
    R.expectClose(out['y'], R.upsample2x(x.ref), 0);
  });
});
