/** Conformance cases for the core layers: linear, modulate, rmsNorm, layerNorm, groupNorm, softplus, bceWithLogits. */
import { at, bceWithLogits, groupNorm, layerNorm, linear, modulate, rmsNorm, softplus, CpuTensor } from '@bigr/core';
import * as R from '../reference/index.js';
import { feed, normal, param, perBatch, uniform, values } from './caseHelpers.js';
import { graph, type ConformanceCase } from './types.js';

const linearCase: ConformanceCase = {
  name: 'linear (bias chosen by hasParam, rank 2 and 3)',
  group: 'layer',
  graph: graph(
    'conf_linear',
    [
      { name: 'x3', dtype: 'float32', shape: ['batch', 3, 8] },
      { name: 'x2', dtype: 'float32', shape: ['batch', 8] },
    ],
    ['withBias', 'noBias', 'rank2'],
    (ops, x) => ({
      withBias: linear(ops, x['x3'], 'fc', ops.hasParam('fc.bias')),
      noBias: linear(ops, x['x3'], 'proj', ops.hasParam('proj.bias')),
      rank2: linear(ops, x['x2'], 'fc'),
    }),
  ),
  setup: (rng) => ({
    params: new Map([
      ['fc.weight', normal(rng, [6, 8], 1 / Math.sqrt(8))],
      ['fc.bias', normal(rng, [6], 0.1)],
      ['proj.weight', normal(rng, [4, 8], 1 / Math.sqrt(8))],
    ]),
    feeds: perBatch((b) => ({ x3: normal(rng, [b, 3, 8]), x2: normal(rng, [b, 8]) })),
  }),
  reference: (p, f) => ({
    withBias: R.linear(feed(f, 'x3'), param(p, 'fc.weight'), param(p, 'fc.bias')),
    noBias: R.linear(feed(f, 'x3'), param(p, 'proj.weight'), null),
    rank2: R.linear(feed(f, 'x2'), param(p, 'fc.weight'), param(p, 'fc.bias')),
  }),
};

const modulateCase: ConformanceCase = {
  name: 'modulate (adaLN x·(1 + scale) + shift, per-sample chunks broadcast over the sequence)',
  group: 'layer',
  graph: graph(
    'conf_modulate',
    [
      { name: 'x', dtype: 'float32', shape: ['batch', 5, 16] },
      { name: 'shift', dtype: 'float32', shape: ['batch', 1, 16] },
      { name: 'scale', dtype: 'float32', shape: ['batch', 1, 16] },
    ],
    ['y'],
    (ops, x) => ({ y: modulate(ops, x['x'], x['shift'], x['scale']) }),
  ),
  setup: (rng) => ({
    params: new Map(),
    feeds: perBatch((b) => ({ x: normal(rng, [b, 5, 16]), shift: normal(rng, [b, 1, 16], 0.5), scale: normal(rng, [b, 1, 16], 0.5) })),
  }),
  reference: (_p, f) => ({
    y: R.binaryOp(
      R.binaryOp(feed(f, 'x'), feed(f, 'scale'), (v, s) => v * (1 + s)),
      feed(f, 'shift'),
      (v, s) => v + s,
    ),
  }),
};

const rmsNormCase: ConformanceCase = {
  name: 'rmsNorm (with and without weight)',
  group: 'layer',
  graph: graph('conf_rmsnorm', [{ name: 'x', dtype: 'float32', shape: ['batch', 5, 16] }], ['weighted', 'plain'], (ops, x) => ({
    weighted: rmsNorm(ops, x['x'], ops.param('norm.weight'), 1e-5),
    plain: rmsNorm(ops, x['x'], null, 1e-6),
  })),
  setup: (rng) => ({
    params: new Map([['norm.weight', uniform(rng, [16], 0.5, 1.5)]]),
    feeds: perBatch((b) => ({ x: normal(rng, [b, 5, 16], 3) })),
  }),
  reference: (p, f) => ({ weighted: R.rmsNorm(feed(f, 'x'), param(p, 'norm.weight'), 1e-5), plain: R.rmsNorm(feed(f, 'x'), null, 1e-6) }),
};

const layerNormCase: ConformanceCase = {
  name: 'layerNorm (affine, weight only, none)',
  group: 'layer',
  graph: graph('conf_layernorm', [{ name: 'x', dtype: 'float32', shape: ['batch', 5, 16] }], ['affine', 'weightOnly', 'none'], (ops, x) => ({
    affine: layerNorm(ops, x['x'], ops.param('ln.weight'), ops.param('ln.bias'), 1e-5),
    weightOnly: layerNorm(ops, x['x'], ops.param('ln.weight'), null, 1e-5),
    none: layerNorm(ops, x['x'], null, null, 1e-6),
  })),
  setup: (rng) => ({
    params: new Map([
      ['ln.weight', uniform(rng, [16], 0.5, 1.5)],
      ['ln.bias', normal(rng, [16], 0.5)],
    ]),
    // A common offset per row makes the mean subtraction matter.
    feeds: perBatch((b) => {
      const x = normal(rng, [b, 5, 16], 2);
      const shift = normal(rng, [b * 5], 3).data as Float32Array;
      const d = x.data as Float32Array;
      for (const [i, v] of d.entries()) d[i] = v + at(shift, Math.floor(i / 16));
      return { x };
    }),
  }),
  reference: (p, f) => ({
    affine: R.layerNorm(feed(f, 'x'), param(p, 'ln.weight'), param(p, 'ln.bias'), 1e-5),
    weightOnly: R.layerNorm(feed(f, 'x'), param(p, 'ln.weight'), null, 1e-5),
    none: R.layerNorm(feed(f, 'x'), null, null, 1e-6),
  }),
};

const groupNormCase: ConformanceCase = {
  name: 'groupNorm (NCHW, 4 groups and instance norm)',
  group: 'layer',
  graph: graph('conf_groupnorm', [{ name: 'x', dtype: 'float32', shape: ['batch', 8, 3, 4] }], ['groups4', 'groups8'], (ops, x) => ({
    groups4: groupNorm(ops, x['x'], ops.param('gn.weight'), ops.param('gn.bias'), { channels: 8, height: 3, width: 4, groups: 4, eps: 1e-6 }),
    groups8: groupNorm(ops, x['x'], ops.param('gn.weight'), ops.param('gn.bias'), { channels: 8, height: 3, width: 4, groups: 8, eps: 1e-5 }),
  })),
  setup: (rng) => ({
    params: new Map([
      ['gn.weight', uniform(rng, [8], 0.5, 1.5)],
      ['gn.bias', normal(rng, [8], 0.5)],
    ]),
    feeds: perBatch((b) => ({ x: normal(rng, [b, 8, 3, 4], 2) })),
  }),
  reference: (p, f) => ({
    groups4: R.groupNorm(feed(f, 'x'), param(p, 'gn.weight'), param(p, 'gn.bias'), 4, 1e-6),
    groups8: R.groupNorm(feed(f, 'x'), param(p, 'gn.weight'), param(p, 'gn.bias'), 8, 1e-5),
  }),
};

/** Extreme logits appended to every softplus/BCE input row: both tails and values near zero. */
const EXTREMES = [-60, -30, -1e-3, 0, 1e-3, 30, 60];

function withExtremes(random: CpuTensor, batch: number, width: number): CpuTensor {
  const out = new Float32Array(batch * (width + EXTREMES.length));
  for (let b = 0; b < batch; b++) {
    out.set((random.data as Float32Array).subarray(b * width, (b + 1) * width), b * (width + EXTREMES.length));
    out.set(EXTREMES, b * (width + EXTREMES.length) + width);
  }
  return new CpuTensor(out, [batch, width + EXTREMES.length]);
}

const softplusCase: ConformanceCase = {
  name: 'softplus (stable for large |x|)',
  group: 'layer',
  graph: graph('conf_softplus', [{ name: 'x', dtype: 'float32', shape: ['batch', 12 + EXTREMES.length] }], ['y'], (ops, x) => ({ y: softplus(ops, x['x']) })),
  setup: (rng) => ({ params: new Map(), feeds: perBatch((b) => ({ x: withExtremes(normal(rng, [b, 12], 6), b, 12) })) }),
  reference: (_p, f) => ({ y: R.softplus(feed(f, 'x')) }),
};

const bceCase: ConformanceCase = {
  name: 'bceWithLogits (hard and soft targets, large |logit|)',
  group: 'layer',
  graph: graph(
    'conf_bce',
    [
      { name: 'logits', dtype: 'float32', shape: ['batch', 10 + EXTREMES.length] },
      { name: 'targets', dtype: 'float32', shape: ['batch', 10 + EXTREMES.length] },
    ],
    ['loss'],
    (ops, x) => ({ loss: bceWithLogits(ops, x['logits'], x['targets']) }),
  ),
  setup: (rng) => ({
    params: new Map(),
    feeds: perBatch((b) => {
      const soft = uniform(rng, [b, 10 + EXTREMES.length], 0, 1).data as Float32Array;
      // Even rows get hard 0/1 targets, odd rows soft ones.
      const targets = soft.map((u, i) => (Math.floor(i / (10 + EXTREMES.length)) % 2 === 0 ? (u < 0.5 ? 0 : 1) : u));
      return { logits: withExtremes(normal(rng, [b, 10], 5), b, 10), targets: values([...targets], [b, 10 + EXTREMES.length]) };
    }),
  }),
  reference: (_p, f) => ({ loss: R.bceWithLogits(feed(f, 'logits'), feed(f, 'targets')) }),
};

/** Every core-layer case. */
export const LAYER_CASES: readonly ConformanceCase[] = [linearCase, modulateCase, rmsNormCase, layerNormCase, groupNormCase, softplusCase, bceCase];
