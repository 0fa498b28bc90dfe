/**
 * For the tests: tiny random-weight model directories of the study variants (docs/algorithm.md §13) — a 2-block,
 * width-32 backbone (bidirectional or causal) over 4×4 tokens of K = 5 bits, the binary transcoder or the categorical
 * head, and a B-AE tokenizer (32 px). The adaLN, token-embedding, position-embedding and head weights are scaled up from
 * their initialisation so that positions, classes and seeds really give different tokens.
 */
import { join } from 'node:path';
import { createRng, type NamedTensors } from '@bigr/core';
import { initialiseBackbone, resolveBackboneConfig, type AttentionKind } from '@bigr/backbone';
import { CategoricalLoss, resolveCategoricalHeadConfig, resolveTranscoderConfig, TranscoderLoss } from '@bigr/transcoder';
import { initBaeParameters, validateConfig } from '@bigr/tokenizer';
import { BIGR_FORMAT, saveBigrModel, type BigrHeadKind, type BigrModelConfig, type BigrModelConfigCommon } from '../bigrModelDir.js';
import { saveTokenizerModel, TOKENIZER_FORMAT } from '../tokenizerModelDir.js';

/** Bits per token of the tiny variants. */
export const TINY_K = 5;
/** Image tokens of the tiny variants (a 4×4 grid). */
export const TINY_TOKENS = 16;
/** Class names of the tiny variants (the null class is 3). */
export const TINY_CLASSES = ['T-shirt/top', 'Trouser', 'Bag'] as const;

/** A tiny variant model directory and what was written into it. */
export interface TinyVariantModel {
  /** The model directory. */
  readonly dir: string;
  /** Its config.json as written. */
  readonly config: BigrModelConfig;
  /** Its model.safetensors as written. */
  readonly weights: NamedTensors;
}

/** Writes `<root>/model` with the given head and attention (and `<root>/tokenizer-src`, the tokenizer it copies). */
export async function writeTinyVariantModel(root: string, head: BigrHeadKind, attention: AttentionKind, seed = 'tiny-variant'): Promise<TinyVariantModel> {
  const rng = createRng(seed);
  const bae = validateConfig({
    nf: 8,
    chMult: [1, 1, 2, 2],
    resBlocks: 1,
    attnResolutions: [],
    embDim: 16,
    codeDim: TINY_K,
    inChannels: 1,
    resolution: 32,
    normFirst: true,
    normGroups: 4,
    normEps: 1e-6,
  });
  const tokenizerSrc = join(root, 'tokenizer-src');
  await saveTokenizerModel(
    tokenizerSrc,
    { format: TOKENIZER_FORMAT, version: 1, bae, pad: 2, classNames: [...TINY_CLASSES] },
    initBaeParameters(bae, rng.fork('bae')),
  );
  const backbone = resolveBackboneConfig({
    dim: 32,
    layers: 2,
    heads: 2,
    bitsPerToken: TINY_K,
    tokens: TINY_TOKENS,
    numClasses: TINY_CLASSES.length,
    multipleOf: 32,
    attention,
  });
  const weights = initialiseBackbone(backbone, rng.fork('backbone'));
  for (const [name, t] of weights)
    if (name.startsWith('adaLN') || name.startsWith('tok_') || name.startsWith('diffusion_pos_embed'))
      t.data.set(Float32Array.from(rng.normalsF32(t.size), (x) => x * 0.2));
  const common: BigrModelConfigCommon = { format: BIGR_FORMAT, version: 1, backbone, classNames: [...TINY_CLASSES], tokenizer: 'tokenizer' };
  let config: BigrModelConfig;
  if (head === 'categorical') {
    const categorical = resolveCategoricalHeadConfig({ bitsPerToken: TINY_K, featureDim: backbone.dim });
    for (const [name, t] of new CategoricalLoss(categorical).initParameters(rng.fork('categorical'))) {
      t.data.set(Float32Array.from(t.data, (x) => x * 4));
      weights.set(name, t);
    }
    config = { ...common, head, categorical };
  } else {
    const transcoder = resolveTranscoderConfig({ bitsPerToken: TINY_K, featureDim: backbone.dim, width: 16, blocks: 1 });
    for (const [name, t] of new TranscoderLoss(transcoder).initParameters(rng.fork('transcoder'))) {
      if (name.includes('final_layer') || name.includes('adaLN')) t.data.set(Float32Array.from(rng.normalsF32(t.size), (x) => x * 0.3));
      weights.set(name, t);
    }
    config = { ...common, head, transcoder };
  }
  const dir = join(root, 'model');
  await saveBigrModel(dir, config, weights, tokenizerSrc);
  return { dir, config, weights };
}
