/**
 * Conformance cases for every op of the core `Ops` interface: element-wise (with broadcasting), reductions,
 * reshape/transpose/concat/slice, matMul variants, softmax, gather, conv2d, nearest upsampling, eval-mode dropout
 * and the constant/param ops. Most inputs have a dynamic batch dimension.
 */
import type { CpuTensor, Rng } from '@bigr/core';
import * as R from '../reference/index.js';
import { awayFromZero, feed, indices, normal, param, perBatch, uniform } from './caseHelpers.js';
import { graph, type ConformanceCase } from './types.js';

type Unary = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'sigmoid' | 'silu' | 'tanh' | 'relu' | 'sin' | 'cos';

/** Input distributions per unary op (kept inside each function's comfortable float32 domain). */
const UNARY_INPUTS: Record<Unary, (rng: Rng, shape: number[]) => CpuTensor> = {
  neg: (rng, s) => normal(rng, s, 3),
  exp: (rng, s) => uniform(rng, s, -6, 6),
  log: (rng, s) => uniform(rng, s, 0.01, 8),
  sqrt: (rng, s) => uniform(rng, s, 0, 9),
  rsqrt: (rng, s) => uniform(rng, s, 0.05, 9),
  square: (rng, s) => normal(rng, s, 3),
  sigmoid: (rng, s) => normal(rng, s, 6),
  silu: (rng, s) => normal(rng, s, 6),
  tanh: (rng, s) => normal(rng, s, 3),
  relu: (rng, s) => normal(rng, s, 3),
  sin: (rng, s) => uniform(rng, s, -7, 7),
  cos: (rng, s) => uniform(rng, s, -7, 7),
};

/** The float64 reference of each unary op, listed by name so the reference module is imported statically. */
const UNARY_REFERENCE: Record<Unary, (x: R.F64Array) => R.F64Array> = {
  neg: R.neg,
  exp: R.exp,
  log: R.log,
  sqrt: R.sqrt,
  rsqrt: R.rsqrt,
  square: R.square,
  sigmoid: R.sigmoid,
  silu: R.silu,
  tanh: R.tanh,
  relu: R.relu,
  sin: R.sin,
  cos: R.cos,
};

function unaryCase(op: Unary): ConformanceCase {
  return {
    name: `${op}`,
    group: 'elementwise',
    graph: graph(`conf_${op}`, [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 5] }], ['y'], (ops, x) => ({ y: ops[op](x['x']) })),
    setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: UNARY_INPUTS[op](rng, [b, 3, 5]) })) }),
    reference: (_p, f) => ({ y: UNARY_REFERENCE[op](feed(f, 'x')) }),
  };
}

type Binary = 'add' | 'sub' | 'mul' | 'div';

const BINARY_REFERENCE: Record<Binary, (a: R.F64Array, b: R.F64Array) => R.F64Array> = { add: R.add, sub: R.sub, mul: R.mul, div: R.div };

/**
 * A binary op under every broadcasting pattern: equal shapes, trailing vector, a lower-rank left operand, both
 * operands stretched (column × row), and float32 scalars on either side.
 */
function binaryCase(op: Binary): ConformanceCase {
  const draw = (rng: Rng, shape: number[]) => (op === 'div' ? awayFromZero(rng, shape) : normal(rng, shape, 2));
  return {
    name: `${op} (broadcasting)`,
    group: 'elementwise',
    graph: graph(
      `conf_${op}`,
      [
        { name: 'a', dtype: 'float32', shape: ['batch', 3, 4] },
        { name: 'b', dtype: 'float32', shape: ['batch', 3, 4] },
        { name: 'row', dtype: 'float32', shape: [4] },
        { name: 'col', dtype: 'float32', shape: [3, 1] },
      ],
      ['sameShape', 'trailingVector', 'lowerRankLeft', 'bothStretched', 'scalarRight', 'scalarLeft'],
      (ops, x) => ({
        sameShape: ops[op](x['a'], x['b']),
        trailingVector: ops[op](x['a'], x['row']),
        lowerRankLeft: ops[op](x['col'], x['a']),
        bothStretched: ops[op](x['col'], x['row']),
        scalarRight: ops[op](x['a'], ops.scalar(1.5)),
        scalarLeft: ops[op](ops.scalar(-0.75), x['b']),
      }),
    ),
    setup: (rng) => {
      const row = draw(rng, [4]);
      const col = draw(rng, [3, 1]);
      return { params: new Map(), feeds: perBatch((b) => ({ a: draw(rng, [b, 3, 4]), b: draw(rng, [b, 3, 4]), row, col })) };
    },
    reference: (_p, f) => {
      const [a, b, row, col] = [feed(f, 'a'), feed(f, 'b'), feed(f, 'row'), feed(f, 'col')];
      const s = (v: number): R.F64Array => R.f64([v], []);
      const reference = BINARY_REFERENCE[op];
      return {
        sameShape: reference(a, b),
        trailingVector: reference(a, row),
        lowerRankLeft: reference(col, a),
        bothStretched: reference(col, row),
        scalarRight: reference(a, s(1.5)),
        scalarLeft: reference(s(-0.75), b),
      };
    },
  };
}

function reductionCase(op: 'mean' | 'sum'): ConformanceCase {
  const variants: [string, number[], boolean][] = [
    ['lastKeep', [-1], true],
    ['middle', [1], false],
    ['twoKeep', [1, 3], true],
    ['negativeAxes', [-3, -1], false],
    ['batchAxis', [0], false],
    ['all', [0, 1, 2, 3], false],
  ];
  return {
    name: `${op} (axes, keepDims)`,
    group: 'reduction',
    graph: graph(
      `conf_${op}`,
      [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 4, 5] }],
      variants.map((v) => v[0]),
      (ops, x) => Object.fromEntries(variants.map(([name, axes, keep]) => [name, ops[op](x['x'], axes, keep)])),
    ),
    setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 3, 4, 5], 2) })) }),
    reference: (_p, f) => Object.fromEntries(variants.map(([name, axes, keep]) => [name, (op === 'mean' ? R.mean : R.sum)(feed(f, 'x'), axes, keep)])),
  };
}

const reshapeCase: ConformanceCase = {
  name: 'reshape (inferred -1, flatten, constant)',
  group: 'shape',
  graph: graph('conf_reshape', [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 4] }], ['rows', 'split', 'flat', 'const'], (ops, x) => ({
    rows: ops.reshape(x['x'], [-1, 12]),
    split: ops.reshape(x['x'], [-1, 2, 6]),
    flat: ops.reshape(x['x'], [-1]),
    const: ops.reshape(
      ops.constant(
        Float32Array.from({ length: 24 }, (_, i) => i / 7),
        [2, 3, 4],
      ),
      [4, -1],
    ),
  })),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 3, 4]) })) }),
  reference: (_p, f) => {
    const x = feed(f, 'x');
    const c = R.f64(
      Float32Array.from({ length: 24 }, (_, i) => i / 7),
      [2, 3, 4],
    );
    return { rows: R.reshape(x, [-1, 12]), split: R.reshape(x, [-1, 2, 6]), flat: R.reshape(x, [-1]), const: R.reshape(c, [4, -1]) };
  },
};

const TRANSPOSES: [string, number[]][] = [
  ['swapMiddle', [0, 2, 1, 3]],
  ['rotate', [3, 1, 0, 2]],
  ['negative', [-1, 0, -2, 1]],
  ['identity', [0, 1, 2, 3]],
];
const transposeCase: ConformanceCase = {
  name: 'transpose (rank 4, negative perm entries)',
  group: 'shape',
  graph: graph(
    'conf_transpose',
    [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 4, 5] }],
    TRANSPOSES.map((t) => t[0]),
    (ops, x) => Object.fromEntries(TRANSPOSES.map(([n, p]) => [n, ops.transpose(x['x'], p)])),
  ),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 3, 4, 5]) })) }),
  reference: (_p, f) => Object.fromEntries(TRANSPOSES.map(([n, p]) => [n, R.transpose(feed(f, 'x'), p)])),
};

const concatCase: ConformanceCase = {
  name: 'concat (middle, last, batch axis)',
  group: 'shape',
  graph: graph(
    'conf_concat',
    [
      { name: 'a', dtype: 'float32', shape: ['batch', 2, 3] },
      { name: 'b', dtype: 'float32', shape: ['batch', 4, 3] },
      { name: 'c', dtype: 'float32', shape: ['batch', 2, 5] },
    ],
    ['middle', 'last', 'batch', 'withConstant'],
    (ops, x) => ({
      middle: ops.concat([x['a'], x['b']], 1),
      last: ops.concat([x['a'], x['c'], x['a']], -1),
      batch: ops.concat([x['b'], x['b']], 0),
      withConstant: ops.concat([ops.constant(Float32Array.of(1, 2, 3, 4, 5, 6), [1, 2, 3]), ops.slice(x['a'], 0, 0, 1)], 1),
    }),
  ),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((n) => ({ a: normal(rng, [n, 2, 3]), b: normal(rng, [n, 4, 3]), c: normal(rng, [n, 2, 5]) })) }),
  reference: (_p, f) => {
    const [a, b, c] = [feed(f, 'a'), feed(f, 'b'), feed(f, 'c')];
    return {
      middle: R.concat([a, b], 1),
      last: R.concat([a, c, a], -1),
      batch: R.concat([b, b], 0),
      withConstant: R.concat([R.f64([1, 2, 3, 4, 5, 6], [1, 2, 3]), R.slice(a, 0, 0, 1)], 1),
    };
  },
};

const SLICES: [string, number, number, number][] = [
  ['inner', 1, 1, 4],
  ['negativeBounds', -1, -3, -1],
  ['clampedEnd', 2, 2, 100],
  ['batchAxis', 0, 0, 1],
  ['fullAxis', -2, 0, 6],
];
const sliceCase: ConformanceCase = {
  name: 'slice (negative and clamped bounds)',
  group: 'shape',
  graph: graph(
    'conf_slice',
    [{ name: 'x', dtype: 'float32', shape: ['batch', 6, 5] }],
    SLICES.map((s) => s[0]),
    (ops, x) => Object.fromEntries(SLICES.map(([n, axis, s, e]) => [n, ops.slice(x['x'], axis, s, e)])),
  ),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 6, 5]) })) }),
  reference: (_p, f) => Object.fromEntries(SLICES.map(([n, axis, s, e]) => [n, R.slice(feed(f, 'x'), axis, s, e)])),
};

const matMul2dCase: ConformanceCase = {
  name: 'matMul 2-D, all transpose combinations',
  group: 'matmul',
  graph: graph(
    'conf_matmul_2d',
    [
      { name: 'a', dtype: 'float32', shape: [3, 16] },
      { name: 'at', dtype: 'float32', shape: [16, 3] },
      { name: 'b', dtype: 'float32', shape: [16, 5] },
      { name: 'bt', dtype: 'float32', shape: [5, 16] },
    ],
    ['nn', 'tn', 'nt', 'tt'],
    (ops, x) => ({
      nn: ops.matMul(x['a'], x['b']),
      tn: ops.matMul(x['at'], x['b'], true, false),
      nt: ops.matMul(x['a'], x['bt'], false, true),
      tt: ops.matMul(x['at'], x['bt'], true, true),
    }),
  ),
  setup: (rng) => ({ params: new Map(), feeds: [{ a: normal(rng, [3, 16]), at: normal(rng, [16, 3]), b: normal(rng, [16, 5]), bt: normal(rng, [5, 16]) }] }),
  reference: (_p, f) => {
    const [a, at, b, bt] = ['a', 'at', 'b', 'bt'].map((n) => feed(f, n)) as [R.F64Array, R.F64Array, R.F64Array, R.F64Array];
    return { nn: R.matMul(a, b), tn: R.matMul(at, b, true, false), nt: R.matMul(a, bt, false, true), tt: R.matMul(at, bt, true, true) };
  },
};

const matMulBatchedCase: ConformanceCase = {
  name: 'matMul batched 3-D x 3-D with transposes',
  group: 'matmul',
  graph: graph(
    'conf_matmul_batched',
    [
      { name: 'a', dtype: 'float32', shape: ['batch', 3, 8] },
      { name: 'at', dtype: 'float32', shape: ['batch', 8, 3] },
      { name: 'b', dtype: 'float32', shape: ['batch', 8, 5] },
      { name: 'bt', dtype: 'float32', shape: ['batch', 5, 8] },
    ],
    ['nn', 'tn', 'nt', 'tt'],
    (ops, x) => ({
      nn: ops.matMul(x['a'], x['b']),
      tn: ops.matMul(x['at'], x['b'], true, false),
      nt: ops.matMul(x['a'], x['bt'], false, true),
      tt: ops.matMul(x['at'], x['bt'], true, true),
    }),
  ),
  setup: (rng) => ({
    params: new Map(),
    feeds: perBatch((n) => ({ a: normal(rng, [n, 3, 8]), at: normal(rng, [n, 8, 3]), b: normal(rng, [n, 8, 5]), bt: normal(rng, [n, 5, 8]) })),
  }),
  reference: (_p, f) => {
    const [a, at, b, bt] = ['a', 'at', 'b', 'bt'].map((n) => feed(f, n)) as [R.F64Array, R.F64Array, R.F64Array, R.F64Array];
    return { nn: R.matMul(a, b), tn: R.matMul(at, b, true, false), nt: R.matMul(a, bt, false, true), tt: R.matMul(at, bt, true, true) };
  },
};

const matMulParamCase: ConformanceCase = {
  name: 'matMul rank-3 x rank-2 parameter (linear-style transposeB, transposeA)',
  group: 'matmul',
  graph: graph(
    'conf_matmul_param',
    [
      { name: 'x', dtype: 'float32', shape: ['batch', 3, 8] },
      { name: 'xt', dtype: 'float32', shape: ['batch', 8, 3] },
    ],
    ['weightT', 'weight', 'transposeA', 'paramLeft'],
    (ops, x) => ({
      weightT: ops.matMul(x['x'], ops.param('w_out_in'), false, true),
      weight: ops.matMul(x['x'], ops.param('w_in_out')),
      transposeA: ops.matMul(x['xt'], ops.param('w_in_out'), true, false),
      paramLeft: ops.matMul(ops.param('w_out_in'), x['xt']),
    }),
  ),
  setup: (rng) => ({
    params: new Map([
      ['w_out_in', normal(rng, [5, 8])],
      ['w_in_out', normal(rng, [8, 5])],
    ]),
    feeds: perBatch((n) => ({ x: normal(rng, [n, 3, 8]), xt: normal(rng, [n, 8, 3]) })),
  }),
  reference: (p, f) => {
    const [x, xt, woi, wio] = [feed(f, 'x'), feed(f, 'xt'), param(p, 'w_out_in'), param(p, 'w_in_out')];
    return { weightT: R.matMul(x, woi, false, true), weight: R.matMul(x, wio), transposeA: R.matMul(xt, wio, true, false), paramLeft: R.matMul(woi, xt) };
  },
};

const matMulBroadcastCase: ConformanceCase = {
  name: 'matMul broadcasting one operand (rank 2 x 3, rank 4 x 3, rank 4 x 2)',
  group: 'matmul',
  graph: graph(
    'conf_matmul_broadcast',
    [
      { name: 'a2', dtype: 'float32', shape: [3, 6] },
      { name: 'c3', dtype: 'float32', shape: ['batch', 6, 5] },
      { name: 'a4', dtype: 'float32', shape: ['batch', 2, 3, 6] },
      { name: 'b3', dtype: 'float32', shape: [1, 6, 2] },
    ],
    ['rank2x3', 'rank4x3', 'rank4x3tt', 'rank4x2'],
    (ops, x) => ({
      rank2x3: ops.matMul(x['a2'], x['c3']),
      rank4x3: ops.matMul(x['a4'], x['b3']),
      rank4x3tt: ops.matMul(ops.transpose(x['a4'], [0, 1, 3, 2]), ops.transpose(x['b3'], [0, 2, 1]), true, true),
      rank4x2: ops.matMul(x['a4'], ops.reshape(x['b3'], [6, 2])),
    }),
  ),
  setup: (rng) => {
    const a2 = normal(rng, [3, 6]);
    const b3 = normal(rng, [1, 6, 2]);
    return { params: new Map(), feeds: perBatch((n) => ({ a2, c3: normal(rng, [n, 6, 5]), a4: normal(rng, [n, 2, 3, 6]), b3 })) };
  },
  reference: (_p, f) => {
    const [a2, c3, a4, b3] = ['a2', 'c3', 'a4', 'b3'].map((n) => feed(f, n)) as [R.F64Array, R.F64Array, R.F64Array, R.F64Array];
    return {
      rank2x3: R.matMul(a2, c3),
      rank4x3: R.matMul(a4, b3),
      rank4x3tt: R.matMul(R.transpose(a4, [0, 1, 3, 2]), R.transpose(b3, [0, 2, 1]), true, true),
      rank4x2: R.matMul(a4, R.reshape(b3, [6, 2])),
    };
  },
};

/** Name of the case where both operands' batch axes stretch (see ENGINE_CASE_LISTS for tfjs). */
export const MUTUAL_BROADCAST_MATMUL_CASE = 'matMul broadcasting both operands ([B, 1] x [4] batch axes)';

const matMulMutualBroadcastCase: ConformanceCase = {
  name: MUTUAL_BROADCAST_MATMUL_CASE,
  group: 'matmul',
  graph: graph(
    'conf_matmul_mutual_broadcast',
    [
      { name: 'a4', dtype: 'float32', shape: ['batch', 1, 3, 6] },
      { name: 'b3', dtype: 'float32', shape: [4, 6, 2] },
    ],
    ['plain', 'transposed'],
    (ops, x) => ({
      plain: ops.matMul(x['a4'], x['b3']),
      transposed: ops.matMul(ops.transpose(x['a4'], [0, 1, 3, 2]), ops.transpose(x['b3'], [0, 2, 1]), true, true),
    }),
  ),
  setup: (rng) => {
    const b3 = normal(rng, [4, 6, 2]);
    return { params: new Map(), feeds: perBatch((n) => ({ a4: normal(rng, [n, 1, 3, 6]), b3 })) };
  },
  reference: (_p, f) => {
    const [a4, b3] = [feed(f, 'a4'), feed(f, 'b3')];
    return { plain: R.matMul(a4, b3), transposed: R.matMul(R.transpose(a4, [0, 1, 3, 2]), R.transpose(b3, [0, 2, 1]), true, true) };
  },
};

const softmaxCase: ConformanceCase = {
  name: 'softmax (last axis, rank 3 and 4, shifted logits)',
  group: 'nn',
  graph: graph(
    'conf_softmax',
    [
      { name: 'x', dtype: 'float32', shape: ['batch', 3, 7] },
      { name: 'y', dtype: 'float32', shape: [2, 2, 3, 5] },
    ],
    ['rank3', 'shifted', 'rank4'],
    (ops, x) => ({ rank3: ops.softmax(x['x']), shifted: ops.softmax(ops.add(x['x'], ops.scalar(20))), rank4: ops.softmax(x['y']) }),
  ),
  setup: (rng) => {
    const y = normal(rng, [2, 2, 3, 5], 4);
    return { params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 3, 7], 3), y })) };
  },
  reference: (_p, f) => {
    const x = feed(f, 'x');
    return { rank3: R.softmax(x), shifted: R.softmax(R.add(x, R.f64([20], []))), rank4: R.softmax(feed(f, 'y')) };
  },
};

const CONST_IDX = Int32Array.of(0, 10, 3, 3, 7, 1);
const gatherCase: ConformanceCase = {
  name: 'gather (parameter table, int32 feed and constant indices)',
  group: 'nn',
  graph: graph('conf_gather', [{ name: 'idx', dtype: 'int32', shape: ['batch', 4] }], ['fed', 'constant', 'computedTable'], (ops, x) => ({
    fed: ops.gather(ops.param('table'), x['idx']),
    constant: ops.gather(ops.param('table'), ops.constantInt(CONST_IDX, [2, 3])),
    computedTable: ops.gather(ops.mul(ops.param('table'), ops.scalar(-2)), x['idx']),
  })),
  setup: (rng) => ({ params: new Map([['table', normal(rng, [11, 6])]]), feeds: perBatch((b) => ({ idx: indices(rng, [b, 4], 11) })) }),
  reference: (p, f) => {
    const table = param(p, 'table');
    const idx = feed(f, 'idx');
    return { fed: R.gather(table, idx), constant: R.gather(table, R.f64(CONST_IDX, [2, 3])), computedTable: R.gather(R.mul(table, R.f64([-2], [])), idx) };
  },
};

/** Convolutions: [name, weight shape, stride, pads [top, left, bottom, right], bias]. */
const CONVS: [string, [number, number, number, number], number, [number, number, number, number], boolean][] = [
  ['down3x3s2', [4, 3, 3, 3], 2, [0, 0, 1, 1], true],
  ['same3x3', [4, 3, 3, 3], 1, [1, 1, 1, 1], false],
  ['pointwise', [5, 3, 1, 1], 1, [0, 0, 0, 0], true],
  ['asymmetric4x2s2', [2, 3, 4, 2], 2, [2, 0, 1, 3], true],
];
const conv2dCase: ConformanceCase = {
  name: 'conv2d (stride 2, asymmetric pads, with/without bias)',
  group: 'nn',
  graph: graph(
    'conf_conv2d',
    [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 7, 6] }],
    CONVS.map((c) => c[0]),
    (ops, x) =>
      Object.fromEntries(
        CONVS.map(([n, , strides, pads, bias]) => [n, ops.conv2d(x['x'], ops.param(`${n}.weight`), bias ? ops.param(`${n}.bias`) : null, { strides, pads })]),
      ),
  ),
  setup: (rng) => {
    const params = new Map<string, CpuTensor>();
    for (const [n, shape, , , bias] of CONVS) {
      params.set(`${n}.weight`, normal(rng, shape, 1 / Math.sqrt(shape[1] * shape[2] * shape[3])));
      if (bias) params.set(`${n}.bias`, normal(rng, [shape[0]], 0.1));
    }
    return { params, feeds: perBatch((b) => ({ x: normal(rng, [b, 3, 7, 6]) })) };
  },
  reference: (p, f) =>
    Object.fromEntries(
      CONVS.map(([n, , strides, pads, bias]) => [n, R.conv2d(feed(f, 'x'), param(p, `${n}.weight`), bias ? param(p, `${n}.bias`) : null, { strides, pads })]),
    ),
};

const upsampleCase: ConformanceCase = {
  name: 'upsampleNearest2x',
  group: 'nn',
  graph: graph('conf_upsample', [{ name: 'x', dtype: 'float32', shape: ['batch', 2, 3, 4] }], ['once', 'twice'], (ops, x) => ({
    once: ops.upsampleNearest2x(x['x']),
    twice: ops.upsampleNearest2x(ops.upsampleNearest2x(x['x'])),
  })),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 2, 3, 4]) })) }),
  reference: (_p, f) => ({ once: R.upsampleNearest2x(feed(f, 'x')), twice: R.upsampleNearest2x(R.upsampleNearest2x(feed(f, 'x'))) }),
};

const dropoutCase: ConformanceCase = {
  name: 'dropout in eval mode is the identity',
  group: 'nn',
  graph: graph('conf_dropout', [{ name: 'x', dtype: 'float32', shape: ['batch', 5] }], ['half', 'zero', 'inside'], (ops, x) => ({
    half: ops.dropout(x['x'], 0.5),
    zero: ops.dropout(x['x'], 0),
    inside: ops.mul(ops.dropout(ops.tanh(x['x']), 0.9), ops.scalar(2)),
  })),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: normal(rng, [b, 5]) })) }),
  reference: (_p, f) => {
    const x = feed(f, 'x');
    return { half: R.dropoutEval(x, 0.5), zero: R.dropoutEval(x, 0), inside: R.mul(R.dropoutEval(R.tanh(x), 0.9), R.f64([2], [])) };
  },
};

const CONST_DATA = Float32Array.of(0.5, -1.25, 2, 0.125, -3);
const constantsCase: ConformanceCase = {
  name: 'constant, scalar, param and hasParam',
  group: 'nn',
  graph: graph('conf_constants', [{ name: 'x', dtype: 'float32', shape: ['batch', 5] }], ['affine', 'optional'], (ops, x) => {
    // hasParam decides the graph structure: 'present' exists, 'absent' does not.
    let optional = x['x'];
    for (const n of ['present', 'absent']) optional = ops.hasParam(n) ? ops.add(optional, ops.param(n)) : ops.sub(optional, ops.scalar(1));
    return { affine: ops.add(ops.mul(x['x'], ops.constant(CONST_DATA, [5])), ops.scalar(0.25)), optional };
  }),
  setup: (rng) => ({ params: new Map([['present', normal(rng, [1, 5])]]), feeds: perBatch((b) => ({ x: normal(rng, [b, 5]) })) }),
  reference: (p, f) => {
    const x = feed(f, 'x');
    return {
      affine: R.add(R.mul(x, R.f64(CONST_DATA, [5])), R.f64([0.25], [])),
      optional: R.sub(R.add(x, param(p, 'present')), R.f64([1], [])),
    };
  },
};

/** Every op-level case. */
export const OP_CASES: readonly ConformanceCase[] = [
  ...(['add', 'sub', 'mul', 'div'] as const).map(binaryCase),
  ...(['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'square', 'sigmoid', 'silu', 'tanh', 'relu', 'sin', 'cos'] as const).map(unaryCase),
  reductionCase('mean'),
  reductionCase('sum'),
  reshapeCase,
  transposeCase,
  concatCase,
  sliceCase,
  matMul2dCase,
  matMulBatchedCase,
  matMulParamCase,
  matMulBroadcastCase,
  matMulMutualBroadcastCase,
  softmaxCase,
  gatherCase,
  conv2dCase,
  upsampleCase,
  dropoutCase,
  constantsCase,
];
