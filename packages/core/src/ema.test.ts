import { Ema, emaUpdate } from './ema.js';
import { ConfigError, FormatError, NotFoundError, ShapeError } from './errors.js';
import { at, getOrThrow } from './invariants.js';
import { parseSafetensors, serializeSafetensors } from './safetensorsFormat.js';
import { createRng } from './seededRng.js';
import { CpuTensor } from './tensor.js';

describe('Ema', () => {
  it('hand-computed: decay 0.5 averages halfway', () => {
    const e = new Float32Array([0, 10]);
    emaUpdate(e, new Float32Array([2, 0]), 0.5);
    expect(Array.from(e)).toEqual([1, 5]);
  });

  it('starts as a copy and follows the float64 recurrence over many updates', () => {
    const rng = createRng('ema');
    const w = new CpuTensor<'float32'>(rng.normalsF32(6), [2, 3]);
    const b = rng.normalsF32(3);
    const ema = new Ema(
      new Map<string, Float32Array | CpuTensor<'float32'>>([
        ['w', w],
        ['b', b],
      ]),
      { decay: 0.9 },
    );
    const refW = Array.from(w.data);
    const refB = Array.from(b);
    expect(ema.parameters().get('w')?.shape).toEqual([2, 3]);
    expect(ema.parameters().get('b')?.shape).toEqual([3]);
    expect(Array.from(getOrThrow(ema.parameters(), 'w').data)).toEqual(refW);
    w.data.fill(99); // the EMA holds a copy
    expect(getOrThrow(ema.parameters(), 'w').data[0]).not.toBe(99);
    for (let s = 0; s < 30; s++) {
      const pw = rng.normalsF32(6);
      const pb = rng.normalsF32(3);
      ema.update(
        new Map([
          ['w', pw],
          ['b', pb],
        ]),
      );
      refW.forEach((x, i) => {
        refW[i] = 0.9 * x + 0.1 * at(pw, i);
      });
      refB.forEach((x, i) => {
        refB[i] = 0.9 * x + 0.1 * at(pb, i);
      });
    }
    const got = ema.parameters();
    refW.forEach((x, i) => {
      expect(getOrThrow(got, 'w').data[i]).toBeCloseTo(x, 5);
    });
    refB.forEach((x, i) => {
      expect(getOrThrow(got, 'b').data[i]).toBeCloseTo(x, 5);
    });
    expect(ema.updates).toBe(30);
  });

  it('decay 0.9999 on a constant target converges as 1 - 0.9999^n (closed form)', () => {
    const ema = new Ema(new Map([['x', new Float32Array([0])]]), { decay: 0.9999 });
    for (let i = 0; i < 1000; i++) ema.update(new Map([['x', new Float32Array([1])]]));
    expect(getOrThrow(ema.parameters(), 'x').data[0]).toBeCloseTo(1 - 0.9999 ** 1000, 5);
  });

  it('state round-trips through safetensors + JSON', () => {
    const ema = new Ema(new Map([['w', new CpuTensor<'float32'>(new Float32Array([1, 2, 3, 4]), [2, 2])]]), { decay: 0.99 });
    ema.update(new Map([['w', new Float32Array([5, 6, 7, 8])]]));
    const s = ema.getState();
    const back = { json: JSON.parse(JSON.stringify(s.json)), tensors: parseSafetensors(serializeSafetensors(s.tensors)).tensors };
    const e2 = Ema.fromState(back);
    expect(e2.decay).toBe(0.99);
    expect(e2.updates).toBe(1);
    expect(getOrThrow(e2.parameters(), 'w').data).toEqual(getOrThrow(ema.parameters(), 'w').data);
    expect(e2.parameters().get('w')?.shape).toEqual([2, 2]);
  });

  it('validates', () => {
    expect(() => new Ema(new Map([['x', new Float32Array(1)]]), { decay: 1.5 })).toThrow(ConfigError);
    const ema = new Ema(new Map([['x', new Float32Array(2)]]), { decay: 0.5 });
    expect(() => ema.update(new Map())).toThrow(NotFoundError);
    expect(() =>
      ema.update(
        new Map([
          ['x', new Float32Array(2)],
          ['y', new Float32Array(1)],
        ]),
      ),
    ).toThrow(/"y"/);
    expect(() => ema.update(new Map([['x', new Float32Array(3)]]))).toThrow(ShapeError);
    expect(() => ema.setState({ json: { algorithm: 'ema', decay: 0.5, updates: 1 }, tensors: new Map() })).toThrow(FormatError);
    expect(() => emaUpdate(new Float32Array(1), new Float32Array(2), 0.5)).toThrow(ShapeError);
  });
});
