import * as tf from '@tensorflow/tfjs';
import { ConfigError, NotFoundError, ShapeError, at } from '@bigr/core';
import { initTfjs } from './backend.js';
import { TfjsOps } from './tfjsOps.js';
import { TestRng } from './test/testRng.js';
import * as ref from './test/reference.js';
import type { Nd } from './test/reference.js';

const TOL = 1e-5;

function expectNd(actual: tf.Tensor, expected: Nd, tol = TOL): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(ref.worstRatio(actual.dataSync(), expected.data, tol)).toBeLessThanOrEqual(1);
}

describe.each(['wasm', 'cpu'] as const)('TfjsOps on tfjs-%s vs float64 reference', (kind) => {
  let rng: TestRng;
  let ops: TfjsOps;
  let before: number;

  beforeAll(async () => {
    await initTfjs(kind);
    expect(tf.getBackend()).toBe(kind);
  });
  beforeEach(() => {
    rng = new TestRng(1234);
    before = tf.memory().numTensors;
    tf.engine().startScope();
    ops = new TfjsOps({ engine: `tfjs-${kind}`, params: new Map() });
  });
  afterEach(() => {
    tf.engine().endScope();
    expect(tf.memory().numTensors).toBe(before);
  });

  /** A random float32 input as a tfjs constant and its float64 reference copy. */
  function input(shape: number[], lo = -1, hi = 1): [tf.Tensor, Nd] {
    const data = rng.floats(ref.size(shape), lo, hi);
    return [ops.constant(data, shape), ref.nd(data, shape)];
  }

  test('add, sub, mul, div with broadcasting', () => {
    const [a, ra] = input([2, 3, 4]);
    const [b, rb] = input([3, 1]);
    const [c, rc] = input([4], 0.5, 2);
    expectNd(
      ops.add(a, b),
      ref.binary(ra, rb, (x, y) => x + y),
    );
    expectNd(
      ops.sub(b, a),
      ref.binary(rb, ra, (x, y) => x - y),
    );
    expectNd(
      ops.mul(a, c),
      ref.binary(ra, rc, (x, y) => x * y),
    );
    expectNd(
      ops.div(a, c),
      ref.binary(ra, rc, (x, y) => x / y),
    );
    expectNd(
      ops.add(a, ops.scalar(0.25)),
      ref.unary(ra, (x) => x + 0.25),
    );
  });

  test('element-wise unary ops', () => {
    const [x, rx] = input([3, 7], -3, 3);
    const [p, rp] = input([3, 7], 0.1, 4);
    expectNd(
      ops.neg(x),
      ref.unary(rx, (v) => -v),
    );
    expectNd(ops.exp(x), ref.unary(rx, Math.exp));
    expectNd(ops.log(p), ref.unary(rp, Math.log));
    expectNd(ops.sqrt(p), ref.unary(rp, Math.sqrt));
    expectNd(
      ops.rsqrt(p),
      ref.unary(rp, (v) => 1 / Math.sqrt(v)),
    );
    expectNd(
      ops.square(x),
      ref.unary(rx, (v) => v * v),
    );
    expectNd(
      ops.sigmoid(x),
      ref.unary(rx, (v) => 1 / (1 + Math.exp(-v))),
    );
    expectNd(
      ops.silu(x),
      ref.unary(rx, (v) => v / (1 + Math.exp(-v))),
    );
    expectNd(ops.tanh(x), ref.unary(rx, Math.tanh));
    expectNd(
      ops.relu(x),
      ref.unary(rx, (v) => Math.max(v, 0)),
    );
    expectNd(ops.sin(x), ref.unary(rx, Math.sin));
    expectNd(ops.cos(x), ref.unary(rx, Math.cos));
  });

  test('mean and sum with negative axes and keepDims', () => {
    const [x, rx] = input([2, 3, 5]);
    expectNd(ops.mean(x, [-1], true), ref.reduce(rx, [2], true, true));
    expectNd(ops.mean(x, [0, 2], false), ref.reduce(rx, [0, 2], false, true));
    expectNd(ops.sum(x, [1], false), ref.reduce(rx, [1], false, false));
    expectNd(ops.sum(x, [-3, -2], true), ref.reduce(rx, [0, 1], true, false));
    expect(() => ops.sum(x, [3], false)).toThrow(ShapeError);
  });

  test('reshape, transpose, concat, slice', () => {
    const [x, rx] = input([2, 3, 4]);
    const [y, ry] = input([2, 2, 4]);
    expectNd(ops.reshape(x, [6, -1]), { data: rx.data, shape: [6, 4] });
    expectNd(ops.transpose(x, [2, 0, 1]), ref.transpose(rx, [2, 0, 1]));
    expectNd(ops.transpose(x, [0, -1, -2]), ref.transpose(rx, [0, 2, 1]));
    expectNd(ops.concat([x, y], 1), ref.concat([rx, ry], 1));
    expectNd(ops.concat([x, y, x], -2), ref.concat([rx, ry, rx], 1));
    expectNd(ops.slice(x, 2, 1, 3), ref.slice(rx, 2, 1, 3));
    expectNd(ops.slice(x, -2, 1, -1), ref.slice(rx, 1, 1, 2));
    expectNd(ops.slice(x, 0, 1, 99), ref.slice(rx, 0, 1, 2));
    expect(() => ops.reshape(x, [5, -1])).toThrow(ShapeError);
  });

  test('matMul: 2-D, transposes, rank-3/4 with rank-2, batched and broadcast', () => {
    const [a, ra] = input([5, 8]);
    const [b, rb] = input([8, 3]);
    const [bt, rbt] = input([3, 8]);
    expectNd(ops.matMul(a, b), ref.matMul(ra, rb));
    expectNd(ops.matMul(a, bt, false, true), ref.matMul(ra, rbt, false, true));
    const [at, rat] = input([8, 5]);
    expectNd(ops.matMul(at, b, true, false), ref.matMul(rat, rb, true, false));
    const [x3, rx3] = input([2, 5, 8]);
    expectNd(ops.matMul(x3, b), ref.matMul(rx3, rb));
    expectNd(ops.matMul(x3, bt, false, true), ref.matMul(rx3, rbt, false, true));
    const [x4, rx4] = input([2, 3, 5, 8]);
    expectNd(ops.matMul(x4, bt, false, true), ref.matMul(rx4, rbt, false, true));
    const [k4, rk4] = input([2, 3, 7, 8]);
    expectNd(ops.matMul(x4, k4, false, true), ref.matMul(rx4, rk4, false, true));
    const [v4, rv4] = input([2, 3, 5, 6]);
    expectNd(ops.matMul(x4, v4, true, false), ref.matMul(rx4, rv4, true, false));
    const [bb, rbb] = input([1, 3, 8, 4]);
    expectNd(ops.matMul(x4, bb), ref.matMul(rx4, rbb));
    expectNd(ops.matMul(a, ops.reshape(bb, [3, 8, 4])), ref.matMul(ra, { data: rbb.data, shape: [3, 8, 4] }));
    expect(() => ops.matMul(a, a)).toThrow(ShapeError);
  });

  test('softmax over the last axis', () => {
    const [x, rx] = input([3, 4, 9], -4, 4);
    expectNd(ops.softmax(x), ref.softmax(rx));
  });

  test('gather on int32 indices of any shape', () => {
    const [table, rt] = input([7, 5]);
    const idx = Int32Array.from([3, 0, 6, 6, 2, 1]);
    expectNd(ops.gather(table, ops.constantInt(idx, [2, 3])), ref.gather(rt, idx, [2, 3]));
    expectNd(ops.gather(table, ops.constantInt(idx.subarray(0, 4), [4])), ref.gather(rt, idx.subarray(0, 4), [4]));
    expect(() => ops.gather(table, table)).toThrow(ShapeError);
  });

  test.each([
    { stride: 1, pads: [1, 1, 1, 1] as const, k: 3 },
    { stride: 2, pads: [0, 1, 1, 0] as const, k: 3 },
    { stride: 2, pads: [1, 0, 2, 1] as const, k: 4 },
    { stride: 1, pads: [0, 0, 0, 0] as const, k: 1 },
  ])('conv2d NCHW/OIHW stride $stride pads $pads kernel $k', ({ stride, pads, k }) => {
    const [x, rx] = input([2, 3, 7, 6]);
    const [w, rw] = input([4, 3, k, k]);
    const [b, rb] = input([4]);
    expectNd(ops.conv2d(x, w, b, { strides: stride, pads }), ref.conv2d(rx, rw, rb, stride, pads));
    expectNd(ops.conv2d(x, w, null, { strides: stride, pads }), ref.conv2d(rx, rw, null, stride, pads));
    // Training mode computes the convolution as patches·matMul (im2col); it must agree with the reference too.
    const trainOps = new TfjsOps({ engine: 'test', params: new Map(), training: true });
    expectNd(trainOps.conv2d(x, w, b, { strides: stride, pads }), ref.conv2d(rx, rw, rb, stride, pads));
  });

  test('upsampleNearest2x', () => {
    const [x, rx] = input([2, 3, 4, 5]);
    expectNd(ops.upsampleNearest2x(x), ref.upsample2x(rx));
  });

  test('dropout: identity in eval mode; seeded inverted dropout in training mode', () => {
    const [x, rx] = input([4, 50]);
    expect(ops.dropout(x, 0.3)).toBe(x);
    const rate = 0.3;
    const train = new TfjsOps({ engine: 'test', params: new Map(), training: true, rng: new TestRng(99) });
    const u = new TestRng(99).uniformsF32(200);
    const expected = ref.nd(
      rx.data.map((v, i) => (at(u, i) >= rate ? v / (1 - rate) : 0)),
      [4, 50],
    );
    expectNd(train.dropout(x, rate), expected);
    const noRng = new TfjsOps({ engine: 'test', params: new Map(), training: true });
    expect(() => noRng.dropout(x, 0.1)).toThrow(ConfigError);
    expect(() => train.dropout(x, 1)).toThrow(ConfigError);
  });

  test('param lookup and NotFoundError with similar names', () => {
    const w = tf.ones([2, 2]);
    const p = new TfjsOps({
      engine: 'test',
      params: new Map([
        ['blocks.0.attn.qkv.weight', w],
        ['blocks.0.mlp.fc1.weight', w],
      ]),
    });
    expect(p.hasParam('blocks.0.attn.qkv.weight')).toBe(true);
    expect(p.param('blocks.0.attn.qkv.weight')).toBe(w);
    expect(p.hasParam('nope')).toBe(false);
    expect(() => p.param('blocks.0.attn.qkv.wieght')).toThrow(NotFoundError);
    expect(() => p.param('blocks.0.attn.qkv.wieght')).toThrow(/Similar names: "blocks\.0\.attn\.qkv\.weight"/);
  });

  test('constant shape mismatches are ShapeErrors', () => {
    expect(() => ops.constant(new Float32Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => ops.constantInt(new Int32Array(5), [2, 3])).toThrow(ShapeError);
    const [x] = input([2, 3]);
    const [y] = input([4, 5]);
    expect(() => ops.add(x, y)).toThrow(/add failed on operands \[2, 3\] float32, \[4, 5\] float32/);
  });
});
