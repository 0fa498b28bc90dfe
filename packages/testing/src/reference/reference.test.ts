import { CpuTensor, linear, required } from '@bigr/core';
import { expectClose } from '../expectClose.js';
import * as R from './index.js';

// Closed-form checks of the float64 references themselves (hand-computed values and exact identities).
const a = (data: number[], shape: number[]): R.F64Array => R.f64(data, shape);
const close = (x: R.F64Array, data: number[], shape: number[], what: string): void => {
  expect(x.shape).toEqual(shape);
  expectClose(x.data, data, { rtol: 1e-14, atol: 1e-14, what });
};

test('broadcasting element-wise ops', () => {
  close(R.add(a([1, 2], [2, 1]), a([10, 20, 30], [3])), [11, 21, 31, 12, 22, 32], [2, 3], 'col + row');
  close(R.div(a([1], []), a([2, 4], [2])), [0.5, 0.25], [2], 'scalar / vector');
  close(R.sigmoid(a([0, -800, 800], [3])), [0.5, 0, 1], [3], 'sigmoid without overflow');
  expect(() => R.add(a([1, 2], [2]), a([1, 2, 3], [3]))).toThrow(/incompatible/);
});

test('reductions', () => {
  const x = a([0, 1, 2, 3, 4, 5], [2, 3]);
  close(R.sum(x, [0], false), [3, 5, 7], [3], 'sum axis 0');
  close(R.mean(x, [-1], true), [1, 4], [2, 1], 'mean last keep');
  close(R.sum(x, [0, 1], false), [15], [], 'sum all');
});

test('shape ops', () => {
  const x = a([0, 1, 2, 3, 4, 5], [2, 3]);
  close(R.transpose(x, [1, 0]), [0, 3, 1, 4, 2, 5], [3, 2], 'transpose');
  const y = R.f64(
    Array.from({ length: 24 }, (_, i) => i),
    [2, 3, 4],
  );
  const t = R.transpose(y, [2, 0, 1]); // t[k, i, j] = y[i, j, k] = 12i + 4j + k
  expect(t.shape).toEqual([4, 2, 3]);
  expect(t.data[3 * 6 + 1 * 3 + 2]).toBe(12 + 8 + 3);
  close(R.reshape(x, [-1, 2]), [0, 1, 2, 3, 4, 5], [3, 2], 'reshape');
  close(R.concat([x, a([9, 9], [2, 1])], -1), [0, 1, 2, 9, 3, 4, 5, 9], [2, 4], 'concat');
  const v = a([0, 1, 2, 3, 4, 5], [6]);
  close(R.slice(v, 0, -3, -1), [3, 4], [2], 'negative bounds');
  close(R.slice(v, 0, 4, 100), [4, 5], [2], 'clamped end');
  close(R.slice(v, 0, 5, 2), [], [0], 'empty');
});

test('matMul with transposes and batch broadcasting', () => {
  const A = a([1, 2, 3, 4], [2, 2]);
  const B = a([5, 6, 7, 8], [2, 2]);
  close(R.matMul(A, B), [19, 22, 43, 50], [2, 2], 'A·B');
  close(R.matMul(A, B, true, false), [26, 30, 38, 44], [2, 2], 'Aᵀ·B');
  close(R.matMul(A, B, false, true), [17, 23, 39, 53], [2, 2], 'A·Bᵀ');
  // [2, 1] × [3] batch axes → [2, 3]; block (i, j) is A_i · B_j.
  const As = R.f64(
    Array.from({ length: 8 }, (_, i) => i + 1),
    [2, 1, 2, 2],
  );
  const Bs = R.f64(
    Array.from({ length: 12 }, (_, i) => (i % 5) - 2),
    [3, 2, 2],
  );
  const out = R.matMul(As, Bs);
  expect(out.shape).toEqual([2, 3, 2, 2]);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 3; j++) {
      const block = R.matMul(R.f64(As.data.subarray(4 * i, 4 * i + 4), [2, 2]), R.f64(Bs.data.subarray(4 * j, 4 * j + 4), [2, 2]));
      expect([...out.data.subarray((i * 3 + j) * 4, (i * 3 + j) * 4 + 4)]).toEqual([...block.data]);
    }
});

test('softmax, gather, upsample, dropout', () => {
  close(R.softmax(a([0, Math.log(2), Math.log(3)], [1, 3])), [1 / 6, 2 / 6, 3 / 6], [1, 3], 'softmax');
  close(R.softmax(a([1000, 1000], [2])), [0.5, 0.5], [2], 'softmax of large logits');
  close(R.gather(a([1, 2, 3, 4, 5, 6], [3, 2]), a([2, 0], [2])), [5, 6, 1, 2], [2, 2], 'gather');
  close(R.upsampleNearest2x(a([1, 2], [1, 1, 1, 2])), [1, 1, 2, 2, 1, 1, 2, 2], [1, 1, 2, 4], 'upsample');
  close(R.dropoutEval(a([1, -2], [2]), 0.5), [1, -2], [2], 'dropout eval');
});

test('conv2d with asymmetric pads and stride 2 (hand-computed)', () => {
  // 3×3 ones, 2×2 ones kernel, pads [top 1, left 0, bottom 0, right 1], stride 2 → 2×2 output counting valid taps.
  const out = R.conv2d(R.f64(new Array(9).fill(1), [1, 1, 3, 3]), R.f64([1, 1, 1, 1], [1, 1, 2, 2]), null, { strides: 2, pads: [1, 0, 0, 1] });
  close(out, [2, 1, 4, 2], [1, 1, 2, 2], 'conv2d');
  const biased = R.conv2d(R.f64([1, 2, 3, 4], [1, 1, 2, 2]), R.f64([2, -1], [2, 1, 1, 1]), R.f64([0.5, 0], [2]), { strides: 1, pads: [0, 0, 0, 0] });
  close(biased, [2.5, 4.5, 6.5, 8.5, -1, -2, -3, -4], [1, 2, 2, 2], '1×1 conv with bias');
});

test('layers: linear, norms, softplus, BCE', () => {
  close(R.linear(a([1, 2], [1, 2]), a([1, 0, 1, 1], [2, 2]), a([0.5, -1], [2])), [1.5, 2], [1, 2], 'linear');
  const n = Math.sqrt(12.5);
  close(R.rmsNorm(a([3, 4], [1, 2]), null, 0), [3 / n, 4 / n], [1, 2], 'rmsNorm');
  close(R.layerNorm(a([1, 3], [1, 2]), a([2, 2], [2]), a([0, 1], [2]), 0), [-2, 3], [1, 2], 'layerNorm');
  const g = R.groupNorm(R.f64([1, 3, 5, 7, 0, 0, 2, 2], [1, 2, 2, 2]), a([1, 1], [2]), a([0, 0], [2]), 2, 0);
  close(g, [-3, -1, 1, 3].map((v) => v / Math.sqrt(5)).concat([-1, -1, 1, 1]), [1, 2, 2, 2], 'groupNorm');
  close(R.softplus(a([0, 50, -50], [3])), [Math.LN2, 50, Math.exp(-50)], [3], 'softplus');
  close(R.bceWithLogits(a([0, 30, 30], [3]), a([0.3, 1, 0], [3])), [Math.LN2, Math.log1p(Math.exp(-30)), 30 + Math.log1p(Math.exp(-30))], [3], 'bce');
});

test('2-D RoPE tables follow docs/algorithm.md §2.5', () => {
  const { cos, sin } = R.rope2dTables(3, 8);
  expect(cos.shape).toEqual([10, 4]);
  expect([...cos.data.subarray(0, 4), ...sin.data.subarray(0, 4)]).toEqual(new Array(8).fill(0)); // class token row
  const t = 1 + 2 * 3 + 1; // row 2, col 1; θ = [1, 0.01]
  expectClose(cos.data.subarray(t * 4, t * 4 + 4), [Math.cos(2), Math.cos(0.02), Math.cos(1), Math.cos(0.01)], { rtol: 1e-15, atol: 1e-15 });
  expectClose(sin.data.subarray(t * 4, t * 4 + 4), [Math.sin(2), Math.sin(0.02), Math.sin(1), Math.sin(0.01)], { rtol: 1e-15, atol: 1e-15 });
});

test('llama block: zero q/k attention averages values (closed form)', () => {
  // D = 4, 2 heads; all RoPE rows zero (q = k = 0) → uniform attention. W_v = W_o = I, W2 = 0, no adaLN:
  // out_t = x_t + mean_s(RMSNorm(x_s)).
  const D = 4;
  const L = 3;
  const eye = (n: number): number[] => Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  const wqkv = R.f64([...new Array(2 * D * D).fill(0.3), ...eye(D)], [3 * D, D]);
  const x = R.f64([1, 2, 3, 4, -1, 0.5, 2, 0, 3, -2, 1, 1], [1, L, D]);
  const w: R.LlamaBlockWeights = {
    attentionNorm: R.f64(new Array(D).fill(1), [D]),
    wqkv,
    wo: R.f64(eye(D), [D, D]),
    ffnNorm: R.f64(new Array(D).fill(1), [D]),
    w1: R.f64(new Array(2 * D * D).fill(0.1), [2 * D, D]),
    w3: R.f64(new Array(2 * D * D).fill(0.2), [2 * D, D]),
    w2: R.zeros([D, 2 * D]),
  };
  const zeros = R.zeros([L, 1]);
  const out = R.llamaBlock(x, w, { heads: 2, eps: 0, cos: zeros, sin: zeros, modulation: null });
  const normed = R.rmsNorm(x, null, 0);
  const mean = R.mean(normed, [1], true);
  close(out, [...R.add(x, mean).data], [1, L, D], 'llama block closed form');
});

test('llama block: zero adaLN gates make the block the identity', () => {
  const D = 4;
  const rnd = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + k));
  const w: R.LlamaBlockWeights = {
    attentionNorm: R.f64(rnd(D, 1), [D]),
    wqkv: R.f64(rnd(3 * D * D, 2), [3 * D, D]),
    wo: R.f64(rnd(D * D, 3), [D, D]),
    ffnNorm: R.f64(rnd(D, 4), [D]),
    w1: R.f64(rnd(8 * D, 5), [8, D]),
    w3: R.f64(rnd(8 * D, 6), [8, D]),
    w2: R.f64(rnd(8 * D, 7), [D, 8]),
  };
  // Shared modulation: rows 2 and 5 (gates) zero, others arbitrary.
  const mod = R.f64(
    Array.from({ length: 2 * 6 * D }, (_, i) => (Math.floor(i / D) % 6 === 2 || Math.floor(i / D) % 6 === 5 ? 0 : Math.cos(i))),
    [2, 6, D],
  );
  const { cos, sin } = R.rope2dTables(1, 4);
  const x = R.f64(rnd(2 * 2 * D, 8), [2, 2, D]);
  close(R.llamaBlock(x, w, { heads: 1, eps: 1e-5, cos, sin, modulation: mod }), [...x.data], [2, 2, D], 'gated-off block');
});

test('adaLN MLP block closed form', () => {
  // adaLN weight 0, bias → shift 0, scale 0, gate 1; fc1 = fc2 = I, zero biases: out = a + silu(LN(a)).
  const D = 2;
  const eye = [1, 0, 0, 1];
  const w: R.AdaLnMlpBlockWeights = {
    adaWeight: R.zeros([3 * D, D]),
    adaBias: R.f64([0, 0, 0, 0, 1, 1], [3 * D]),
    fc1Weight: R.f64(eye, [D, D]),
    fc1Bias: R.zeros([D]),
    fc2Weight: R.f64(eye, [D, D]),
    fc2Bias: R.zeros([D]),
  };
  const x = R.f64([1, 3], [1, 2]);
  const ln = 1 / Math.sqrt(1 + 1e-6); // LN([1, 3]) = [-1, 1]/√(1 + eps)
  const silu = (v: number): number => v / (1 + Math.exp(-v));
  close(R.adaLnMlpBlock(x, R.f64([5, -5], [1, 2]), w), [1 + silu(-ln), 3 + silu(ln)], [1, 2], 'adaLN MLP block');
});

test('Float64Ops evaluates a graph with core layers like the naive reference', () => {
  const params = new Map([
    ['fc.weight', new CpuTensor(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3])],
    ['fc.bias', new CpuTensor(Float32Array.of(0.5, -0.5), [2])],
  ]);
  const x = new CpuTensor(Float32Array.of(1, 0, -1, 2, 2, 2), [2, 3]);
  const { outputs, opsCalled } = R.runReferenceGraph(
    {
      name: 'lin',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['b', 3] }],
      outputs: ['y'],
      build: (ops, i) => ({ y: linear(ops, required(i['x'], 'input x'), 'fc') }),
    },
    params,
    { x },
  );
  close(required(outputs['y'], 'output y'), [-1.5, -2.5, 12.5, 29.5], [2, 2], 'Float64Ops linear');
  expect([...opsCalled].sort()).toEqual(['add', 'matMul', 'param']);
});
