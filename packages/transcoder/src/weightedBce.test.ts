import { at, CpuTensor } from '@bigr/core';
import type { GraphDefinition, Ops } from '@bigr/core';
import { bceWithLogits, bceWithLogitsScalar, weightedBceWeights, weightedBceWeightsGraph } from './weightedBce.js';
import { maxAbsDiff, named, onnxEngine, tfjsWasmEngine } from './test/engines.js';

/** Hand-computed Eq. 7 cases: w_k = (1 − m)·y_k + m·(1 − y_k) + 1/K with m the token's mean. */
const CASES: { y: number[]; w: number[] }[] = [
  { y: [0, 0, 0, 0], w: [0.25, 0.25, 0.25, 0.25] }, // all zero: m = 0, only 1/K remains
  { y: [1, 1, 1, 1], w: [0.25, 0.25, 0.25, 0.25] }, // all one: m = 1
  { y: [1, 0, 0, 0], w: [1, 0.5, 0.5, 0.5] }, // m = 1/4: the rare one gets 3/4 + 1/4
  { y: [1, 1, 0, 0], w: [0.75, 0.75, 0.75, 0.75] }, // m = 1/2: ½ + 1/K everywhere (docs/algorithm.md §12)
  { y: [0, 1, 1, 1], w: [1, 0.5, 0.5, 0.5] }, // m = 3/4: the rare zero gets 3/4 + 1/4
];

describe('weighted BCE', () => {
  it.each(CASES)('weights for $y', ({ y, w }) => {
    expect(Array.from(weightedBceWeights(y, 4))).toEqual(w);
  });

  it('K = 16 with three ones: 14/16 on ones, 4/16 on zeros', () => {
    const y = new Array(16).fill(0);
    y[2] = y[7] = y[11] = 1;
    const w = weightedBceWeights(y, 16);
    for (let k = 0; k < 16; k++) expect(w[k]).toBeCloseTo(y[k] ? 14 / 16 : 4 / 16, 15);
  });

  it('BCE on logits equals −[y log σ + (1−y) log(1−σ)] and is finite for large logits', () => {
    for (const l of [-8, -3, -0.5, 0, 0.2, 4, 8]) {
      for (const y of [0, 1]) {
        const s = 1 / (1 + Math.exp(-l));
        expect(bceWithLogitsScalar(l, y)).toBeCloseTo(-(y * Math.log(s) + (1 - y) * Math.log(1 - s)), 10);
      }
    }
    expect(bceWithLogitsScalar(1000, 0)).toBe(1000);
    expect(bceWithLogitsScalar(-1000, 1)).toBe(1000);
    expect(bceWithLogitsScalar(1000, 1)).toBe(0);
  });

  it.each([
    ['onnx-cpu', onnxEngine],
    ['tfjs-wasm', tfjsWasmEngine],
  ] as const)('graph versions equal the references on %s', async (_n, get) => {
    const rows = CASES.flatMap((c) => c.y);
    const logits = Float32Array.from(rows.map((_, i) => ((i * 37) % 23) - 11 + 0.25 * (i % 3)));
    logits[3] = 0;
    logits[4] = 95;
    logits[5] = -95;
    const def: GraphDefinition = {
      name: 'wbce',
      inputs: [
        { name: 'y', dtype: 'float32', shape: [CASES.length, 4] },
        { name: 'l', dtype: 'float32', shape: [CASES.length, 4] },
      ],
      outputs: ['w', 'bce'],
      build<T>(ops: Ops<T>, inp: Readonly<Record<string, T>>) {
        const y = named(inp, 'y');
        return { w: weightedBceWeightsGraph(ops, y, 4), bce: bceWithLogits(ops, named(inp, 'l'), y) };
      },
    };
    const g = await (await get()).compile(def, new Map());
    try {
      const out = await g.run({ y: new CpuTensor(Float32Array.from(rows), [CASES.length, 4]), l: new CpuTensor(logits, [CASES.length, 4]) });
      const weights = CASES.flatMap((c) => c.w);
      expect(maxAbsDiff(named(out, 'w').data, weights)).toBeLessThanOrEqual(1e-7);
      const ref = rows.map((y, i) => bceWithLogitsScalar(at(logits, i, 'logit'), y));
      const got = named(out, 'bce').data;
      for (const [i, r] of ref.entries()) expect(Math.abs(at(got, i, 'BCE') - r)).toBeLessThanOrEqual(1e-5 * Math.max(1, r));
    } finally {
      await g.dispose();
    }
  });
});
