/**
 * Conformance cases for the composite blocks: the BiGR backbone Llama block (RMSNorm, bidirectional attention with
 * interleaved 2-D RoPE including the zero class-token rows, SwiGLU) with and without adaLN, a two-layer stack with
 * shared adaLN and final RMSNorm, and the transcoder's adaLN MLP block with its final layer.
 */
import { rmsNorm, type CpuTensor, type NamedTensors, type Rng } from '@bigr/core';
import * as R from '../reference/index.js';
import { DYNAMIC_BATCHES, feed, normal, param, perBatch, uniform, values } from './caseHelpers.js';
import { adaLnFinalLayer, adaLnMlpBlock } from './adaLnBlockGraph.js';
import { layerModulation, llamaBlock, sharedAdaLn, type LlamaBlockDims } from './llamaBlockGraph.js';
import { graph, type ConformanceCase, type Feeds } from './types.js';

/** Tiny backbone: 3×3 grid + 1 class token, D = 32, 4 heads of 8, SwiGLU hidden 96, eps 1e-5, dropout 0.1. */
const GRID = 3;
const DIMS: LlamaBlockDims = { tokens: 1 + GRID * GRID, dim: 32, heads: 4, eps: 1e-5, dropout: 0.1 };
const HIDDEN = 96;
const HALF = DIMS.dim / DIMS.heads / 2;

/** float32-rounded 2-D RoPE tables of docs/algorithm.md §2.5 (class row of zeros), fed as graph inputs. */
function ropeFeeds(): { rope_cos: CpuTensor; rope_sin: CpuTensor } {
  const t = R.rope2dTables(GRID, DIMS.dim / DIMS.heads, 10000, 1);
  return { rope_cos: values([...t.cos.data], [DIMS.tokens, HALF]), rope_sin: values([...t.sin.data], [DIMS.tokens, HALF]) };
}

/** Random weights of block `prefix`, scaled like a trained network (unit-ish activations). */
function blockParams(rng: Rng, prefix: string, out: NamedTensors, adaLn: boolean): void {
  const d = DIMS.dim;
  out.set(`${prefix}.attention_norm.weight`, uniform(rng, [d], 0.8, 1.2));
  out.set(`${prefix}.ffn_norm.weight`, uniform(rng, [d], 0.8, 1.2));
  out.set(`${prefix}.attention.wqkv.weight`, normal(rng, [3 * d, d], 1.5 / Math.sqrt(d)));
  out.set(`${prefix}.attention.wo.weight`, normal(rng, [d, d], 1 / Math.sqrt(d)));
  out.set(`${prefix}.feed_forward.w1.weight`, normal(rng, [HIDDEN, d], 1 / Math.sqrt(d)));
  out.set(`${prefix}.feed_forward.w3.weight`, normal(rng, [HIDDEN, d], 1 / Math.sqrt(d)));
  out.set(`${prefix}.feed_forward.w2.weight`, normal(rng, [d, HIDDEN], 1 / Math.sqrt(HIDDEN)));
  if (adaLn) out.set(`${prefix}.ada_gss`, normal(rng, [1, 1, 6, d], 0.15));
}

function sharedAdaLnParams(rng: Rng, out: NamedTensors): void {
  out.set('adaLN.1.weight', normal(rng, [6 * DIMS.dim, DIMS.dim], 0.5 / Math.sqrt(DIMS.dim)));
  out.set('adaLN.1.bias', normal(rng, [6 * DIMS.dim], 0.05));
}

function blockWeights(p: NamedTensors, prefix: string, adaLn: boolean): R.LlamaBlockWeights {
  return {
    attentionNorm: param(p, `${prefix}.attention_norm.weight`),
    wqkv: param(p, `${prefix}.attention.wqkv.weight`),
    wo: param(p, `${prefix}.attention.wo.weight`),
    ffnNorm: param(p, `${prefix}.ffn_norm.weight`),
    w1: param(p, `${prefix}.feed_forward.w1.weight`),
    w3: param(p, `${prefix}.feed_forward.w3.weight`),
    w2: param(p, `${prefix}.feed_forward.w2.weight`),
    ...(adaLn ? { adaGss: param(p, `${prefix}.ada_gss`) } : {}),
  };
}

const ROPE_INPUTS = [
  { name: 'rope_cos', dtype: 'float32', shape: [DIMS.tokens, HALF] },
  { name: 'rope_sin', dtype: 'float32', shape: [DIMS.tokens, HALF] },
] as const;

const llamaAdaLnCase: ConformanceCase = {
  name: 'llama block with adaLN (RMSNorm, RoPE attention, SwiGLU), dynamic batch',
  group: 'block',
  graph: graph(
    'conf_llama_block_adaln',
    [{ name: 'x', dtype: 'float32', shape: ['batch', DIMS.tokens, DIMS.dim] }, { name: 'c', dtype: 'float32', shape: ['batch', DIMS.dim] }, ...ROPE_INPUTS],
    ['y'],
    (ops, x) => {
      const mod = layerModulation(ops, sharedAdaLn(ops, x['c'], DIMS.dim), 'layers.0', DIMS.dim);
      return { y: llamaBlock(ops, x['x'], x['rope_cos'], x['rope_sin'], mod, 'layers.0', DIMS) };
    },
  ),
  setup: (rng) => {
    const params: NamedTensors = new Map();
    sharedAdaLnParams(rng, params);
    blockParams(rng, 'layers.0', params, true);
    const rope = ropeFeeds();
    return { params, feeds: perBatch((b) => ({ x: normal(rng, [b, DIMS.tokens, DIMS.dim]), c: normal(rng, [b, DIMS.dim]), ...rope })) };
  },
  reference: (p, f) => {
    const modulation = R.adaLnShared(feed(f, 'c'), param(p, 'adaLN.1.weight'), param(p, 'adaLN.1.bias'));
    const opts = { heads: DIMS.heads, eps: DIMS.eps, cos: feed(f, 'rope_cos'), sin: feed(f, 'rope_sin'), modulation };
    return { y: R.llamaBlock(feed(f, 'x'), blockWeights(p, 'layers.0', true), opts) };
  },
};

const llamaPlainCase: ConformanceCase = {
  name: 'llama block without adaLN (plain pre-norm)',
  group: 'block',
  graph: graph('conf_llama_block_plain', [{ name: 'x', dtype: 'float32', shape: [2, DIMS.tokens, DIMS.dim] }, ...ROPE_INPUTS], ['y'], (ops, x) => ({
    y: llamaBlock(ops, x['x'], x['rope_cos'], x['rope_sin'], null, 'layers.0', DIMS),
  })),
  setup: (rng) => {
    const params: NamedTensors = new Map();
    blockParams(rng, 'layers.0', params, false);
    return { params, feeds: [{ x: normal(rng, [2, DIMS.tokens, DIMS.dim]), ...ropeFeeds() }] };
  },
  reference: (p, f) => {
    const opts = { heads: DIMS.heads, eps: DIMS.eps, cos: feed(f, 'rope_cos'), sin: feed(f, 'rope_sin'), modulation: null };
    return { y: R.llamaBlock(feed(f, 'x'), blockWeights(p, 'layers.0', false), opts) };
  },
};

const llamaStackCase: ConformanceCase = {
  name: 'llama 2-layer stack, shared adaLN, final RMSNorm, dynamic batch',
  group: 'block',
  graph: graph(
    'conf_llama_stack',
    [{ name: 'x', dtype: 'float32', shape: ['batch', DIMS.tokens, DIMS.dim] }, { name: 'c', dtype: 'float32', shape: ['batch', DIMS.dim] }, ...ROPE_INPUTS],
    ['h', 'features'],
    (ops, x) => {
      const shared = sharedAdaLn(ops, x['c'], DIMS.dim);
      let h = x['x'];
      for (const l of [0, 1]) h = llamaBlock(ops, h, x['rope_cos'], x['rope_sin'], layerModulation(ops, shared, `layers.${l}`, DIMS.dim), `layers.${l}`, DIMS);
      // Final norm, then drop the class token (docs/algorithm.md §2.3 step 7).
      return { h, features: ops.slice(rmsNorm(ops, h, ops.param('norm.weight'), DIMS.eps), 1, 1, DIMS.tokens) };
    },
  ),
  setup: (rng) => {
    const params: NamedTensors = new Map();
    sharedAdaLnParams(rng, params);
    blockParams(rng, 'layers.0', params, true);
    blockParams(rng, 'layers.1', params, true);
    params.set('norm.weight', uniform(rng, [DIMS.dim], 0.8, 1.2));
    const rope = ropeFeeds();
    return { params, feeds: perBatch((b) => ({ x: normal(rng, [b, DIMS.tokens, DIMS.dim]), c: normal(rng, [b, DIMS.dim]), ...rope })) };
  },
  reference: (p, f) => {
    const modulation = R.adaLnShared(feed(f, 'c'), param(p, 'adaLN.1.weight'), param(p, 'adaLN.1.bias'));
    const opts = { heads: DIMS.heads, eps: DIMS.eps, cos: feed(f, 'rope_cos'), sin: feed(f, 'rope_sin'), modulation };
    let h = feed(f, 'x');
    for (const l of [0, 1]) h = R.llamaBlock(h, blockWeights(p, `layers.${l}`, true), opts);
    return { h, features: R.slice(R.rmsNorm(h, param(p, 'norm.weight'), DIMS.eps), 1, 1, DIMS.tokens) };
  },
};

/** Transcoder width and bits for the adaLN MLP case. */
const DH = 32;
const BITS = 8;

function adaLnMlpWeights(p: NamedTensors, prefix: string): R.AdaLnMlpBlockWeights {
  return {
    adaWeight: param(p, `${prefix}.adaLN_modulation.1.weight`),
    adaBias: param(p, `${prefix}.adaLN_modulation.1.bias`),
    fc1Weight: param(p, `${prefix}.mlp.0.weight`),
    fc1Bias: param(p, `${prefix}.mlp.0.bias`),
    fc2Weight: param(p, `${prefix}.mlp.2.weight`),
    fc2Bias: param(p, `${prefix}.mlp.2.bias`),
  };
}

const adaLnMlpCase: ConformanceCase = {
  name: 'adaLN MLP block (DiT, LayerNorm eps 1e-6) x2 + final layer, dynamic rows',
  group: 'block',
  graph: graph(
    'conf_adaln_mlp',
    [
      { name: 'a', dtype: 'float32', shape: ['rows', DH] },
      { name: 'c', dtype: 'float32', shape: ['rows', DH] },
    ],
    ['block0', 'blocks', 'logits'],
    (ops, x) => {
      const block0 = adaLnMlpBlock(ops, x['a'], x['c'], 'blocks.0', DH);
      const blocks = adaLnMlpBlock(ops, block0, x['c'], 'blocks.1', DH);
      return { block0, blocks, logits: adaLnFinalLayer(ops, blocks, x['c'], 'final_layer', DH) };
    },
  ),
  setup: (rng) => {
    const params: NamedTensors = new Map();
    for (const prefix of ['blocks.0', 'blocks.1']) {
      params.set(`${prefix}.adaLN_modulation.1.weight`, normal(rng, [3 * DH, DH], 0.5 / Math.sqrt(DH)));
      params.set(`${prefix}.adaLN_modulation.1.bias`, normal(rng, [3 * DH], 0.1));
      params.set(`${prefix}.mlp.0.weight`, normal(rng, [DH, DH], 1 / Math.sqrt(DH)));
      params.set(`${prefix}.mlp.0.bias`, normal(rng, [DH], 0.1));
      params.set(`${prefix}.mlp.2.weight`, normal(rng, [DH, DH], 1 / Math.sqrt(DH)));
      params.set(`${prefix}.mlp.2.bias`, normal(rng, [DH], 0.1));
    }
    params.set('final_layer.adaLN_modulation.1.weight', normal(rng, [2 * DH, DH], 0.5 / Math.sqrt(DH)));
    params.set('final_layer.adaLN_modulation.1.bias', normal(rng, [2 * DH], 0.1));
    params.set('final_layer.linear.weight', normal(rng, [BITS, DH], 1 / Math.sqrt(DH)));
    params.set('final_layer.linear.bias', normal(rng, [BITS], 0.1));
    const feeds: Feeds[] = DYNAMIC_BATCHES.map((b) => ({ a: normal(rng, [3 * b, DH], 1.5), c: normal(rng, [3 * b, DH]) }));
    return { params, feeds };
  },
  reference: (p, f) => {
    const [a, c] = [feed(f, 'a'), feed(f, 'c')];
    const block0 = R.adaLnMlpBlock(a, c, adaLnMlpWeights(p, 'blocks.0'));
    const blocks = R.adaLnMlpBlock(block0, c, adaLnMlpWeights(p, 'blocks.1'));
    const final = {
      adaWeight: param(p, 'final_layer.adaLN_modulation.1.weight'),
      adaBias: param(p, 'final_layer.adaLN_modulation.1.bias'),
      weight: param(p, 'final_layer.linear.weight'),
      bias: param(p, 'final_layer.linear.bias'),
    };
    return { block0, blocks, logits: R.adaLnFinalLayer(blocks, c, final) };
  },
};

/** Every composite-block case. */
export const BLOCK_CASES: readonly ConformanceCase[] = [llamaAdaLnCase, llamaPlainCase, llamaStackCase, adaLnMlpCase];
