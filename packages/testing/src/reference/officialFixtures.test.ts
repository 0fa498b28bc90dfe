import { getOrThrow } from '@bigr/core';
import { expectClose } from '../expectClose.js';
import { loadFixture } from '../fixtures.js';
import * as R from './index.js';

// The float64 references reproduce the official PyTorch outputs of the tiny fixtures (float32 in PyTorch, so the
// tolerance is the 1e-5 absolute on backbone and denoiser activations given in docs/fixtures.md).
const TOL = { rtol: 1e-5, atol: 1e-5 };

test('rope2dTables equals the official freqs_cis (4×4 grid, head dim 16, class row zero)', async () => {
  const { tensors } = await loadFixture('backbone.safetensors');
  const freqs = R.fromTensor(getOrThrow(tensors, 'freqs_cis')); // (17, 8, 2) = (cos, sin)
  const { cos, sin } = R.rope2dTables(4, 16);
  expectClose(cos.data, R.reshape(R.slice(freqs, -1, 0, 1), [17, 8]).data, { rtol: 0, atol: 1e-7, what: 'cos' });
  expectClose(sin.data, R.reshape(R.slice(freqs, -1, 1, 2), [17, 8]).data, { rtol: 0, atol: 1e-7, what: 'sin' });
});

test('adaLnShared and llamaBlock reproduce the official backbone layers', async () => {
  const fx = (await loadFixture('backbone.safetensors')).tensors;
  const w = (await loadFixture('tiny_transformer_weights.safetensors')).tensors;
  const p = (name: string): R.F64Array => R.fromTensor(getOrThrow(w, name));
  const hIn = R.fromTensor(getOrThrow(fx, 'h_in'));
  // c = class embedding = token 0 of h_in.
  const c = R.reshape(R.slice(hIn, 1, 0, 1), [4, 64]);
  const modulation = R.adaLnShared(c, p('adaLN.1.weight'), p('adaLN.1.bias'));
  expectClose(modulation.data, getOrThrow(fx, 'adaln_out').data, { ...TOL, what: 'adaln_out' });
  const { cos, sin } = R.rope2dTables(4, 16);
  let h = hIn;
  for (const l of [0, 1]) {
    const weights: R.LlamaBlockWeights = {
      attentionNorm: p(`layers.${l}.attention_norm.weight`),
      wqkv: p(`layers.${l}.attention.wqkv.weight`),
      wo: p(`layers.${l}.attention.wo.weight`),
      ffnNorm: p(`layers.${l}.ffn_norm.weight`),
      w1: p(`layers.${l}.feed_forward.w1.weight`),
      w3: p(`layers.${l}.feed_forward.w3.weight`),
      w2: p(`layers.${l}.feed_forward.w2.weight`),
      adaGss: p(`layers.${l}.ada_gss`),
    };
    h = R.llamaBlock(h, weights, { heads: 4, eps: 1e-5, cos, sin, modulation });
    expectClose(h.data, getOrThrow(fx, `layer_out_${l}`).data, { ...TOL, what: `layer_out_${l}`, shape: h.shape });
  }
  expectClose(R.rmsNorm(h, p('norm.weight'), 1e-5).data, getOrThrow(fx, 'final_norm').data, { ...TOL, what: 'final_norm' });
});

test('adaLnMlpBlock and adaLnFinalLayer reproduce the official denoiser blocks', async () => {
  const fx = (await loadFixture('denoiser.safetensors')).tensors;
  const w = (await loadFixture('tiny_transformer_weights.safetensors')).tensors;
  const p = (name: string): R.F64Array => R.fromTensor(getOrThrow(w, `denoise_mlp.${name}`));
  const c = R.add(R.fromTensor(getOrThrow(fx, 't_emb')), R.fromTensor(getOrThrow(fx, 'c_emb')));
  let x = R.fromTensor(getOrThrow(fx, 'x_emb'));
  for (const b of [0, 1]) {
    x = R.adaLnMlpBlock(x, c, {
      adaWeight: p(`blocks.${b}.adaLN_modulation.1.weight`),
      adaBias: p(`blocks.${b}.adaLN_modulation.1.bias`),
      fc1Weight: p(`blocks.${b}.mlp.0.weight`),
      fc1Bias: p(`blocks.${b}.mlp.0.bias`),
      fc2Weight: p(`blocks.${b}.mlp.2.weight`),
      fc2Bias: p(`blocks.${b}.mlp.2.bias`),
    });
    expectClose(x.data, getOrThrow(fx, `block_out_${b}`).data, { ...TOL, what: `block_out_${b}`, shape: x.shape });
  }
  const logits = R.adaLnFinalLayer(x, c, {
    adaWeight: p('final_layer.adaLN_modulation.1.weight'),
    adaBias: p('final_layer.adaLN_modulation.1.bias'),
    weight: p('final_layer.linear.weight'),
    bias: p('final_layer.linear.bias'),
  });
  expectClose(logits.data, getOrThrow(fx, 'out_logits').data, { ...TOL, what: 'out_logits', shape: logits.shape });
});
