import { ConfigError, dims2, dims3, lastDim, NotFoundError, ShapeError, type NamedTensors } from '@bigr/core';
import { configFfnHidden, resolveBackboneConfig, type BackboneConfig, type BackboneConfigInput } from './config.js';

/**
 * Official state-dict names and shapes of the backbone parameters (docs/algorithm.md §10.1), in registration order.
 * Linear weights are (out, in). The transcoder's `denoise_mlp.*` keys are not included.
 */
export function backboneParameterShapes(config: BackboneConfig): Map<string, number[]> {
  const D = config.dim;
  const H = configFfnHidden(config);
  const m = new Map<string, number[]>();
  m.set('cls_embedding.embedding_table.weight', [config.numClasses + 1, D]);
  m.set('mask_tok', [1, D]);
  m.set('tok_embeddings.weight', [D, config.bitsPerToken]);
  m.set('tok_embeddings.bias', [D]);
  if (config.useAdaLN) {
    m.set('adaLN.1.weight', [6 * D, D]);
    m.set('adaLN.1.bias', [6 * D]);
  }
  for (let i = 0; i < config.layers; i++) {
    const p = `layers.${i}`;
    if (config.useAdaLN) m.set(`${p}.ada_gss`, [1, 1, 6, D]);
    m.set(`${p}.attention.wqkv.weight`, [3 * D, D]);
    m.set(`${p}.attention.wo.weight`, [D, D]);
    m.set(`${p}.feed_forward.w1.weight`, [H, D]);
    m.set(`${p}.feed_forward.w3.weight`, [H, D]);
    m.set(`${p}.feed_forward.w2.weight`, [D, H]);
    m.set(`${p}.attention_norm.weight`, [D]);
    m.set(`${p}.ffn_norm.weight`, [D]);
  }
  m.set('norm.weight', [D]);
  m.set('diffusion_pos_embed_learned', [1, config.tokens, D]);
  return m;
}

/** Number of backbone parameters (excluding the transcoder). */
export function countBackboneParameters(config: BackboneConfig): number {
  let n = 0;
  for (const s of backboneParameterShapes(config).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * The backbone's tensors from a full BiGR state dict (drops `denoise_mlp.*`, `diffusion_processor.*` and anything
 * else), checking every expected key is present with the expected shape.
 */
export function extractBackboneParameters(stateDict: NamedTensors, config: BackboneConfig): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, shape] of backboneParameterShapes(config)) {
    const t = stateDict.get(name);
    if (!t) {
      const near = [...stateDict.keys()].filter((k) => k.split('.').slice(-1)[0] === name.split('.').slice(-1)[0]).slice(0, 5);
      throw new NotFoundError(
        `Backbone parameter "${name}" is missing from the state dict${near.length ? ` (similar keys: ${near.join(', ')})` : ''}. ` +
          `Pass an official BiGR state dict (docs/algorithm.md §10.1).`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(
        `Backbone parameter "${name}" has shape [${t.shape.join(', ')}] but the config needs [${shape.join(', ')}]. Check dim/layers/tokens/bitsPerToken.`,
      );
    }
    if (t.dtype !== 'float32') throw new ShapeError(`Backbone parameter "${name}" has dtype ${t.dtype}; convert it to float32.`);
    out.set(name, t);
  }
  return out;
}

/**
 * Infers a backbone config from an official state dict (docs/algorithm.md §10.1): K from `tok_embeddings.weight`, D from
 * `norm.weight`, L from the layer count, N from the positional embedding, classes from the label table. `heads`
 * is not recoverable from the tensors and must be given (default: dim / 64, the released head_dim).
 */
export function inferBackboneConfig(stateDict: NamedTensors, extra: Partial<BackboneConfig> = {}): BackboneConfig {
  const get = (name: string) => {
    const t = stateDict.get(name);
    if (!t) throw new NotFoundError(`Cannot infer the backbone config: "${name}" is missing. Pass an official BiGR state dict (docs/algorithm.md §10.1).`);
    return t;
  };
  // shapes as in backboneParameterShapes
  const dim = lastDim(get('norm.weight').shape, 'norm.weight');
  const [, bitsPerToken] = dims2(get('tok_embeddings.weight').shape, 'tok_embeddings.weight');
  const [, tokens] = dims3(get('diffusion_pos_embed_learned').shape, 'diffusion_pos_embed_learned');
  const [labelRows] = dims2(get('cls_embedding.embedding_table.weight').shape, 'cls_embedding.embedding_table.weight');
  const numClasses = labelRows - 1;
  let layers = 0;
  while (stateDict.has(`layers.${layers}.attention.wqkv.weight`)) layers++;
  if (layers === 0) throw new NotFoundError('Cannot infer the backbone config: no "layers.0.attention.wqkv.weight". Pass an official BiGR state dict.');
  const useAdaLN = stateDict.has('adaLN.1.weight');
  const [hidden] = dims2(get('layers.0.feed_forward.w1.weight').shape, 'layers.0.feed_forward.w1.weight');
  const input: BackboneConfigInput = { dim, layers, heads: extra.heads ?? dim / 64, bitsPerToken, tokens, numClasses, useAdaLN, ...extra };
  const config = resolveBackboneConfig(input);
  if (configFfnHidden(config) !== hidden) {
    throw new ConfigError(
      `The state dict's SwiGLU hidden size is ${hidden} but dim ${dim} gives ${configFfnHidden(config)}; set multipleOf/ffnDimMultiplier to match.`,
    );
  }
  return config;
}
