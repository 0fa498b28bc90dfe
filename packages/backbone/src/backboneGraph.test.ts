import { at, CpuTensor, required, type Engine, type GraphDefinition, type NamedTensors, type Ops } from '@bigr/core';
import { resolveBackboneConfig, type BackboneConfig } from './config.js';
import { backboneGraph, blockDims, configRopeTables, transformerBlock } from './backboneGraph.js';
import { multiLayerRepresentationGraph, representationGraph } from './featureExtraction.js';
import { rope2dConstants } from './rope2d.js';
import { engineNamed, named, randomBackboneParams, randomBits, readFixture, refConfig, rngFor, tensorNamed } from './test/helpers.js';
import { flat, refBlock, refForward } from './test/reference.js';
import { relativeMaxError, maxAbsDiff } from '@bigr/testing';

const ENGINES = ['tfjs-wasm', 'onnx-cpu'] as const;

/** A small config that differs from the fixture in every shape (3 layers, 3 heads of 16, K = 12, a 5×5 grid, 7 classes). */
const CONFIG: BackboneConfig = resolveBackboneConfig({ dim: 48, layers: 3, heads: 3, bitsPerToken: 12, tokens: 25, numClasses: 7 });
const B = 3;

describe.each(ENGINES)('backbone forward on %s', (engineName) => {
  let engine: Engine;
  let params: NamedTensors;
  const rng = rngFor('backbone-forward');
  const bits = randomBits(B * CONFIG.tokens * CONFIG.bitsPerToken, rng);
  const mask = randomBits(B * CONFIG.tokens, rng);
  mask.fill(0, CONFIG.tokens, 2 * CONFIG.tokens); // sample 1: nothing masked
  const labels = Int32Array.from([2, CONFIG.numClasses, 0]);

  beforeAll(async () => {
    engine = await engineNamed(engineName);
    params = randomBackboneParams(CONFIG, rngFor('weights'));
  });

  async function run(def: GraphDefinition, feeds: Record<string, CpuTensor>): Promise<Record<string, CpuTensor>> {
    const g = await engine.compile(def, params);
    try {
      return await g.run(feeds);
    } finally {
      await g.dispose();
    }
  }

  it('one block equals the float64 reference', async () => {
    const S = 1 + CONFIG.tokens;
    const D = CONFIG.dim;
    const x = rngFor('block-x').normalsF32(B * S * D);
    const ada = rngFor('block-ada')
      .normalsF32(B * 6 * D)
      .map((v) => 0.3 * v);
    const def: GraphDefinition = {
      name: 'block',
      inputs: [
        { name: 'x', dtype: 'float32', shape: ['batch', S, D] },
        { name: 'ada', dtype: 'float32', shape: ['batch', 1, 6 * D] },
      ],
      outputs: ['y'],
      build<T>(ops: Ops<T>, inp: Readonly<Record<string, T>>) {
        return { y: transformerBlock(ops, named(inp, 'x'), 1, named(inp, 'ada'), blockDims(CONFIG), rope2dConstants(ops, configRopeTables(CONFIG))) };
      },
    };
    const out = await run(def, { x: new CpuTensor(x, [B, S, D]), ada: new CpuTensor(ada, [B, 1, 6 * D]) });
    const ref: Float64Array[][] = [];
    for (let b = 0; b < B; b++) {
      const rows = Array.from({ length: S }, (_, s) => Float64Array.from(x.subarray((b * S + s) * D, (b * S + s + 1) * D)));
      ref.push(refBlock(params, refConfig(CONFIG), 1, rows, Float64Array.from(ada.subarray(b * 6 * D, (b + 1) * 6 * D))));
    }
    expect(relativeMaxError(named(out, 'y').data as Float32Array, flat(ref))).toBeLessThan(1e-5);
  });

  it('the full model equals the float64 reference (every intermediate)', async () => {
    const def = backboneGraph(CONFIG, { debugOutputs: ['h_in', 'adaln_out', 'layer_out_0', 'layer_out_1', 'layer_out_2', 'final_norm'] });
    const out = await run(def, {
      bits: new CpuTensor(bits, [B, CONFIG.tokens, CONFIG.bitsPerToken]),
      mask: new CpuTensor(mask, [B, CONFIG.tokens]),
      labels: new CpuTensor(labels, [B]),
    });
    const ref = refForward(params, refConfig(CONFIG), bits, mask, { labels }, B);
    expect(relativeMaxError(named(out, 'h_in').data as Float32Array, flat(ref.hIn))).toBeLessThan(1e-6);
    expect(relativeMaxError(named(out, 'adaln_out').data as Float32Array, flat(ref.adaLN.map((a) => [a])))).toBeLessThan(1e-6);
    for (let l = 0; l < CONFIG.layers; l++) {
      expect(relativeMaxError(named(out, `layer_out_${l}`).data as Float32Array, flat(ref.layers.map((x) => at(x, l, 'layer output'))))).toBeLessThan(1e-5);
    }
    expect(relativeMaxError(named(out, 'final_norm').data as Float32Array, flat(ref.finalNorm))).toBeLessThan(1e-5);
    expect(relativeMaxError(named(out, 'features').data as Float32Array, flat(ref.features))).toBeLessThan(1e-5);
  });

  it('the class-weights and embedding condition inputs give the same features as labels', async () => {
    const C1 = CONFIG.numClasses + 1;
    const weights = new Float32Array(B * C1);
    labels.forEach((y, i) => {
      weights[i * C1 + y] = 1;
    });
    const table = tensorNamed(params, 'cls_embedding.embedding_table.weight').data as Float32Array;
    const vectors = new Float32Array(B * CONFIG.dim);
    labels.forEach((y, i) => {
      vectors.set(table.subarray(y * CONFIG.dim, (y + 1) * CONFIG.dim), i * CONFIG.dim);
    });
    const common = { bits: new CpuTensor(bits, [B, CONFIG.tokens, CONFIG.bitsPerToken]), mask: new CpuTensor(mask, [B, CONFIG.tokens]) };
    const a = await run(backboneGraph(CONFIG), { ...common, labels: new CpuTensor(labels, [B]) });
    const b = await run(backboneGraph(CONFIG, { condition: 'classWeights' }), { ...common, class_weights: new CpuTensor(weights, [B, C1]) });
    const c = await run(backboneGraph(CONFIG, { condition: 'embedding' }), { ...common, cond_embedding: new CpuTensor(vectors, [B, CONFIG.dim]) });
    expect(maxAbsDiff(named(a, 'features').data, named(b, 'features').data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(named(a, 'features').data, named(c, 'features').data)).toBeLessThan(1e-6);
  });

  it('a condition-token sequence without adaLN (the docs/algorithm.md §9 text-to-image layout) equals the reference', async () => {
    const cfg = resolveBackboneConfig({ dim: 32, layers: 2, heads: 2, bitsPerToken: 6, tokens: 9, numClasses: 3, clsTokenNum: 3, useAdaLN: false });
    const p = randomBackboneParams(cfg, rngFor('t2i-weights'));
    expect(p.has('adaLN.1.weight')).toBe(false);
    const condTokens = rngFor('t2i-cond').normalsF32(2 * 3 * 32);
    const b2 = randomBits(2 * 9 * 6, rngFor('t2i-bits'));
    const m2 = Float32Array.from([1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const g = await engine.compile(backboneGraph(cfg, { condition: 'tokens' }), p);
    const out = await g.run({ bits: new CpuTensor(b2, [2, 9, 6]), mask: new CpuTensor(m2, [2, 9]), cond_tokens: new CpuTensor(condTokens, [2, 3, 32]) });
    await g.dispose();
    const ref = refForward(p, refConfig(cfg), b2, m2, { tokens: condTokens }, 2);
    expect(relativeMaxError(named(out, 'features').data as Float32Array, flat(ref.features))).toBeLessThan(1e-5);
    expect(() => backboneGraph(CONFIG, { condition: 'tokens' })).toThrow(/useAdaLN/);
  });

  it('attention is bidirectional and masked tokens are hidden', async () => {
    const g = await engine.compile(backboneGraph(CONFIG), params);
    try {
      const N = CONFIG.tokens;
      const K = CONFIG.bitsPerToken;
      const noMask = new Float32Array(B * N);
      const base = await g.run({ bits: new CpuTensor(bits, [B, N, K]), mask: new CpuTensor(noMask, [B, N]), labels: new CpuTensor(labels, [B]) });
      // Flip every bit of the last token of each sample: the first token's features must change.
      const late = bits.slice();
      for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) late[(b * N + N - 1) * K + k] = 1 - at(late, (b * N + N - 1) * K + k, 'bit');
      const changed = await g.run({ bits: new CpuTensor(late, [B, N, K]), mask: new CpuTensor(noMask, [B, N]), labels: new CpuTensor(labels, [B]) });
      const D = CONFIG.dim;
      for (let b = 0; b < B; b++) {
        const first = (x: CpuTensor) => (x.data as Float32Array).subarray(b * N * D, b * N * D + D);
        expect(maxAbsDiff(first(named(base, 'features')), first(named(changed, 'features')))).toBeGreaterThan(1e-3);
      }
      // Mask the last token: now its bits must not matter at all (bit-identical outputs).
      const lastMasked = new Float32Array(B * N);
      for (let b = 0; b < B; b++) lastMasked[b * N + N - 1] = 1;
      const m1 = await g.run({ bits: new CpuTensor(bits, [B, N, K]), mask: new CpuTensor(lastMasked, [B, N]), labels: new CpuTensor(labels, [B]) });
      const m2 = await g.run({ bits: new CpuTensor(late, [B, N, K]), mask: new CpuTensor(lastMasked, [B, N]), labels: new CpuTensor(labels, [B]) });
      expect(maxAbsDiff(named(m1, 'features').data, named(m2, 'features').data)).toBe(0);
    } finally {
      await g.dispose();
    }
  });
});

describe.each(ENGINES)('parity with the official tiny fixture on %s', (engineName) => {
  const config = resolveBackboneConfig({ dim: 64, layers: 2, heads: 4, bitsPerToken: 16, tokens: 16, numClasses: 10 });
  let engine: Engine;
  let weights: NamedTensors;
  let fx: NamedTensors;
  beforeAll(async () => {
    engine = await engineNamed(engineName);
    weights = await readFixture('tiny_transformer_weights.safetensors');
    fx = await readFixture('backbone.safetensors');
  });

  it('Transformer.forward intermediates match to 1e-5', async () => {
    const g = await engine.compile(backboneGraph(config, { debugOutputs: ['h_in', 'adaln_out', 'layer_out_0', 'layer_out_1', 'final_norm'] }), weights);
    try {
      const out = await g.run({
        bits: tensorNamed(fx, 'codes') as CpuTensor<'float32'>,
        mask: new CpuTensor(Float32Array.from(tensorNamed(fx, 'token_mask').data), [4, 16]),
        labels: tensorNamed(fx, 'labels') as CpuTensor<'int32'>,
      });
      for (const [ours, theirs] of [
        ['h_in', 'h_in'],
        ['adaln_out', 'adaln_out'],
        ['layer_out_0', 'layer_out_0'],
        ['layer_out_1', 'layer_out_1'],
        ['final_norm', 'final_norm'],
        ['features', 'cond_logits'],
      ] as const) {
        expect(named(out, ours).shape).toEqual(tensorNamed(fx, theirs).shape);
        expect(maxAbsDiff(named(out, ours).data, tensorNamed(fx, theirs).data)).toBeLessThan(1e-5);
      }
    } finally {
      await g.dispose();
    }
  });

  it.each([0, 1, 5])('representations of layer %i match forward_full_image', async (layer) => {
    const g = await engine.compile(representationGraph(config, { layer }), weights);
    try {
      const out = await g.run({ bits: tensorNamed(fx, 'codes') as CpuTensor<'float32'>, labels: new CpuTensor(new Int32Array(4).fill(10), [4]) });
      const L = Math.min(layer, 1);
      expect(maxAbsDiff(named(out, 'tokens').data, tensorNamed(fx, `repr_tokens_layer${L}`).data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(named(out, 'pooled').data, tensorNamed(fx, `repr_pooled_layer${L}`).data)).toBeLessThan(1e-5);
    } finally {
      await g.dispose();
    }
  });

  it('the multi-layer representation graph pools each requested block as forward_full_image', async () => {
    const g = await engine.compile(multiLayerRepresentationGraph(config, [1, 0]), weights);
    try {
      const out = await g.run({ bits: required(fx.get('codes'), 'codes') as CpuTensor<'float32'>, labels: new CpuTensor(new Int32Array(4).fill(10), [4]) });
      expect(g.outputNames).toEqual(['pooled_1', 'pooled_0']);
      for (const l of [0, 1]) {
        const ours = required(out[`pooled_${l}`], `pooled_${l}`);
        const theirs = required(fx.get(`repr_pooled_layer${l}`), `repr_pooled_layer${l}`);
        expect(ours.shape).toEqual(theirs.shape);
        expect(maxAbsDiff(ours.data, theirs.data)).toBeLessThan(1e-5);
      }
    } finally {
      await g.dispose();
    }
    expect(() => multiLayerRepresentationGraph(config, [2])).toThrow(/blocks 0…1/);
    expect(() => multiLayerRepresentationGraph(config, [])).toThrow(/at least one layer/);
  });
});
