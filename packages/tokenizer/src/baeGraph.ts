/**
 * The B-AE (docs/algorithm.md §1) in one place, read top to bottom: the encoder (§1.3), the decoder or "generator"
 * (§1.5), and the graphs that join them to the quantizer (§1.4): image → {@link encoder} → code probabilities → bits
 * (outside the graph) → code embedding → {@link decoder} → image. Sizes come from the {@link BaeConfig}. The small
 * pieces are called by name through a {@link BlockSequence}: conv3×3 (`conv.ts`), GroupNorm (`normalize.ts`),
 * `resBlock.ts`, `attnBlock.ts`, `downsample.ts`, `upsample.ts` (§1.2), and the quantizer's layers (`quantizer.ts`).
 *
 * Why a block sequence rather than direct calls: the official state dict numbers the blocks by their position in one
 * module list (`encoder.blocks.i`, `generator.blocks.i`, §10.2), so the walk that runs the blocks also names their
 * parameters; walked without running ({@link recordPlan}), the same function gives the block plan
 * ({@link encoderPlan}, {@link decoderPlan}) from which the parameter tables, the checkpoint import and the fixture
 * names are built. One definition, no second list to keep in step.
 */
import { at, required, type GraphDefinition, type Ops } from '@bigr/core';
import { blockOutputName, recordPlan, runningSequence, type BlockSequence, type BlockSpec, type BlockTap, type SpatialSize } from './blockPlan.js';
import { downsampleFactor, latentGrid, type BaeConfig } from './config.js';
import type { NormSettings } from './conv.js';
import { codeProbabilities, embedCodes, latentToTokens, tokensToLatent } from './quantizer.js';

// ---- Encoder (docs/algorithm.md §1.3) ------------------------------------------------------------------------------

/**
 * The official `Encoder` over `blocks`: image [B, C, H, W] → pre-quantizer features [B, embDim, H/f, W/f]. Each
 * level's nominal resolution starts at `config.resolution` and halves at every Downsample; attention blocks sit at
 * the levels whose resolution is in `attnResolutions`.
 */
function encoderForward<H>(config: BaeConfig, blocks: BlockSequence<H>, image: H): H {
  const { nf, chMult } = config;
  // conv_in: image channels → nf.
  let h = blocks.conv3x3(image, config.inChannels, nf);
  let ch = nf;
  let res = config.resolution;
  // The levels: `resBlocks` ResBlocks to nf·chMult[i] channels (each followed by an AttnBlock at an attention
  // resolution), then a Downsample after every level but the last.
  for (const [i, mult] of chMult.entries()) {
    for (let r = 0; r < config.resBlocks; r++) {
      h = blocks.resBlock(h, ch, nf * mult);
      ch = nf * mult;
      if (config.attnResolutions.includes(res)) h = blocks.attnBlock(h, ch);
    }
    if (i !== chMult.length - 1) {
      h = blocks.downsample(h, ch);
      res = Math.floor(res / 2);
    }
  }
  // The middle: ResBlock, AttnBlock, ResBlock.
  h = blocks.resBlock(h, ch, ch);
  h = blocks.attnBlock(h, ch);
  h = blocks.resBlock(h, ch, ch);
  // The output: GroupNorm, conv3×3 to the embedding width.
  h = blocks.groupNorm(h, ch);
  return blocks.conv3x3(h, ch, config.embDim);
}

/**
 * Encoder forward: images [B, C, H, W] in [0, 1] → pre-quantizer features [B, embDim, H/f, W/f]
 * (`encoder.blocks.*` parameters). `tap` receives every block output (fixture names `encNN_Kind`).
 */
export function encoder<T>(ops: Ops<T>, images: T, config: BaeConfig, size: SpatialSize, tap?: BlockTap<T>): T {
  return encoderForward(config, runningSequence(ops, 'encoder.blocks', 'enc', size, normSettings(config), tap), images);
}

/**
 * The official `Encoder.blocks` list for a config (docs/algorithm.md §1.3): conv_in; per level `res_blocks` ×
 * [ResBlock (+ AttnBlock when the level's nominal resolution is in `attnResolutions`)], then a Downsample except
 * after the last level; then ResBlock, AttnBlock, ResBlock, GroupNorm and conv3×3 to `embDim`.
 */
export function encoderPlan(config: BaeConfig): BlockSpec[] {
  return recordPlan((blocks) => encoderForward(config, blocks, null));
}

// ---- Decoder, the "generator" (docs/algorithm.md §1.5) -------------------------------------------------------------

/**
 * The official `Generator` over `blocks`: quantized features [B, embDim, h, w] → images [B, C, h·f, w·f], no output
 * activation. The levels run in reverse, from the latent resolution up; the unused `generator.logsigma` head is not
 * part of it.
 */
function decoderForward<H>(config: BaeConfig, blocks: BlockSequence<H>, quant: H): H {
  const { nf, chMult } = config;
  // validateConfig rejects an empty chMult.
  let ch = nf * at(chMult, chMult.length - 1, 'chMult of the deepest level');
  let res = Math.floor(config.resolution / downsampleFactor(config));
  // The input: GroupNorm over the embedding when `normFirst`, then conv3×3 to the deepest level's width.
  let h = config.normFirst ? blocks.groupNorm(quant, config.embDim) : quant;
  h = blocks.conv3x3(h, config.embDim, ch);
  // The middle: ResBlock, AttnBlock, ResBlock.
  h = blocks.resBlock(h, ch, ch);
  h = blocks.attnBlock(h, ch);
  h = blocks.resBlock(h, ch, ch);
  // The levels in reverse: `resBlocks` ResBlocks to nf·chMult[i] channels (each followed by an AttnBlock at an
  // attention resolution), then an Upsample after every level but level 0.
  for (const [i, mult] of [...chMult.entries()].reverse()) {
    for (let r = 0; r < config.resBlocks; r++) {
      h = blocks.resBlock(h, ch, nf * mult);
      ch = nf * mult;
      if (config.attnResolutions.includes(res)) h = blocks.attnBlock(h, ch);
    }
    if (i !== 0) {
      h = blocks.upsample(h, ch);
      res *= 2;
    }
  }
  // The output: GroupNorm, conv3×3 to the image channels.
  h = blocks.groupNorm(h, ch);
  return blocks.conv3x3(h, ch, config.inChannels);
}

/**
 * Decoder ("generator") forward: quantized features [B, embDim, h, w] → images [B, C, h·f, w·f], not clamped
 * (`generator.blocks.*` parameters). `tap` receives every block output (fixture names `genNN_Kind`).
 */
export function decoder<T>(ops: Ops<T>, quant: T, config: BaeConfig, latent: SpatialSize, tap?: BlockTap<T>): T {
  return decoderForward(config, runningSequence(ops, 'generator.blocks', 'gen', latent, normSettings(config), tap), quant);
}

/**
 * The official `Generator.blocks` list (docs/algorithm.md §1.5): [GroupNorm(embDim) when `normFirst`], conv3×3(embDim →
 * nf·chMult[-1]), ResBlock, AttnBlock, ResBlock; then for the levels in reverse `res_blocks` × [ResBlock
 * (+ AttnBlock at attention resolutions)] and an Upsample except after level 0; then GroupNorm and conv3×3 to the
 * image channels. No output activation. The unused `generator.logsigma` head is not part of the plan.
 */
export function decoderPlan(config: BaeConfig): BlockSpec[] {
  return recordPlan((blocks) => decoderForward(config, blocks, null));
}

/** The GroupNorm settings of every block (docs/algorithm.md §1.2). */
function normSettings(config: BaeConfig): NormSettings {
  return { groups: config.normGroups, eps: config.normEps };
}

// ---- The graphs: encoder → quantizer, quantizer embedding → decoder (docs/algorithm.md §1.4) -------------------

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
      // Encoder (§1.3), then the quantizer's probabilities p = σ(conv1×1(h)) (§1.4), in token layout.
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
      // The code embedding Σ_k b_k·E[k, :] (§1.4), then the decoder (§1.5).
      const latent = tokensToLatent(ops, required(inputs['bits'], 'decoder graph input "bits"'), config.codeDim, grid);
      const quant = embedCodes(ops, latent, config.codeDim, config.embDim);
      out['image'] = decoder(ops, quant, config, { height: grid[0], width: grid[1] }, tap);
      if (options.withQuant) out['quant'] = quant;
      return out;
    },
  };
}
