import { AdamW } from './adamw.js';
import { ConfigError, FormatError, ShapeError } from './errors.js';
import { at, getOrThrow } from './invariants.js';
import { parseSafetensors, serializeSafetensors } from './safetensorsFormat.js';
import { createRng } from './seededRng.js';

/** Float64 reference of torch.optim.AdamW (single-tensor path, amsgrad off), written from the PyTorch docs. */
class RefAdamW {
  slots = new Map<string, { m: number[]; v: number[]; t: number }>();
  constructor(
    readonly b1: number,
    readonly b2: number,
    readonly eps: number,
    readonly wd: (name: string) => number,
  ) {}
  step(params: Map<string, number[]>, grads: Map<string, number[]>, lr: number): void {
    for (const [name, g] of grads) {
      const p = getOrThrow(params, name, 'reference parameter');
      let slot = this.slots.get(name);
      if (!slot) {
        slot = { m: new Array(p.length).fill(0), v: new Array(p.length).fill(0), t: 0 };
        this.slots.set(name, slot);
      }
      slot.t += 1;
      const { m, v, t } = slot;
      for (const [i, gi] of g.entries()) {
        const mi = this.b1 * at(m, i) + (1 - this.b1) * gi;
        const vi = this.b2 * at(v, i) + (1 - this.b2) * gi ** 2;
        m[i] = mi;
        v[i] = vi;
        const mHat = mi / (1 - this.b1 ** t);
        const vHat = vi / (1 - this.b2 ** t);
        p[i] = at(p, i) * (1 - lr * this.wd(name)) - (lr * mHat) / (Math.sqrt(vHat) + this.eps);
      }
    }
  }
}

function randomArray(rng: ReturnType<typeof createRng>, n: number, scale = 1): number[] {
  return Array.from(rng.normalsF32(n), (x) => Math.fround(x * scale));
}

describe('AdamW', () => {
  it('first step is hand-computable: p(1 - lr·wd) - lr·g/(|g| + eps)', () => {
    const p = new Float32Array([1, -2, 0.5]);
    const g = new Float32Array([0.1, -3, 0]);
    const opt = new AdamW({ betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.02 });
    opt.step(new Map([['w', p]]), new Map([['w', g]]), 1e-3);
    const expected = [1 * (1 - 2e-5) - 1e-3 * (0.1 / (0.1 + 1e-8)), -2 * (1 - 2e-5) + 1e-3 * (3 / (3 + 1e-8)), 0.5 * (1 - 2e-5)];
    // Float32 arithmetic op by op, as PyTorch's AdamW: within one float32 ulp (2.4e-7 at |p| ≈ 2) of the exact value.
    expected.forEach((e, i) => {
      expect(Math.abs(at(p, i) - e)).toBeLessThanOrEqual(2.4e-7);
    });
    expect(opt.t).toBe(1);
  });

  it('matches a float64 reference over many steps with per-parameter weight decay and a skipped gradient', () => {
    const rng = createRng('adamw-ref');
    const shapes = { 'blocks.0.w': 12, 'blocks.0.bias': 4, 'denoise_mlp.w': 6 };
    const wd = (name: string) => (name.endsWith('bias') || name.includes('denoise_mlp') ? 0 : 0.05);
    const params = new Map<string, Float32Array>();
    const refParams = new Map<string, number[]>();
    for (const [name, n] of Object.entries(shapes)) {
      const init = randomArray(rng, n);
      params.set(name, Float32Array.from(init));
      refParams.set(name, [...init]);
    }
    const opt = new AdamW({ betas: [0.9, 0.95], eps: 1e-8, weightDecay: wd });
    const ref = new RefAdamW(0.9, 0.95, 1e-8, wd);
    for (let step = 0; step < 25; step++) {
      const grads = new Map<string, Float32Array>();
      const refGrads = new Map<string, number[]>();
      for (const [name, n] of Object.entries(shapes)) {
        if (name === 'denoise_mlp.w' && step % 4 === 1) continue; // no gradient this step
        const g = randomArray(rng, n, 0.1 + step * 0.05);
        grads.set(name, Float32Array.from(g));
        refGrads.set(name, g);
      }
      const lr = 1e-2 * (1 - step / 50);
      opt.step(params, grads, lr);
      ref.step(refParams, refGrads, lr);
      for (const [name, p] of params) {
        const r = getOrThrow(refParams, name, 'reference parameter');
        for (const [i, pi] of p.entries()) {
          const ri = at(r, i);
          if (Math.abs(pi - ri) > 1e-6 * Math.max(1, Math.abs(ri))) throw new Error(`step ${step} ${name}[${i}]: ${pi} vs ${ri}`);
        }
      }
    }
    expect(opt.t).toBe(25);
    const state = opt.getState();
    expect(state.json.steps).toEqual({ 'blocks.0.w': 25, 'blocks.0.bias': 25, 'denoise_mlp.w': 19 });
    expect(opt.weightDecayOf('denoise_mlp.w')).toBe(0);
  });

  it('with weight decay 0 equals Adam; pure decay shrinks parameters geometrically when the gradient is 0', () => {
    const p = new Float32Array([2]);
    const opt = new AdamW({ weightDecay: 0.1 });
    for (let i = 0; i < 5; i++) opt.step(new Map([['w', p]]), new Map([['w', new Float32Array([0])]]), 0.5);
    expect(p[0]).toBeCloseTo(2 * 0.95 ** 5, 6);
    const q = new Float32Array([2]);
    new AdamW({ weightDecay: 0 }).step(new Map([['w', q]]), new Map([['w', new Float32Array([4])]]), 0.5);
    expect(q[0]).toBeCloseTo(2 - 0.5 * (4 / (4 + 1e-8)), 6);
  });

  it('state round-trips through safetensors + JSON and continues bit-identically', () => {
    const shapes = new Map<string, readonly number[]>([
      ['a', [2, 3]],
      ['b', [4]],
    ]);
    const mk = () =>
      new Map(
        [...shapes].map(([k, s]) => [
          k,
          Float32Array.from(
            randomArray(
              createRng(k),
              s.reduce((x, y) => x * y, 1),
            ),
          ),
        ]),
      );
    const p1 = mk();
    const opt1 = new AdamW({ betas: [0.9, 0.95], weightDecay: 0.02 });
    const gradsAt = (i: number) =>
      new Map(
        [...shapes].map(([k, s]) => [
          k,
          Float32Array.from(
            randomArray(
              createRng(`${k}-${i}`),
              s.reduce((x, y) => x * y, 1),
            ),
          ),
        ]),
      );
    for (let i = 0; i < 3; i++) opt1.step(p1, gradsAt(i), 1e-3);
    const state = opt1.getState(shapes);
    expect(state.tensors.get('exp_avg.a')?.shape).toEqual([2, 3]);
    const file = serializeSafetensors(state.tensors);
    const restored = { json: JSON.parse(JSON.stringify(state.json)), tensors: parseSafetensors(file).tensors };
    const p2 = new Map([...p1].map(([k, v]) => [k, v.slice()]));
    const opt2 = new AdamW({ betas: [0.9, 0.95], weightDecay: 0.02 });
    opt2.setState(restored);
    expect(opt2.t).toBe(3);
    for (let i = 3; i < 6; i++) {
      opt1.step(p1, gradsAt(i), 1e-3);
      opt2.step(p2, gradsAt(i), 1e-3);
    }
    for (const [k, v] of p1) expect(p2.get(k)).toEqual(v);
  });

  it('validates options, inputs and states', () => {
    expect(() => new AdamW({ betas: [1, 0.9] })).toThrow(ConfigError);
    expect(() => new AdamW({ eps: -1 })).toThrow(/eps/);
    const opt = new AdamW();
    const p = new Map([['w', new Float32Array(3)]]);
    expect(() => opt.step(p, new Map([['x', new Float32Array(3)]]), 1e-3)).toThrow(/"x", which is not among/);
    expect(() => opt.step(p, new Map([['w', new Float32Array(2)]]), 1e-3)).toThrow(ShapeError);
    expect(() => opt.step(p, new Map([['w', new Float32Array(3)]]), Number.NaN)).toThrow(/learning rate/);
    expect(opt.t).toBe(0);
    expect(() => new AdamW({ weightDecay: () => -1 }).step(p, new Map([['w', new Float32Array(3)]]), 1)).toThrow(/weight decay/);
    opt.step(p, new Map([['w', new Float32Array([1, 2, 3])]]), 1e-3);
    const good = opt.getState();
    expect(() => opt.setState({ json: { ...good.json, algorithm: 'sgd' as 'adamw' }, tensors: good.tensors })).toThrow(FormatError);
    expect(() => opt.setState({ json: good.json, tensors: new Map([...good.tensors].filter(([k]) => k !== 'exp_avg_sq.w')) })).toThrow(/exp_avg_sq.w/);
    expect(() => opt.setState({ json: { ...good.json, steps: {} }, tensors: good.tensors })).toThrow(/does not belong/);
    expect(() => opt.setState({ json: { ...good.json, steps: { w: 0 } }, tensors: good.tensors })).toThrow(/step count/);
    // Without per-parameter steps every parameter with moments gets t (checkpoints that store only t).
    const { steps: _steps, ...noSteps } = good.json;
    const opt3 = new AdamW();
    opt3.setState({ json: noSteps, tensors: good.tensors });
    expect(opt3.getState().json.steps).toEqual({ w: 1 });
  });
});
