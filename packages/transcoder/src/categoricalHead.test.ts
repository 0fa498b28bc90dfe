import { CpuTensor, createRng, type Engine, type NamedTensors } from '@bigr/core';
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
  const w = params.get('cat_head.weight')!.data as Float32Array;
  for (let i = 0; i < w.length; i++) w[i] = w[i]! * 50;
  const b = params.get('cat_head.bias')!.data as Float32Array;
  for (let i = 0; i < b.length; i++) b[i] = Math.fround(rng.normal() * 0.5);
  const features = rng.normalsF32(R * D);
  const bits = Float32Array.from(rng.uniformsF32(R * K), (u) => (u < 0.5 ? 1 : 0));
  return { params, features, bits, mask: Float32Array.of(1, 0, 1, 1, 0) };
}

/** float64 logits F·Wᵀ + b. */
function naiveLogits(params: NamedTensors, features: Float32Array, rows: number): Float64Array {
  const w = params.get('cat_head.weight')!.data as Float32Array;
  const b = params.get('cat_head.bias')!.data as Float32Array;
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < C; c++) {
      let s = b[c]!;
      for (let d = 0; d < D; d++) s += features[r * D + d]! * w[c * D + d]!;
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
    const trainable = await engine.createTrainable!(params);
    const res = await trainable.gradients(<T>(ops: import('@bigr/core').Ops<T>) => {
      const t = inputs['categorical_target']!;
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
    for (let r = 0; r < R; r++) {
      const p = naiveSoftmax(logits.subarray(r * C, (r + 1) * C));
      const ce = -Math.log(p[y[r]!]!);
      pc += Math.exp(-ce) / R;
      total += mask[r]! * ce;
      count += mask[r]!;
      for (let c = 0; c < C; c++) gb[c]! += mask[r]! * (p[c]! - (c === y[r] ? 1 : 0));
    }
    expect(res.loss).toBeCloseTo(total / (K * count), 5);
    expect(res.metrics['ce']).toBeCloseTo(total / count, 4);
    expect(res.metrics['pCorrect']).toBeCloseTo(pc, 5);
    const grad = res.grads.get('cat_head.bias')!;
    for (let c = 0; c < C; c++) expect(grad[c]!).toBeCloseTo(gb[c]! / (K * count), 5);
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
      const l = Array.from({ length: C }, (_, c) => (scale === 1 ? cond[c]! : uncond[c]! + scale * (cond[c]! - uncond[c]!)) / temperature);
      let p = naiveSoftmax(l);
      const order = p.map((_, c) => c).sort((a, b) => p[b]! - p[a]!);
      let keep = order;
      if (topK > 0) keep = order.slice(0, topK);
      if (topP < 1) {
        let m = 0;
        keep = [];
        for (const c of order) {
          if (m >= topP) break;
          keep.push(c);
          m += p[c]!;
        }
      }
      const z = keep.reduce((s, c) => s + p[c]!, 0);
      p = p.map((x, c) => (keep.includes(c) ? x / z : 0));
      for (let i = 0; i < 200; i++) {
        const u = (i + 0.5) / 200;
        let acc = 0;
        let want = -1;
        for (let c = 0; c < C && want < 0; c++) {
          acc += p[c]!;
          if (p[c]! > 0 && u < acc) want = c;
        }
        const got = sampleCategoricalRow(cond, scale === 1 ? null : uncond, scale, temperature, u, { topK, topP });
        expect(got.index).toBe(want);
        expect(got.probability).toBeCloseTo(p[want]!, 5);
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
    for (let r = 0; r < R; r++) {
      const p = naiveSoftmax(Array.from({ length: C }, (_, c) => lu[r * C + c]! + 2 * (lc[r * C + c]! - lu[r * C + c]!)));
      let acc = 0;
      let want = C - 1;
      for (let c = 0; c < C; c++) {
        acc += p[c]!;
        if (u[r]! < acc) {
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
      expect(Array.from(row).reduce((s, x) => s + 2 * Math.abs(x - 0.5), 0) / K).toBeCloseTo(p[want]!, 4);
    }
  });
});
