import { at, CpuTensor, type GraphDefinition, type Ops } from '@bigr/core';
import { applyRope2d, buildRope2dTables, rope2dConstants, ropeFrequencies } from './rope2d.js';
import { engineNamed, named, readFixture, rngFor, tensorNamed } from './test/helpers.js';
import { refRope, type RefConfig } from './test/reference.js';
import { relativeMaxError } from '@bigr/testing';

describe('2-D RoPE', () => {
  it('frequencies match docs/algorithm.md §12 for head_dim 64', () => {
    const f = ropeFrequencies(64, 10000);
    expect(f.length).toBe(16);
    const expected = [1, 0.562341, 0.316228, 0.177828];
    expected.forEach((v, j) => {
      expect(f[j]).toBeCloseTo(v, 6);
    });
    expect(at(f, 15, 'frequency') / 1.77828e-4).toBeCloseTo(1, 5);
    for (const [j, fj] of f.entries()) expect(fj / 10000 ** (-j / 16)).toBeCloseTo(1, 6);
  });

  it('tables follow the definition at known positions; class rows are zero', () => {
    const d = 16;
    const G = 4;
    const t = buildRope2dTables({ headDim: d, gridSide: G, clsTokens: 1, base: 10000 });
    expect(t.positions).toBe(17);
    for (let e = 0; e < d; e++) {
      expect(t.cos[e]).toBe(0);
      expect(t.sin[e]).toBe(0);
    }
    // Token n = 6 is (row 1, col 2) at sequence position 7. θ_j = 10000^(−j/4), j = 0..3 for d = 16.
    const row = 1;
    const col = 2;
    for (let p = 0; p < d / 2; p++) {
      const phi = p < 4 ? row * 10000 ** (-p / 4) : col * 10000 ** (-(p - 4) / 4);
      for (const e of [2 * p, 2 * p + 1]) {
        expect(t.cos[7 * d + e]).toBeCloseTo(Math.cos(phi), 6);
        expect(t.sin[7 * d + e]).toBeCloseTo(Math.sin(phi), 6);
      }
    }
    // Token 0 (row 0, col 0): identity rotation.
    for (let e = 0; e < d; e++) {
      expect(t.cos[d + e]).toBe(1);
      expect(t.sin[d + e]).toBe(0);
    }
  });

  it('tables equal the official freqs_cis of the tiny fixture', async () => {
    const fx = await readFixture('backbone.safetensors');
    const fc = tensorNamed(fx, 'freqs_cis').data as Float32Array; // (17, 8, 2) = (cos, sin) per pair
    const t = buildRope2dTables({ headDim: 16, gridSide: 4, clsTokens: 1, base: 10000 });
    let worst = 0;
    for (let s = 0; s < 17; s++)
      for (let p = 0; p < 8; p++) {
        const cosErr = Math.abs(at(t.cos, s * 16 + 2 * p, 'cos table') - at(fc, (s * 8 + p) * 2, 'official cos'));
        const sinErr = Math.abs(at(t.sin, s * 16 + 2 * p, 'sin table') - at(fc, (s * 8 + p) * 2 + 1, 'official sin'));
        worst = Math.max(worst, cosErr, sinErr);
      }
    expect(worst).toBeLessThan(1e-6);
  });

  it.each(['tfjs-wasm', 'onnx-cpu'])('applyRope2d rotates interleaved pairs per the definition (%s); class q/k become 0', async (name) => {
    const engine = await engineNamed(name);
    const cfg: RefConfig = { dim: 32, heads: 2, layers: 1, bitsPerToken: 1, tokens: 9, numClasses: 1, normEps: 1e-5, ropeBase: 10000 };
    const S = 10;
    const H = 2;
    const d = 16;
    const tables = buildRope2dTables({ headDim: d, gridSide: 3, clsTokens: 1, base: 10000 });
    const def: GraphDefinition = {
      name: 'rope',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', S, H, d] }],
      outputs: ['y'],
      build<T>(ops: Ops<T>, inp: Readonly<Record<string, T>>) {
        return { y: applyRope2d(ops, named(inp, 'x'), rope2dConstants(ops, tables), S, H) };
      },
    };
    const x = rngFor('rope-x').normalsF32(2 * S * H * d);
    const g = await engine.compile(def, new Map());
    const y = named(await g.run({ x: new CpuTensor(x, [2, S, H, d]) }), 'y').data as Float32Array;
    await g.dispose();
    const ref = new Float64Array(x.length);
    for (let b = 0; b < 2; b++)
      for (let s = 0; s < S; s++)
        for (let h = 0; h < H; h++) {
          const off = ((b * S + s) * H + h) * d;
          ref.set(refRope(Float64Array.from(x.subarray(off, off + d)), s, cfg), off);
        }
    expect(relativeMaxError(y, ref)).toBeLessThan(1e-6);
    for (const v of y.subarray(0, H * d)) expect(Math.abs(v)).toBe(0);
  });
});
