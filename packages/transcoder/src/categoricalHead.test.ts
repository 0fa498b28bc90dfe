import { at, CpuTensor, createRng, getOrThrow, required, type Engine, type NamedTensors } from '@bigr/core';
import { CategoricalLoss, CategoricalSampler, bitsToClassIndex, categoricalBitProbabilities, sampleCategoricalRow } from './categoricalHead.js';
import { onnxEngine, tfjsWasmEngine } from './test/engines.js';

const K = 4;
const C = 16;
const D = 6;
const R = 5;

function setup(): { params: NamedTensors; features: Float32Array; bits: Float32Array; mask: Float32Array } {
  const rng = createRng('categorical-test');
  const params = new CategoricalLoss({ bitsPerToken: K, featureDim: D }).initParameters(rng);
  // Larger weights than the 0.02 initialisation so the distribution is far from uniform.
  const w = getOrThrow(params, 'cat_head.weight', 'parameter').data as Float32Array;
  for (const [i, v] of w.entries()) w[i] = v * 50;
  const b = getOrThrow(params, 'cat_head.bias', 'parameter').data as Float32Array;
  for (let i = 0; i < b.length; i++) b[i] = Math.fround(rng.normal() * 0.5);
  const features = rng.normalsF32(R * D);
  const bits = Float32Array.from(rng.uniformsF32(R * K), (u) => (u < 0.5 ? 1 : 0));
  return { params, features, bits, mask: Float32Array.of(1, 0, 1, 1, 0) };
}

/** float64 logits F·Wᵀ + b. */
function naiveLogits(params: NamedTensors, features: Float32Array, rows: number): Float64Array {
  const w = getOrThrow(params, 'cat_head.weight', 'parameter').data as Float32Array;
  const b = getOrThrow(params, 'cat_head.bias', 'parameter').data as Float32Array;
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < C; c++) {
      let s = at(b, c, 'bias');
      for (let d = 0; d < D; d++) s += at(features, r * D + d, 'feature') * at(w, c * D + d, 'weight');
      out[r * C + c] = s;
    }
  return out;
}

function naiveSoftmax(l: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(l));
  const e = Array.from(l, (x) => Math.exp(x - m));
  const s = e.reduce((a, x) => a + x, 0);
  return e.map((x) => x / s);
}

describe('categorical head (docs/algorithm.md §13.1)', () => {
  it('class index: bit k has weight 2^k', () => {
    expect(Array.from(bitsToClassIndex([1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1], 3, 4))).toEqual([1, 10, 15]);
  });

  it.each([['onnx-cpu'], ['tfjs-wasm']])('loss, metrics and gradients equal the naive float64 cross-entropy on %s', async (name) => {
    const engine: Engine = name === 'onnx-cpu' ? await onnxEngine() : await tfjsWasmEngine();
    const { params, features, bits, mask } = setup();
    const loss = new CategoricalLoss({ bitsPerToken: K, featureDim: D });
    const inputs = loss.sampleLossInputs(new CpuTensor(bits, [R, K]), createRng(0));
    if (!engine.createTrainable) throw new Error(`${name} must be able to train`);
    const trainable = await engine.createTrainable(params);
    const res = await trainable.gradients(<T>(ops: import('@bigr/core').Ops<T>) => {
      const t = required(inputs['categorical_target'], 'loss input categorical_target');
      return loss.lossGraph(ops, ops.constant(features, [R, D]), ops.constant(bits, [R, K]), ops.constant(mask, [R]), {
        categorical_target: ops.constantInt(t.data as Int32Array, t.shape),
      });
    }, createRng(1));
    trainable.dispose?.();
    // Reference: CE_r = lse(ℓ_r) − ℓ_r[y_r]; loss = Σ mask·CE / (K·Σ mask); d loss/d b_c = Σ_r mask_r (softmax_rc − 1[c = y_r]) / (K·Σ mask).
    const logits = naiveLogits(params, features, R);
    const y = bitsToClassIndex(bits, R, K);
    let total = 0;
    let count = 0;
    let pc = 0;
    const gb = new Float64Array(C);
    for (const [r, yr] of y.entries()) {
      const p = naiveSoftmax(logits.subarray(r * C, (r + 1) * C));
      const m = at(mask, r, 'row mask');
      const ce = -Math.log(at(p, yr, 'probability of the target class'));
      pc += Math.exp(-ce) / R;
      total += m * ce;
      count += m;
      for (const [c, pcr] of p.entries()) gb[c] = at(gb, c, 'bias gradient') + m * (pcr - (c === yr ? 1 : 0));
    }
    expect(res.loss).toBeCloseTo(total / (K * count), 5);
    expect(res.metrics['ce']).toBeCloseTo(total / count, 4);
    expect(res.metrics['pCorrect']).toBeCloseTo(pc, 5);
    const grad = getOrThrow(res.grads, 'cat_head.bias', 'gradient');
    expect(grad).toHaveLength(C);
    for (const [c, g] of gb.entries()) expect(grad[c]).toBeCloseTo(g / (K * count), 5);
  });

  it('row sampling: CFG in logit space, temperature, inverse CDF and top-k / top-p against a naive reference', () => {
    const rng = createRng('rows');
    const cond = rng.normalsF32(C);
    const uncond = rng.normalsF32(C);
    for (const [scale, temperature, topK, topP] of [
      [1, 1, 0, 1],
      [2.5, 1, 0, 1],
      [2, 0.7, 0, 1],
      [1.5, 1, 3, 1],
      [1, 1.3, 0, 0.6],
    ] as const) {
      const l = Array.from(cond, (lc, c) => {
        const lu = at(uncond, c, 'unconditional logit');
        return (scale === 1 ? lc : lu + scale * (lc - lu)) / temperature;
      });
      let p = naiveSoftmax(l);
      const probability = (c: number): number => at(p, c, 'probability');
      const order = p.map((_, c) => c).sort((a, b) => probability(b) - probability(a));
      let keep = order;
      if (topK > 0) keep = order.slice(0, topK);
      if (topP < 1) {
        let m = 0;
        keep = [];
        for (const c of order) {
          if (m >= topP) break;
          keep.push(c);
          m += probability(c);
        }
      }
      const z = keep.reduce((s, c) => s + probability(c), 0);
      p = p.map((x, c) => (keep.includes(c) ? x / z : 0));
      for (let i = 0; i < 200; i++) {
        const u = (i + 0.5) / 200;
        let acc = 0;
        let want = -1;
        for (let c = 0; c < C && want < 0; c++) {
          acc += probability(c);
          if (probability(c) > 0 && u < acc) want = c;
        }
        const got = sampleCategoricalRow(cond, scale === 1 ? null : uncond, scale, temperature, u, { topK, topP });
        expect(got.index).toBe(want);
        expect(got.probability).toBeCloseTo(probability(want), 5);
      }
    }
  });

  it('bit probabilities threshold to the sampled class and their margin confidence is its probability', () => {
    const out = new Float32Array(K);
    categoricalBitProbabilities(10, 0.3, K, out, 0);
    expect(Array.from(out, (p) => (p > 0.5 ? 1 : 0))).toEqual([0, 1, 0, 1]);
    expect(Array.from(out).reduce((s, p) => s + 2 * Math.abs(p - 0.5), 0) / K).toBeCloseTo(0.3, 6);
    categoricalBitProbabilities(1, 0, K, out, 0); // a vanishing probability still thresholds correctly
    expect(Array.from(out, (p) => (p > 0.5 ? 1 : 0))).toEqual([1, 0, 0, 0]);
  });

  it.each([['onnx-cpu'], ['tfjs-wasm']])('CategoricalSampler on %s draws one uniform per row and samples the naive guided distribution', async (name) => {
    const engine: Engine = name === 'onnx-cpu' ? await onnxEngine() : await tfjsWasmEngine();
    const { params, features } = setup();
    const uncondF = createRng('u').normalsF32(R * D);
    const sampler = await CategoricalSampler.create(engine, params, { bitsPerToken: K, featureDim: D });
    const probs = await sampler.sampleProbabilities(new CpuTensor(features, [R, D]), new CpuTensor(uncondF, [R, D]), { cfgScale: 2, rng: createRng('draw') });
    await sampler.dispose();
    const u = createRng('draw').uniformsF32(R);
    const lc = naiveLogits(params, features, R);
    const lu = naiveLogits(params, uncondF, R);
    for (const [r, ur] of u.entries()) {
      const guided = lc.subarray(r * C, (r + 1) * C).map((l, c) => {
        const lur = at(lu, r * C + c, 'unconditional logit');
        return lur + 2 * (l - lur);
      });
      const p = naiveSoftmax(guided);
      let acc = 0;
      let want = C - 1;
      for (const [c, pc] of p.entries()) {
        acc += pc;
        if (ur < acc) {
          want = c;
          break;
        }
      }
      const row = probs.data.subarray(r * K, (r + 1) * K);
      expect(
        bitsToClassIndex(
          Array.from(row, (x) => (x > 0.5 ? 1 : 0)),
          1,
          K,
        )[0],
      ).toBe(want);
      expect(Array.from(row).reduce((s, x) => s + 2 * Math.abs(x - 0.5), 0) / K).toBeCloseTo(at(p, want, 'probability of the sampled class'), 4);
    }
  });
});
