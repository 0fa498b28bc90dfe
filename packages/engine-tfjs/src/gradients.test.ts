import * as tf from '@tensorflow/tfjs';
import { CpuTensor, at, getOrThrow, linear, required, rmsNorm, type LossFunction, type NamedTensors, type Ops } from '@bigr/core';
import { createTfjsEngine, type TfjsEngine } from './tfjsEngine.js';
import { TestRng } from './test/testRng.js';
import * as ref from './test/reference.js';
import type { Nd } from './test/reference.js';

/**
 * Gradient checks: tfjs gradients (float32) of composite losses against central finite differences of an
 * independent float64 implementation of the same loss, evaluated at the same (float32-representable) point.
 */

type ParamSpec = Record<string, { shape: number[]; lo?: number; hi?: number }>;

interface GradCase {
  name: string;
  params: ParamSpec;
  /** The loss written against the op interface (what the engine differentiates). */
  loss: (consts: Record<string, Float32Array>) => LossFunction;
  /** The same loss in float64. */
  reference: (p: Record<string, Nd>, consts: Record<string, Float32Array>) => number;
  /** Constant inputs (float32), shared by both implementations. */
  consts: Record<string, number[]>;
  /** Seed of the Rng handed to gradients() (drives dropout). */
  seed?: number;
}

const GRAD_TOL = 1e-5;

/** The entry `key` of a case's parameters or constants (each case names only keys it declares). */
function entry<V>(record: Readonly<Record<string, V>>, key: string): V {
  return required(record[key], `"${key}"`);
}

function centralDifferences(reference: (p: Record<string, Nd>) => number, point: Record<string, Nd>): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, nd] of Object.entries(point)) {
    const g = new Float64Array(nd.data.length);
    for (const [i, v] of nd.data.entries()) {
      const h = 1e-6 * Math.max(1, Math.abs(v));
      nd.data[i] = v + h;
      const up = reference(point);
      nd.data[i] = v - h;
      const down = reference(point);
      nd.data[i] = v;
      g[i] = (up - down) / (2 * h);
    }
    out.set(name, g);
  }
  return out;
}

// ---- float64 building blocks for the references ----
const sig = (v: number): number => 1 / (1 + Math.exp(-v));
const dot = (a: Nd, b: ArrayLike<number>): number => a.data.reduce((s, v, i) => s + v * at(b, i), 0);
function refLinear(x: Nd, w: Nd, b: Nd): Nd {
  const y = ref.matMul(x, w, false, true);
  return ref.binary(y, b, (p, q) => p + q);
}
function refRmsNorm(x: Nd, w: Nd, eps: number): Nd {
  const ms = ref.reduce(
    ref.unary(x, (v) => v * v),
    [x.shape.length - 1],
    true,
    true,
  );
  const y = ref.binary(x, ms, (v, m) => v / Math.sqrt(m + eps));
  return ref.binary(y, w, (p, q) => p * q);
}

const B = 2;
const S = 3;
const D = 4;
const H = 5;
const DROPOUT = 0.25;

const cases: GradCase[] = [
  {
    name: 'linear + silu + dropout + rmsNorm (rank-3 input, core layers)',
    params: { 'fc.weight': { shape: [H, D] }, 'fc.bias': { shape: [H] }, 'norm.weight': { shape: [H], lo: 0.5, hi: 1.5 } },
    consts: { x: [B, S, D], target: [B, S, H] },
    seed: 7,
    loss:
      (c) =>
      <T>(ops: Ops<T>) => {
        const x = ops.constant(entry(c, 'x'), [B, S, D]);
        const h = ops.dropout(ops.silu(linear(ops, x, 'fc')), DROPOUT);
        const y = rmsNorm(ops, h, ops.param('norm.weight'), 1e-5);
        const loss = ops.sum(ops.mul(y, ops.constant(entry(c, 'target'), [B, S, H])), [0, 1, 2], false);
        return { loss, metrics: { meanSquare: ops.mean(ops.square(y), [0, 1, 2], false) } };
      },
    reference: (p, c) => {
      const x = ref.nd(entry(c, 'x'), [B, S, D]);
      const u = new TestRng(7).uniformsF32(B * S * H);
      const h = ref.unary(refLinear(x, entry(p, 'fc.weight'), entry(p, 'fc.bias')), (v) => v * sig(v));
      const dropped = ref.nd(
        h.data.map((v, i) => (at(u, i) >= DROPOUT ? v / (1 - DROPOUT) : 0)),
        h.shape,
      );
      return dot(refRmsNorm(dropped, entry(p, 'norm.weight'), 1e-5), entry(c, 'target'));
    },
  },
  {
    name: 'conv2d weight, bias and input gradients (Conv2DBackpropFilter/Input)',
    params: { 'conv.weight': { shape: [3, 2, 3, 3] }, 'conv.bias': { shape: [3] }, img: { shape: [2, 2, 5, 6] } },
    consts: { target: [2, 3, 3, 3] },
    loss:
      (c) =>
      <T>(ops: Ops<T>) => {
        const y = ops.conv2d(ops.param('img'), ops.param('conv.weight'), ops.param('conv.bias'), { strides: 2, pads: [1, 0, 1, 1] });
        return { loss: ops.sum(ops.mul(ops.tanh(y), ops.constant(entry(c, 'target'), [2, 3, 3, 3])), [0, 1, 2, 3], false) };
      },
    reference: (p, c) => {
      const y = ref.conv2d(entry(p, 'img'), entry(p, 'conv.weight'), entry(p, 'conv.bias'), 2, [1, 0, 1, 1]);
      return dot(ref.unary(y, Math.tanh), entry(c, 'target'));
    },
  },
  {
    name: 'gather with repeated indices (UnsortedSegmentSum)',
    params: { emb: { shape: [6, 3] } },
    consts: { target: [2, 4, 3] },
    loss:
      (c) =>
      <T>(ops: Ops<T>) => {
        const idx = ops.constantInt(Int32Array.from([1, 4, 4, 0, 5, 1, 1, 3]), [2, 4]);
        const g = ops.gather(ops.param('emb'), idx);
        return { loss: ops.sum(ops.mul(ops.tanh(g), ops.constant(entry(c, 'target'), [2, 4, 3])), [0, 1, 2], false) };
      },
    reference: (p, c) => {
      const g = ref.gather(entry(p, 'emb'), Int32Array.from([1, 4, 4, 0, 5, 1, 1, 3]), [2, 4]);
      return dot(ref.unary(g, Math.tanh), entry(c, 'target'));
    },
  },
  {
    name: 'batched matMul (transposeB) + softmax + upsampleNearest2x + slice/concat',
    params: { q: { shape: [2, 3, 4] }, k: { shape: [2, 3, 4] } },
    consts: { target: [1, 2, 6, 6] },
    loss:
      (c) =>
      <T>(ops: Ops<T>) => {
        const att = ops.softmax(ops.matMul(ops.param('q'), ops.param('k'), false, true));
        const swapped = ops.concat([ops.slice(att, 2, 1, 3), ops.slice(att, 2, 0, 1)], -1);
        const up = ops.upsampleNearest2x(ops.reshape(swapped, [1, 2, 3, 3]));
        return { loss: ops.sum(ops.mul(up, ops.constant(entry(c, 'target'), [1, 2, 6, 6])), [0, 1, 2, 3], false) };
      },
    reference: (p, c) => {
      const att = ref.softmax(ref.matMul(entry(p, 'q'), entry(p, 'k'), false, true));
      const swapped = ref.concat([ref.slice(att, 2, 1, 3), ref.slice(att, 2, 0, 1)], 2);
      const up = ref.upsample2x({ data: swapped.data, shape: [1, 2, 3, 3] });
      return dot(up, entry(c, 'target'));
    },
  },
];

describe.each(['wasm', 'cpu'] as const)('gradients on tfjs-%s vs float64 central differences', (kind) => {
  let engine: TfjsEngine;
  beforeAll(async () => {
    engine = await createTfjsEngine(kind);
  });

  test.each(cases)('$name', async (c) => {
    const rng = new TestRng(42);
    const params: NamedTensors = new Map();
    const point: Record<string, Nd> = {};
    for (const [name, spec] of Object.entries(c.params)) {
      const data = rng.floats(ref.size(spec.shape), spec.lo ?? -1, spec.hi ?? 1);
      params.set(name, new CpuTensor(data, spec.shape));
      point[name] = ref.nd(data, spec.shape);
    }
    const consts: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(c.consts)) consts[name] = rng.floats(ref.size(shape));

    const before = tf.memory().numTensors;
    const trainable = await engine.createTrainable(params);
    const result = await trainable.gradients(c.loss(consts), new TestRng(c.seed ?? 0));
    trainable.dispose();
    expect(tf.memory().numTensors).toBe(before);

    expect(ref.worstRatio([result.loss], [c.reference(point, consts)], 1e-5)).toBeLessThanOrEqual(1);
    const fd = centralDifferences((p) => c.reference(p, consts), point);
    for (const [name, expected] of fd) {
      const got = getOrThrow(result.grads, name, 'gradient');
      expect(got).toBeInstanceOf(Float32Array);
      expect(got.length).toBe(expected.length);
      expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-3); // the check is not vacuous
      const worst = ref.worstRatio(got, expected, GRAD_TOL);
      if (worst > 1) throw new Error(`${name}: worst error ratio ${worst} (tfjs ${Array.from(got).slice(0, 6)} vs fd ${Array.from(expected).slice(0, 6)})`);
    }
  });
});
