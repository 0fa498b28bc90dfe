/**
 * Gradient conformance. For every case in GRADIENT_CASES:
 *  1. the VJP rules of @bigr/core, run in float64 (TapeOps over Float64Ops), agree with float64 central finite
 *     differences to 1e-6 relative (this checks the rules themselves);
 *  2. onnx-cpu (the same rules emitted into one onnxruntime train-step graph, float32) and tfjs-wasm / tfjs-cpu
 *     (tfjs' own autodiff on the same definitions) agree with (1) to a relative L2 error of 1e-5 per parameter;
 *  3. onnx-cpu agrees with tfjs-wasm directly (our VJPs vs tfjs' gradients).
 */
import {
  at,
  createRng,
  getOrThrow,
  lossGradients,
  required,
  resolveEngine,
  TapeOps,
  type CpuTensor,
  type Engine,
  type GradientResult,
  type NamedTensors,
  type ParameterSignature,
  type TrainableParameters,
} from '@bigr/core';
import '@bigr/engine-onnx';
import '@bigr/engine-tfjs';
import { relativeL2 as relL2 } from '../expectClose.js';
import { Float64Ops } from '../reference/referenceOps.js';
import type { F64Array } from '../reference/ndarray.js';
import { normal } from './caseHelpers.js';
import { GRADIENT_CASES, gradientCaseLoss, type GradientCase } from './gradientCases.js';

const SEED = 'bigr-gradient-conformance-v1';

interface Prepared {
  readonly params: NamedTensors;
  readonly loss: ReturnType<typeof gradientCaseLoss>;
  readonly signatures: Map<string, ParameterSignature>;
  readonly dropoutSeed: string;
}

function prepare(c: GradientCase): Prepared {
  const rng = createRng(SEED).fork(c.name);
  const params = c.params(rng);
  const data = c.data ? c.data(rng) : {};
  const r = normal(rng, c.outShape);
  const signatures = new Map<string, ParameterSignature>([...params].map(([k, t]) => [k, { shape: t.shape, dtype: 'float32' as const }]));
  return { params, loss: gradientCaseLoss(c, r, data), signatures, dropoutSeed: `${SEED}/${c.name}/dropout` };
}

/** Loss value in float64 (dropout masks from a fresh Rng with the case's seed, as every engine draws them). */
function loss64(p: Prepared, params: ReadonlyMap<string, F64Array>): number {
  const tape = new TapeOps(new Float64Ops(params), { parameters: p.signatures, rng: createRng(p.dropoutSeed) });
  return at((p.loss(tape).loss as unknown as { value: F64Array }).value.data, 0, 'loss');
}

/** The trainable copy of `params` on an engine resolved for training. */
function trainableOn(engine: Engine, params: NamedTensors): Promise<TrainableParameters> {
  if (!engine.createTrainable) throw new Error(`Engine "${engine.name}" cannot train; resolve it with purpose 'training'.`);
  return engine.createTrainable(params);
}

/** Gradients from the VJP rules in float64. */
function vjp64(p: Prepared): { loss: number; grads: Map<string, Float64Array> } {
  const out = lossGradients(new Float64Ops(p.params), p.signatures, p.loss, { rng: createRng(p.dropoutSeed) });
  const grads = new Map<string, Float64Array>();
  for (const [k, g] of out.grads) grads.set(k, g ? g.data : new Float64Array(getOrThrow(p.params, k, 'parameter').size));
  return { loss: at(out.loss.data, 0, 'loss'), grads };
}

describe('VJP rules agree with float64 central finite differences', () => {
  test.each(GRADIENT_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const p = prepare(c);
    const { grads } = vjp64(p);
    const base = new Map<string, F64Array>([...p.params].map(([k, t]) => [k, { data: Float64Array.from(t.data as Float32Array), shape: t.shape }]));
    const pick = createRng(`${SEED}/fd/${c.name}`);
    let worst = 0;
    for (const [name, t] of base) {
      if (c.noGradient?.includes(name)) {
        expect(Array.from(getOrThrow(grads, name, 'gradient')).every((v) => v === 0)).toBe(true);
        continue;
      }
      const n = t.data.length;
      const elements = n <= 48 ? [...Array(n).keys()] : Array.from({ length: 24 }, () => pick.int(n));
      for (const i of elements) {
        const ti = at(t.data, i);
        const h = 1e-6 * Math.max(1, Math.abs(ti));
        const plus = new Map(base);
        const minus = new Map(base);
        const dp = Float64Array.from(t.data);
        const dm = Float64Array.from(t.data);
        dp[i] = ti + h;
        dm[i] = ti - h;
        plus.set(name, { data: dp, shape: t.shape });
        minus.set(name, { data: dm, shape: t.shape });
        const fd = (loss64(p, plus) - loss64(p, minus)) / (2 * h);
        const g = at(getOrThrow(grads, name, 'gradient'), i);
        worst = Math.max(worst, Math.abs(g - fd) / (1e-6 + Math.abs(fd)));
        expect({ name, i, g, fd, ok: Math.abs(g - fd) <= 1e-6 * (1 + Math.abs(fd)) }).toEqual({ name, i, g, fd: expect.any(Number), ok: true });
      }
    }
    expect(worst).toBeLessThan(1e-3);
  });
});

describe.each(['onnx-cpu', 'tfjs-wasm', 'tfjs-cpu'])('%s gradients agree with the float64 VJP', (engineName) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await resolveEngine({ purpose: 'training', device: engineName });
  });

  test.each(GRADIENT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const p = prepare(c);
    const ref = vjp64(p);
    const trainable = await trainableOn(engine, p.params);
    let got: GradientResult;
    try {
      got = await trainable.gradients(p.loss, createRng(p.dropoutSeed));
    } finally {
      trainable.dispose();
    }
    expect(Math.abs(got.loss - ref.loss)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref.loss)));
    for (const [name, g] of ref.grads) {
      const e = relL2(getOrThrow(got.grads, name, 'engine gradient'), g);
      expect({ name, relL2: e, ok: e <= 1e-5 }).toEqual({ name, relL2: e, ok: true });
    }
  });
});

test('onnx-cpu (VJP rules in a train-step graph) agrees with tfjs-wasm (tfjs autodiff) on every case', async () => {
  const onnx = await resolveEngine({ purpose: 'training', device: 'onnx-cpu' });
  const tfjs = await resolveEngine({ purpose: 'training', device: 'tfjs-wasm' });
  const run = async (e: Engine, p: Prepared): Promise<GradientResult> => {
    const t = await trainableOn(e, p.params);
    try {
      return await t.gradients(p.loss, createRng(p.dropoutSeed));
    } finally {
      t.dispose();
    }
  };
  const worst: Record<string, number> = {};
  for (const c of GRADIENT_CASES) {
    const p = prepare(c);
    const [a, b] = [await run(onnx, p), await run(tfjs, p)];
    for (const [name, g] of b.grads) worst[`${c.name}: ${name}`] = relL2(getOrThrow(a.grads, name, 'onnx-cpu gradient'), g);
  }
  expect(Object.entries(worst).filter(([, e]) => !(e <= 2e-5))).toEqual([]);
});

test('the ONNX engine compiles one graph per shape and reuses it across parameter updates', async () => {
  const onnx = await resolveEngine({ purpose: 'training', device: 'onnx-cpu' });
  const c = required(
    GRADIENT_CASES.find((x) => x.name === 'matMul transposeB (linear layer, batch folded)'),
    'gradient case "matMul transposeB"',
  );
  const p = prepare(c);
  const t = await trainableOn(onnx, p.params);
  try {
    const first = await t.gradients(p.loss, createRng(1));
    const w = getOrThrow(t.read(), 'w', 'parameter') as CpuTensor<'float32'>;
    t.assign(new Map([['w', (w.data as Float32Array).map((v) => v * 2)]]));
    const second = await t.gradients(p.loss, createRng(1));
    // d/dx of Σ (x·Wᵀ)⊙R is R·W: doubling W doubles it exactly (powers of two are exact in float32).
    expect(Array.from(getOrThrow(second.grads, 'x', 'gradient'))).toEqual(Array.from(getOrThrow(first.grads, 'x', 'gradient'), (v) => v * 2));
    expect((t as unknown as { compiledGraphs: number }).compiledGraphs).toBe(1);
  } finally {
    t.dispose();
  }
});
