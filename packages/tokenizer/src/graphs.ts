import { required, type GraphDefinition, type Ops } from '@bigr/core';
import { blockOutputName, type BlockTap } from './blockPlan.js';
import { latentGrid, type BaeConfig } from './config.js';
import { decoder, decoderPlan } from './decoder.js';
import { encoder, encoderPlan } from './encoder.js';
import { codeProbabilities, embedCodes, latentToTokens, tokensToLatent } from './quantizer.js';

/** A block tap that records every block output into `out` under its fixture name (the graphs' `withBlocks`). */
function recordInto<T>(out: Record<string, T>): BlockTap<T> {
  return (name, v) => {
    out[name] = v;
  };
}

/** Options of {@link encoderGraph}. */
export interface EncoderGraphOptions {
  /** Also output `enc_out` [B, embDim, h, w] and `code_prob` [B, K, h, w]. Default false. */
  readonly withFeatures?: boolean;
  /** Also output every encoder block's output under its fixture name (`enc00_Conv2d`, …). Default false. */
  readonly withBlocks?: boolean;
}

/**
 * Encoder graph: input `image` [batch, C, H, W] float32 in [0, 1] → output `probabilities` [batch, N, K]
 * (token layout, docs/algorithm.md §0), the Bernoulli parameters of the codes. Binarisation happens outside the graph
 * (see `binarize`), because it is random or a comparison.
 */
export function encoderGraph(config: BaeConfig, height: number, width: number, options: EncoderGraphOptions = {}): GraphDefinition {
  const grid = latentGrid(config, height, width);
  const outputs = ['probabilities'];
  if (options.withFeatures) outputs.push('enc_out', 'code_prob');
  if (options.withBlocks) for (const s of encoderPlan(config)) outputs.push(blockOutputName('enc', s));
  return {
    name: `bae_encoder_${height}x${width}_k${config.codeDim}`,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', config.inChannels, height, width] }],
    outputs,
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const out: Record<string, T> = {};
      const tap = options.withBlocks ? recordInto(out) : undefined;
      const feats = encoder(ops, required(inputs['image'], 'encoder graph input "image"'), config, { height, width }, tap);
      const prob = codeProbabilities(ops, feats);
      out['probabilities'] = latentToTokens(ops, prob, config.codeDim, grid);
      if (options.withFeatures) {
        out['enc_out'] = feats;
        out['code_prob'] = prob;
      }
      return out;
    },
  };
}

/** Options of {@link decoderGraph}. */
export interface DecoderGraphOptions {
  /** Also output `quant` [B, embDim, h, w]. Default false. */
  readonly withQuant?: boolean;
  /** Also output every generator block's output under its fixture name (`gen00_GroupNorm`, …). Default false. */
  readonly withBlocks?: boolean;
}

/**
 * Decoder graph: input `bits` [batch, N, K] float32 0/1 (token layout) → output `image` [batch, C, H, W]
 * (not clamped; docs/algorithm.md §1.5 `decode(bits)` = generator(einsum(bits, E))).
 */
export function decoderGraph(config: BaeConfig, height: number, width: number, options: DecoderGraphOptions = {}): GraphDefinition {
  const grid = latentGrid(config, height, width);
  const n = grid[0] * grid[1];
  const outputs = ['image'];
  if (options.withQuant) outputs.push('quant');
  if (options.withBlocks) for (const s of decoderPlan(config)) outputs.push(blockOutputName('gen', s));
  return {
    name: `bae_decoder_${height}x${width}_k${config.codeDim}`,
    inputs: [{ name: 'bits', dtype: 'float32', shape: ['batch', n, config.codeDim] }],
    outputs,
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const out: Record<string, T> = {};
      const tap = options.withBlocks ? recordInto(out) : undefined;
      const latent = tokensToLatent(ops, required(inputs['bits'], 'decoder graph input "bits"'), config.codeDim, grid);
      const quant = embedCodes(ops, latent, config.codeDim, config.embDim);
      out['image'] = decoder(ops, quant, config, { height: grid[0], width: grid[1] }, tap);
      if (options.withQuant) out['quant'] = quant;
      return out;
    },
  };
}
