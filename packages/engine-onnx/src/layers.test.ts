import { at, groupNorm, lastDim, layerNorm, linear, rmsNorm } from '@bigr/core';
import { runGraph } from './test/harness.js';
import * as R from './test/reference.js';

const rand = R.makeRandom(99);

/** Naive per-row normalisation over the last axis. */
function normRows(x: R.Ref, f: (row: Float64Array, out: Float64Array) => void): R.Ref {
  const n = lastDim(x.shape);
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / n; r++) f(x.data.subarray(r * n, (r + 1) * n), out.subarray(r * n, (r + 1) * n));
  return { data: out, shape: [...x.shape] };
}

describe('core layers on the ONNX engine vs naive float64 references', () => {
  test('linear with and without bias, rank 2 and 3 inputs', async () => {
    const x = R.randomTensor(rand, [2, 3, 8]);
    const x2 = R.randomTensor(rand, [4, 8]);
    const w = R.randomTensor(rand, [5, 8]);
    const b = R.randomTensor(rand, [5]);
    const params = new Map([
      ['fc.weight', w.t],
      ['fc.bias', b.t],
    ]);
    const out = await runGraph(
      { x: x.t, x2: x2.t },
      ['y', 'y2', 'nb'],
      (ops, v) => ({ y: linear(ops, v['x'], 'fc'), y2: linear(ops, v['x2'], 'fc'), nb: linear(ops, v['x'], 'fc', false) }),
      params,
    );
    // y[..., o] = Σ_i x[..., i] W[o, i] + b[o], written out directly.
    const ref = (xr: R.Ref, bias: boolean): R.Ref => {
      const rows = xr.data.length / 8;
      const data = new Float64Array(rows * 5);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < 5; o++) {
          let s = bias ? at(b.ref.data, o) : 0;
          for (let i = 0; i < 8; i++) s += at(xr.data, r * 8 + i) * at(w.ref.data, o * 8 + i);
          data[r * 5 + o] = s;
        }
      return { data, shape: [...xr.shape.slice(0, -1), 5] };
    };
    R.expectClose(out['y'], ref(x.ref, true));
    R.expectClose(out['y2'], ref(x2.ref, true));
    R.expectClose(out['nb'], ref(x.ref, false));
  });

  test('rmsNorm with weight and layerNorm with and without affine', async () => {
    const x = R.randomTensor(rand, [2, 5, 16], -3, 3);
    const g = R.randomTensor(rand, [16], 0.5, 1.5);
    const bb = R.randomTensor(rand, [16]);
    const eps = 1e-6;
    const out = await runGraph(
      { x: x.t },
      ['rms', 'ln', 'ln0'],
      (ops, v) => ({
        rms: rmsNorm(ops, v['x'], ops.param('g'), eps),
        ln: layerNorm(ops, v['x'], ops.param('g'), ops.param('b'), 1e-5),
        ln0: layerNorm(ops, v['x'], null, null, 1e-5),
      }),
      new Map([
        ['g', g.t],
        ['b', bb.t],
      ]),
    );
    const rms = normRows(x.ref, (row, o) => {
      let ms = 0;
      for (const v of row) ms += v * v;
      const s = 1 / Math.sqrt(ms / row.length + eps);
      row.forEach((v, i) => {
        o[i] = v * s * at(g.ref.data, i);
      });
    });
    const ln = (affine: boolean): R.Ref =>
      normRows(x.ref, (row, o) => {
        let mu = 0;
        for (const v of row) mu += v;
        mu /= row.length;
        let vr = 0;
        for (const v of row) vr += (v - mu) ** 2;
        vr /= row.length;
        row.forEach((v, i) => {
          o[i] = ((v - mu) / Math.sqrt(vr + 1e-5)) * (affine ? at(g.ref.data, i) : 1) + (affine ? at(bb.ref.data, i) : 0);
        });
      });
    R.expectClose(out['rms'], rms);
    R.expectClose(out['ln'], ln(true));
    R.expectClose(out['ln0'], ln(false));
  });

  test('groupNorm (NCHW, PyTorch semantics)', async () => {
    const [N, C, H, W, G] = [2, 6, 3, 4, 3];
    const x = R.randomTensor(rand, [N, C, H, W], -2, 2);
    const w = R.randomTensor(rand, [C], 0.5, 1.5);
    const b = R.randomTensor(rand, [C]);
    const eps = 1e-5;
    const out = await runGraph(
      { x: x.t },
      ['y'],
      (ops, v) => ({ y: groupNorm(ops, v['x'], ops.param('w'), ops.param('b'), { channels: C, height: H, width: W, groups: G, eps }) }),
      new Map([
        ['w', w.t],
        ['b', b.t],
      ]),
    );
    const data = new Float64Array(x.ref.data.length);
    const cg = C / G;
    const per = cg * H * W;
    for (let n = 0; n < N; n++)
      for (let g = 0; g < G; g++) {
        const base = (n * C + g * cg) * H * W;
        const group = x.ref.data.subarray(base, base + per);
        let mu = 0;
        for (const v of group) mu += v;
        mu /= per;
        let vr = 0;
        for (const v of group) vr += (v - mu) ** 2;
        vr /= per;
        for (const [i, v] of group.entries()) {
          const c = g * cg + Math.floor(i / (H * W));
          data[base + i] = ((v - mu) / Math.sqrt(vr + eps)) * at(w.ref.data, c) + at(b.ref.data, c);
        }
      }
    R.expectClose(out['y'], { data, shape: [N, C, H, W] });
  });
});
