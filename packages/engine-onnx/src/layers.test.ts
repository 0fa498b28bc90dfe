import { groupNorm, layerNorm, linear, rmsNorm } from '@bigr/core';
import { reference as T } from '@bigr/testing';
import { runGraph } from './test/harness.js';
import * as R from './test/reference.js';

const rand = R.makeRandom(99);

describe('core layers on the ONNX engine vs the float64 references of @bigr/testing', () => {
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
    const ref = (xr: R.Ref, bias: boolean): R.Ref => T.linear(xr, w.ref, bias ? b.ref : null);
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
    const rms = T.rmsNorm(x.ref, g.ref, eps);
    const ln = (affine: boolean): R.Ref => T.layerNorm(x.ref, affine ? g.ref : null, affine ? bb.ref : null, 1e-5);
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
    R.expectClose(out['y'], T.groupNorm(x.ref, w.ref, b.ref, G, eps));
  });
});
