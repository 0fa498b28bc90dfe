/** Options of {@link backboneWeightDecay}. */
export interface WeightDecayOptions {
  /** Decay of the decayed group (released 0.02). */
  readonly decay?: number;
  /** Names of the transcoder/head parameters, which get no decay (released: everything under `denoise_mlp`). */
  readonly headParameterNames?: readonly string[];
}

/** Released weight decay (docs/algorithm.md §5.2). */
export const RELEASED_WEIGHT_DECAY = 0.02;

/**
 * Per-parameter weight decay (docs/algorithm.md §5.2): `decay` on every parameter of rank ≥ 2 outside the transcoder (wqkv,
 * wo, w1/w2/w3, tok_embeddings.weight, the class table, adaLN.1.weight, and also mask_tok (1,D),
 * diffusion_pos_embed_learned and ada_gss); 0 on rank-1 parameters, biases, and every name containing `denoise_mlp`
 * or listed in `headParameterNames`.
 */
export function backboneWeightDecay(options: WeightDecayOptions = {}): (name: string, shape: readonly number[]) => number {
  const decay = options.decay ?? RELEASED_WEIGHT_DECAY;
  const head = new Set(options.headParameterNames ?? []);
  return (name, shape) => {
    if (head.has(name) || name.includes('denoise_mlp')) return 0;
    if (shape.length < 2 || name.endsWith('.bias')) return 0;
    return decay;
  };
}
