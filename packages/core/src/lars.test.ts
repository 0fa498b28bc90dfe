import { AdamW } from './adamw.js';
import { ConfigError, FormatError, ShapeError } from './errors.js';
import { at, getOrThrow, required } from './invariants.js';
import { Lars } from './lars.js';
import { createRng } from './seededRng.js';

/** Naive float64 LARS written from docs/evaluation.md §8.3 (independent of the implementation). */
function naiveLars(params: { w: number[]; shape: number[] }[], grads: number[][][], lrs: number[], mu: number, eta: number, wd: number): number[][] {
  const state = params.map((p) => ({ w: [...p.w], m: p.w.map(() => 0), matrix: p.shape.length > 1 }));
  grads.forEach((step, s) => {
    const lr = at(lrs, s, 'learning rate');
    step.forEach((g0, i) => {
      const p = at(state, i, 'parameter');
      let g = [...g0];
      if (p.matrix) {
        g = g.map((gj, j) => gj + wd * at(p.w, j));
        const pn = Math.hypot(...p.w);
        const gn = Math.hypot(...g);
        const q = pn > 0 && gn > 0 ? (eta * pn) / gn : 1;
        g = g.map((gj) => gj * q);
      }
      p.m = p.m.map((mj, j) => mu * mj + at(g, j));
      p.w = p.w.map((wj, j) => wj - lr * at(p.m, j));
    });
  });
  return state.map((p) => p.w);
}

const shapes2 = new Map<string, readonly number[]>([
  ['W', [1, 2]],
  ['b', [1]],
]);

describe('LARS (core)', () => {
  it('matches the docs/evaluation.md §8.7 one- and two-step hand computations', () => {
    const params = new Map([
      ['W', Float32Array.of(3, 4)],
      ['b', Float32Array.of(1)],
    ]);
    const grads = new Map([
      ['W', Float32Array.of(0, 1)],
      ['b', Float32Array.of(0.5)],
    ]);
    const lars = new Lars({ shapes: shapes2, momentum: 0.9, trustCoefficient: 0.001 });
    lars.step(params, grads, 0.1);
    expect(params.get('W')?.[0]).toBeCloseTo(3, 6);
    expect(params.get('W')?.[1]).toBeCloseTo(3.9995, 6);
    expect(params.get('b')?.[0]).toBeCloseTo(0.95, 6);
    lars.step(params, grads, 0.1);
    expect(params.get('W')?.[1]).toBeCloseTo(3.9985500399991, 6);
    expect(params.get('b')?.[0]).toBeCloseTo(0.855, 6);
    expect(lars.t).toBe(2);
  });

  it('applies weight decay before the trust ratio, to ≥ 2-D tensors only; W = 0 gives a plain momentum-SGD step', () => {
    const params = new Map([
      ['W', Float32Array.of(3, 4)],
      ['b', Float32Array.of(1)],
    ]);
    const lars = new Lars({ shapes: shapes2, weightDecay: 0.5 });
    lars.step(
      params,
      new Map([
        ['W', Float32Array.of(0, 1)],
        ['b', Float32Array.of(0)],
      ]),
      0.1,
    );
    expect(params.get('W')?.[0]).toBeCloseTo(2.99977639320225, 6);
    expect(params.get('W')?.[1]).toBeCloseTo(3.9995527864045, 6);
    expect(params.get('b')?.[0]).toBe(1); // no decay on the bias
    expect(lars.weightDecayOf('b')).toBe(0);
    const zero = new Map([['W', new Float32Array(2)]]);
    new Lars({ shapes: shapes2 }).step(zero, new Map([['W', Float32Array.of(1, -2)]]), 0.1);
    expect(Array.from(getOrThrow(zero, 'W'))).toEqual([expect.closeTo(-0.1, 7), expect.closeTo(0.2, 7)]);
  });

  it('agrees with a naive float64 LARS over 30 random steps (matrix, 3-D tensor, bias; decay; changing lr)', () => {
    const rng = createRng('lars-naive');
    const shapes = new Map<string, readonly number[]>([
      ['W', [3, 4]],
      ['K', [2, 2, 2]],
      ['b', [3]],
    ]);
    const init = [...shapes].map(([name, shape]) => {
      const n = shape.reduce((a, c) => a * c, 1);
      return { name, w: Array.from(rng.normalsF32(n), (v) => Math.fround(v)), shape: [...shape] };
    });
    const params = new Map(init.map((p) => [p.name, Float32Array.from(p.w)] as const));
    const steps = 30;
    const grads: number[][][] = [];
    const lrs: number[] = [];
    const decayOf = (name: string) => (name === 'W' ? 0.1 : 0.05);
    const lars = new Lars({ shapes, momentum: 0.8, trustCoefficient: 0.02, weightDecay: decayOf });
    for (let s = 0; s < steps; s++) {
      const g = init.map((p) => Array.from(rng.normalsF32(p.w.length)));
      grads.push(g);
      const lr = 0.5 + 0.5 * Math.sin(s);
      lrs.push(lr);
      lars.step(params, new Map(init.map((p, i) => [p.name, Float32Array.from(at(g, i))] as const)), lr);
    }
    // The naive version takes one weight decay; run it per tensor with that tensor's decay.
    init.forEach((p, i) => {
      const [want] = naiveLars(
        [p],
        grads.map((g) => [at(g, i)]),
        lrs,
        0.8,
        0.02,
        decayOf(p.name),
      );
      const expected = required(want, `naive LARS result for ${p.name}`);
      getOrThrow(params, p.name).forEach((v, j) => {
        expect(Math.abs(v - at(expected, j))).toBeLessThan(2e-5 * (1 + Math.abs(at(expected, j))));
      });
    });
  });

  it('getState/setState continues bit-identically and rejects foreign states', () => {
    const shapes = new Map<string, readonly number[]>([
      ['W', [2, 3]],
      ['b', [2]],
    ]);
    const rng = createRng(5);
    const gradsAt = Array.from(
      { length: 8 },
      () =>
        new Map([
          ['W', rng.normalsF32(6)],
          ['b', rng.normalsF32(2)],
        ]),
    );
    const start = () =>
      new Map([
        ['W', Float32Array.of(1, -2, 3, 0.5, 0.25, -1)],
        ['b', Float32Array.of(0.1, -0.1)],
      ]);
    const ref = start();
    const a = new Lars({ shapes });
    gradsAt.forEach((g, s) => {
      a.step(ref, g, 0.3 + 0.1 * s);
    });
    const resumed = start();
    const b = new Lars({ shapes });
    gradsAt.slice(0, 3).forEach((g, s) => {
      b.step(resumed, g, 0.3 + 0.1 * s);
    });
    const state = b.getState();
    expect([...state.tensors.keys()].sort()).toEqual(['mu.W', 'mu.b']);
    expect(state.tensors.get('mu.W')?.shape).toEqual([2, 3]);
    const c = new Lars({ shapes });
    c.setState({ json: JSON.parse(JSON.stringify(state.json)), tensors: state.tensors });
    gradsAt.slice(3).forEach((g, s) => {
      c.step(resumed, g, 0.3 + 0.1 * (s + 3));
    });
    expect(c.t).toBe(8);
    expect(Array.from(getOrThrow(resumed, 'W'))).toEqual(Array.from(getOrThrow(ref, 'W')));
    expect(Array.from(getOrThrow(resumed, 'b'))).toEqual(Array.from(getOrThrow(ref, 'b')));
    expect(() => c.setState(new AdamW().getState())).toThrow(FormatError);
    expect(() => new AdamW().setState(state)).toThrow(FormatError);
  });

  it('rejects bad options, unknown parameters and mismatched gradients with clear errors', () => {
    expect(() => new Lars({ shapes: shapes2, trustCoefficient: 0 })).toThrow(/trustCoefficient is 0/);
    expect(() => new Lars({ shapes: shapes2, momentum: -1 })).toThrow(ConfigError);
    const lars = new Lars({ shapes: shapes2 });
    expect(() => lars.step(new Map([['X', Float32Array.of(1)]]), new Map([['X', Float32Array.of(1)]]), 0.1)).toThrow(/no shape for parameter "X"/);
    expect(() => lars.step(new Map([['W', Float32Array.of(1, 2)]]), new Map([['W', Float32Array.of(1)]]), 0.1)).toThrow(ShapeError);
    expect(() => lars.step(new Map([['W', Float32Array.of(1, 2)]]), new Map([['W', Float32Array.of(1, 1)]]), Number.NaN)).toThrow(/learning rate is NaN/);
    expect(lars.t).toBe(0);
  });
});
