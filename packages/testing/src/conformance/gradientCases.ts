/**
 * Gradient conformance cases: one small loss per differentiable `Ops` primitive (and a few compositions), each
 * `loss = Σ f(params) ⊙ R` with a fixed random R so every output element carries a distinct cotangent. The suite
 * differentiates them with the VJP rules of @bigr/core (in float64 on `Float64Ops`, and inside onnxruntime train-step
 * graphs) and with tfjs' own autodiff, and checks all against float64 central finite differences.
 */
import { required, type CpuTensor, type LossFunction, type NamedTensors, type Ops, type Rng } from '@bigr/core';
import { awayFromZero, indices, normal, uniform } from './caseHelpers.js';

/** One gradient case. */
export interface GradientCase {
  /** Unique name (the primitive it exercises). */
  readonly name: string;
  /** Parameters (the differentiated inputs), drawn from the case's Rng. */
  readonly params: (rng: Rng) => NamedTensors;
  /** Extra constant data (e.g. int32 indices), drawn after the parameters. */
  readonly data?: (rng: Rng) => Record<string, CpuTensor>;
  /** Output shape of `f` (R is drawn with it). */
  readonly outShape: readonly number[];
  /** The function whose weighted sum is the loss. */
  readonly f: <T>(ops: Ops<T>, p: (name: string) => T, data: Readonly<Record<string, T>>) => T;
  /** Whether the loss uses dropout (then it needs an Rng). */
  readonly dropout?: boolean;
  /**
   * Parameters whose VJP must be exactly 0 although the function depends on them (they only pass through
   * `step`/`stopGradient`), so finite differences do not apply.
   */
  readonly noGradient?: readonly string[];
}

const map = (entries: [string, CpuTensor][]): NamedTensors => new Map(entries);

function unary(
  name: 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'sigmoid' | 'silu' | 'tanh' | 'relu' | 'sin' | 'cos' | 'abs',
  draw: (rng: Rng, s: number[]) => CpuTensor,
): GradientCase {
  return { name, params: (rng) => map([['x', draw(rng, [3, 4])]]), outShape: [3, 4], f: (ops, p) => ops[name](p('x')) };
}

/** The gradient cases. */
export const GRADIENT_CASES: readonly GradientCase[] = [
  {
    name: 'add (broadcast)',
    params: (r) =>
      map([
        ['a', normal(r, [2, 3, 4])],
        ['b', normal(r, [3, 1])],
      ]),
    outShape: [2, 3, 4],
    f: (o, p) => o.add(p('a'), p('b')),
  },
  {
    name: 'sub (broadcast)',
    params: (r) =>
      map([
        ['a', normal(r, [4])],
        ['b', normal(r, [2, 3, 4])],
      ]),
    outShape: [2, 3, 4],
    f: (o, p) => o.sub(p('a'), p('b')),
  },
  {
    name: 'mul (broadcast)',
    params: (r) =>
      map([
        ['a', normal(r, [2, 3, 4])],
        ['b', normal(r, [1, 3, 1])],
      ]),
    outShape: [2, 3, 4],
    f: (o, p) => o.mul(p('a'), p('b')),
  },
  {
    name: 'div (broadcast)',
    params: (r) =>
      map([
        ['a', normal(r, [3, 4])],
        ['b', awayFromZero(r, [4])],
      ]),
    outShape: [3, 4],
    f: (o, p) => o.div(p('a'), p('b')),
  },
  {
    name: 'maximum (broadcast)',
    params: (r) =>
      map([
        ['a', normal(r, [3, 4])],
        ['b', normal(r, [3, 1])],
      ]),
    outShape: [3, 4],
    f: (o, p) => o.maximum(p('a'), p('b')),
  },
  { name: 'mul by a scalar constant', params: (r) => map([['a', normal(r, [3, 4])]]), outShape: [3, 4], f: (o, p) => o.mul(o.scalar(-1.5), p('a')) },
  unary('neg', (r, s) => normal(r, s)),
  unary('exp', (r, s) => uniform(r, s, -2, 2)),
  unary('log', (r, s) => uniform(r, s, 0.3, 3)),
  unary('sqrt', (r, s) => uniform(r, s, 0.3, 3)),
  unary('rsqrt', (r, s) => uniform(r, s, 0.3, 3)),
  unary('square', (r, s) => normal(r, s)),
  unary('sigmoid', (r, s) => normal(r, s, 2)),
  unary('silu', (r, s) => normal(r, s, 2)),
  unary('tanh', (r, s) => normal(r, s)),
  unary('relu', (r, s) => awayFromZero(r, s, 0.1, 2)),
  unary('sin', (r, s) => uniform(r, s, -3, 3)),
  unary('cos', (r, s) => uniform(r, s, -3, 3)),
  unary('abs', (r, s) => awayFromZero(r, s, 0.1, 2)),
  {
    name: 'step and stopGradient (no gradient through them)',
    params: (r) =>
      map([
        ['x', awayFromZero(r, [3, 4])],
        ['y', normal(r, [3, 4])],
      ]),
    outShape: [3, 4],
    noGradient: ['x'],
    f: (o, p) => o.add(o.mul(o.step(p('x')), p('y')), o.mul(o.stopGradient(p('x')), p('y'))),
  },
  { name: 'broadcastTo', params: (r) => map([['x', normal(r, [3, 1])]]), outShape: [2, 3, 4], f: (o, p) => o.broadcastTo(p('x'), [2, 3, 4]) },
  { name: 'mean (two axes)', params: (r) => map([['x', normal(r, [2, 3, 4])]]), outShape: [3], f: (o, p) => o.mean(p('x'), [0, -1], false) },
  { name: 'sum (keepDims)', params: (r) => map([['x', normal(r, [2, 3, 4])]]), outShape: [2, 1, 4], f: (o, p) => o.sum(p('x'), [1], true) },
  { name: 'reshape', params: (r) => map([['x', normal(r, [2, 3, 4])]]), outShape: [4, 6], f: (o, p) => o.reshape(p('x'), [4, -1]) },
  { name: 'transpose', params: (r) => map([['x', normal(r, [2, 3, 4])]]), outShape: [4, 2, 3], f: (o, p) => o.transpose(p('x'), [2, 0, 1]) },
  {
    name: 'concat',
    params: (r) =>
      map([
        ['a', normal(r, [2, 1, 3])],
        ['b', normal(r, [2, 4, 3])],
      ]),
    outShape: [2, 6, 3],
    f: (o, p) => o.concat([p('a'), p('b'), p('a')], 1),
  },
  { name: 'slice (middle, negative bounds)', params: (r) => map([['x', normal(r, [3, 6])]]), outShape: [3, 3], f: (o, p) => o.slice(p('x'), 1, -4, -1) },
  {
    name: 'matMul 2-D',
    params: (r) =>
      map([
        ['a', normal(r, [3, 4])],
        ['b', normal(r, [4, 5])],
      ]),
    outShape: [3, 5],
    f: (o, p) => o.matMul(p('a'), p('b')),
  },
  {
    name: 'matMul transposeA',
    params: (r) =>
      map([
        ['a', normal(r, [4, 3])],
        ['b', normal(r, [4, 5])],
      ]),
    outShape: [3, 5],
    f: (o, p) => o.matMul(p('a'), p('b'), true, false),
  },
  {
    name: 'matMul transposeB (linear layer, batch folded)',
    params: (r) =>
      map([
        ['x', normal(r, [2, 3, 4])],
        ['w', normal(r, [5, 4])],
      ]),
    outShape: [2, 3, 5],
    f: (o, p) => o.matMul(p('x'), p('w'), false, true),
  },
  {
    name: 'matMul both transposed',
    params: (r) =>
      map([
        ['a', normal(r, [2, 4, 3])],
        ['b', normal(r, [2, 5, 4])],
      ]),
    outShape: [2, 3, 5],
    f: (o, p) => o.matMul(p('a'), p('b'), true, true),
  },
  {
    name: 'matMul broadcast batches',
    params: (r) =>
      map([
        ['a', normal(r, [2, 1, 3, 4])],
        ['b', normal(r, [3, 4, 2])],
      ]),
    outShape: [2, 3, 3, 2],
    f: (o, p) => o.matMul(p('a'), p('b')),
  },
  { name: 'softmax', params: (r) => map([['x', normal(r, [3, 5], 2)]]), outShape: [3, 5], f: (o, p) => o.softmax(p('x')) },
  {
    name: 'gather (repeated rows)',
    params: (r) => map([['table', normal(r, [5, 3])]]),
    data: (r) => ({ idx: indices(r, [2, 4], 5) }),
    outShape: [2, 4, 3],
    f: (o, p, d) => o.gather(p('table'), required(d['idx'], 'data idx')),
  },
  {
    name: 'scatterAddRows',
    params: (r) => map([['u', normal(r, [2, 4, 3])]]),
    data: (r) => ({ idx: indices(r, [2, 4], 5) }),
    outShape: [5, 3],
    f: (o, p, d) => o.scatterAddRows(p('u'), required(d['idx'], 'data idx'), 5),
  },
  {
    name: 'conv2d 3×3 stride 1 pad 1 with bias',
    params: (r) =>
      map([
        ['x', normal(r, [2, 3, 5, 4])],
        ['w', normal(r, [4, 3, 3, 3], 0.5)],
        ['b', normal(r, [4])],
      ]),
    outShape: [2, 4, 5, 4],
    f: (o, p) => o.conv2d(p('x'), p('w'), p('b'), { strides: 1, pads: [1, 1, 1, 1] }),
  },
  {
    name: 'conv2d 3×3 stride 2 asymmetric pads (B-AE downsample)',
    params: (r) =>
      map([
        ['x', normal(r, [2, 3, 6, 7])],
        ['w', normal(r, [2, 3, 3, 3], 0.5)],
      ]),
    outShape: [2, 2, 3, 3],
    f: (o, p) => o.conv2d(p('x'), p('w'), null, { strides: 2, pads: [0, 0, 1, 1] }),
  },
  {
    name: 'conv2d 1×1',
    params: (r) =>
      map([
        ['x', normal(r, [2, 3, 3, 3])],
        ['w', normal(r, [5, 3, 1, 1])],
        ['b', normal(r, [5])],
      ]),
    outShape: [2, 5, 3, 3],
    f: (o, p) => o.conv2d(p('x'), p('w'), p('b'), { strides: 1, pads: [0, 0, 0, 0] }),
  },
  { name: 'upsampleNearest2x', params: (r) => map([['x', normal(r, [2, 2, 3, 2])]]), outShape: [2, 2, 6, 4], f: (o, p) => o.upsampleNearest2x(p('x')) },
  {
    name: 'dropout (mask from the Rng)',
    params: (r) => map([['x', normal(r, [4, 6])]]),
    outShape: [4, 6],
    dropout: true,
    f: (o, p) => o.dropout(p('x'), 0.3),
  },
  {
    name: 'composition: RMSNorm · SwiGLU-style gate · softmax attention scores',
    params: (r) =>
      map([
        ['x', normal(r, [2, 3, 4])],
        ['w', normal(r, [4, 4], 0.5)],
        ['g', uniform(r, [4], 0.5, 1.5)],
      ]),
    outShape: [2, 3, 3],
    f: (o, p) => {
      const x = p('x');
      const n = o.mul(o.mul(x, o.rsqrt(o.add(o.mean(o.square(x), [-1], true), o.scalar(1e-5)))), p('g'));
      const h = o.mul(o.silu(o.matMul(n, p('w'), false, true)), n);
      return o.softmax(o.mul(o.matMul(h, n, false, true), o.scalar(0.5)));
    },
  },
];

/** The loss of a case: Σ f(params) ⊙ R, with R and the data constants baked in. */
export function gradientCaseLoss(c: GradientCase, r: CpuTensor, data: Readonly<Record<string, CpuTensor>>): LossFunction {
  return <T>(ops: Ops<T>) => {
    const d: Record<string, T> = {};
    for (const [k, t] of Object.entries(data))
      d[k] = t.dtype === 'int32' ? ops.constantInt(t.data as Int32Array, t.shape) : ops.constant(t.data as Float32Array, t.shape);
    const y = c.f(ops, (name) => ops.param(name), d);
    const axes = c.outShape.map((_, i) => i);
    return { loss: ops.sum(ops.mul(y, ops.constant(r.data as Float32Array, r.shape)), axes, false) };
  };
}
