/**
 * Forward conformance cases for the primitives that reverse-mode autodiff needs (abs, maximum, step, stopGradient,
 * broadcastTo, scatterAddRows and the two convolution gradients): every engine must compute them like the float64
 * reference, since the backward graphs are made of them. Their gradients are checked in `gradients.test.ts`.
 */
import { required } from '@bigr/core';
import * as R from '../reference/index.js';
import { awayFromZero, feed, indices, normal, param, perBatch } from './caseHelpers.js';
import { graph, type ConformanceCase } from './types.js';

const elementwise: ConformanceCase = {
  name: 'abs, maximum, step, stopGradient (broadcasting)',
  group: 'elementwise',
  graph: graph(
    'conf_primitives',
    [
      { name: 'a', dtype: 'float32', shape: ['batch', 3, 4] },
      { name: 'row', dtype: 'float32', shape: [4] },
    ],
    ['abs', 'maximum', 'maximumScalar', 'step', 'stopGradient'],
    (ops, x) => ({
      abs: ops.abs(x['a']),
      maximum: ops.maximum(x['a'], x['row']),
      maximumScalar: ops.maximum(ops.scalar(0.25), x['a']),
      step: ops.step(x['a']),
      stopGradient: ops.add(ops.stopGradient(x['a']), ops.scalar(0)),
    }),
  ),
  setup: (rng) => {
    const row = awayFromZero(rng, [4]);
    return { params: new Map(), feeds: perBatch((b) => ({ a: awayFromZero(rng, [b, 3, 4]), row })) };
  },
  reference: (_p, f) => {
    const a = feed(f, 'a');
    return {
      abs: R.abs(a),
      maximum: R.maximum(a, feed(f, 'row')),
      maximumScalar: R.maximum(R.f64([0.25], []), a),
      step: R.step(a),
      stopGradient: a,
    };
  },
};

const broadcast: ConformanceCase = {
  name: 'broadcastTo (new leading axes and stretched unit axes)',
  group: 'shape',
  graph: graph('conf_broadcast_to', [{ name: 'col', dtype: 'float32', shape: [3, 1] }], ['y', 'scalar'], (ops, x) => ({
    y: ops.broadcastTo(x['col'], [2, 3, 4]),
    scalar: ops.broadcastTo(ops.scalar(1.5), [2, 2]),
  })),
  setup: (rng) => ({ params: new Map(), feeds: [{ col: normal(rng, [3, 1]) }] }),
  reference: (_p, f) => ({ y: R.broadcastTo(feed(f, 'col'), [2, 3, 4]), scalar: R.broadcastTo(R.f64([1.5], []), [2, 2]) }),
};

const scatter: ConformanceCase = {
  name: 'scatterAddRows (repeated indices add up)',
  group: 'nn',
  graph: graph(
    'conf_scatter_add_rows',
    [
      { name: 'updates', dtype: 'float32', shape: [2, 5, 3] },
      { name: 'idx', dtype: 'int32', shape: [2, 5] },
    ],
    ['table'],
    (ops, x) => ({ table: ops.scatterAddRows(x['updates'], x['idx'], 4) }),
  ),
  setup: (rng) => ({ params: new Map(), feeds: [{ updates: normal(rng, [2, 5, 3]), idx: indices(rng, [2, 5], 4) }] }),
  reference: (_p, f) => ({ table: R.scatterAddRows(feed(f, 'updates'), feed(f, 'idx'), 4) }),
};

/** name, weight [O, C, kH, kW], strides, pads — input [2, 3, 7, 6]. */
const CONV_GRADS: readonly [string, readonly [number, number, number, number], number, readonly [number, number, number, number]][] = [
  ['k3s1p1', [4, 3, 3, 3], 1, [1, 1, 1, 1]],
  ['k3s2asym', [4, 3, 3, 3], 2, [0, 0, 1, 1]],
  ['k1s1', [5, 3, 1, 1], 1, [0, 0, 0, 0]],
  ['k4s2p1', [2, 3, 4, 4], 2, [1, 1, 1, 1]],
];
const CONV_IN = [2, 3, 7, 6] as const;

function convOut(w: readonly [number, number, number, number], s: number, pads: readonly [number, number, number, number]): number[] {
  const [o, , kh, kw] = w;
  const [top, left, bottom, right] = pads;
  return [CONV_IN[0], o, Math.floor((CONV_IN[2] + top + bottom - kh) / s) + 1, Math.floor((CONV_IN[3] + left + right - kw) / s) + 1];
}

const convGrads: ConformanceCase = {
  name: 'conv2dInputGrad and conv2dWeightGrad (strides 1 and 2, asymmetric pads, 1×1)',
  group: 'nn',
  graph: graph(
    'conf_conv_grads',
    [
      { name: 'x', dtype: 'float32', shape: [...CONV_IN] },
      ...CONV_GRADS.map(([n, w, s, p]) => ({ name: `dy_${n}`, dtype: 'float32' as const, shape: convOut(w, s, p) })),
    ],
    CONV_GRADS.flatMap(([n]) => [`dx_${n}`, `dw_${n}`]),
    (ops, x) =>
      Object.fromEntries(
        CONV_GRADS.flatMap(([n, w, strides, pads]) => {
          const shapes = { input: CONV_IN, weight: w };
          return [
            [`dx_${n}`, ops.conv2dInputGrad(required(x[`dy_${n}`], `input dy_${n}`), ops.param(`${n}.weight`), shapes, { strides, pads })],
            [`dw_${n}`, ops.conv2dWeightGrad(required(x['x'], 'input x'), required(x[`dy_${n}`], `input dy_${n}`), shapes, { strides, pads })],
          ];
        }),
      ),
  ),
  setup: (rng) => ({
    params: new Map(CONV_GRADS.map(([n, w]) => [`${n}.weight`, normal(rng, w, 0.5)])),
    feeds: [{ x: normal(rng, CONV_IN), ...Object.fromEntries(CONV_GRADS.map(([n, w, s, p]) => [`dy_${n}`, normal(rng, convOut(w, s, p))])) }],
  }),
  reference: (p, f) =>
    Object.fromEntries(
      CONV_GRADS.flatMap(([n, w, strides, pads]) => [
        [`dx_${n}`, R.conv2dInputGrad(feed(f, `dy_${n}`), param(p, `${n}.weight`), CONV_IN, { strides, pads })],
        [`dw_${n}`, R.conv2dWeightGrad(feed(f, 'x'), feed(f, `dy_${n}`), w, { strides, pads })],
      ]),
    ),
};

/** The autodiff primitives' forward cases. */
export const PRIMITIVE_CASES: readonly ConformanceCase[] = [elementwise, broadcast, scatter, convGrads];
