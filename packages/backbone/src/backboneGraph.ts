/**
 * The BiGR backbone (docs/algorithm.md §2) in one place, read top to bottom: {@link runBackbone} is the forward pass
 * (§2.3: embedding → transformer blocks → final norm and position embedding) and {@link transformerBlock} one block
 * (§2.4: norm → attention → residual → norm → feed-forward → residual). The small pieces they call by name live in
 * their own files: `attention.ts` (self-attention with the 2-D RoPE of `rope2d.ts`, §2.4–§2.5), `feedForward.ts`
 * (SwiGLU), `adaLN.ts` (the shared adaLN and each block's modulation), and core's `rmsNorm` and `modulate`. Every size
 * comes from the {@link BackboneConfig}. Last comes {@link backboneGraph}, the forward pass as a graph for the engines;
 * the graph's input names and condition kinds are in `backboneInputs.ts`.
 */
import { ConfigError, modulate, required, rmsNorm, type GraphDefinition, type InputSpec, type Ops } from '@bigr/core';
import { blockModulation, sharedAdaLN } from './adaLN.js';
import { attention, type AttentionDims } from './attention.js';
import { BACKBONE_INPUTS, conditionInputName, conditionInputSpec, type ConditionInputKind } from './backboneInputs.js';
import { gridSide, headDim, type BackboneConfig } from './config.js';
import { feedForward } from './feedForward.js';
import { buildRope2dTables, rope2dConstants, type Rope2dConstants, type Rope2dTables } from './rope2d.js';

// ---- The forward pass (docs/algorithm.md §2.3) --------------------------------------------------------------------

/** The inputs of {@link runBackbone}, as the graph receives them. */
export interface BackboneInputs<T> {
  /** Token bits X [B, N, K], raw 0/1. */
  readonly bits: T;
  /** Mask M [B, N] float, 1 = masked; null when nothing is masked (feature extraction, causal training). */
  readonly mask: T | null;
  /** The condition input of kind `kind` ({@link ConditionInputKind}): labels, class weights, an embedding or tokens. */
  readonly condition: T;
  /** How the condition enters. */
  readonly kind: ConditionInputKind;
}

/** Options of {@link runBackbone}. */
export interface RunBackboneOptions {
  /** Stop after this 0-based block (inclusive); no final norm then. Default: run every block. */
  readonly lastLayer?: number;
  /** Precomputed RoPE tables (otherwise built from the config). */
  readonly rope?: Rope2dTables;
}

/** Intermediate values of {@link runBackbone}. */
export interface BackboneActivations<T> {
  /** Input to layer 0, [B, S, D] (condition tokens first). */
  readonly hIn: T;
  /** Shared adaLN output Linear(SiLU(c)) as [B, 1, 6D], or null without adaLN. */
  readonly adaLN: T | null;
  /** Output of every executed block, [B, S, D]. */
  readonly layerOutputs: readonly T[];
  /** Final RMSNorm of the last block output, [B, S, D] (only when all blocks ran). */
  readonly finalNorm: T | null;
  /**
   * Per-token transcoder condition F = finalNorm[:, cls:] + pos, [B, N, D] (only when all blocks ran); for a causal
   * backbone finalNorm[:, cls−1 : cls−1+N] + pos ({@link featureOffset}).
   */
  readonly features: T | null;
}

/**
 * The backbone forward pass (docs/algorithm.md §2.3): embed the bits and the condition, prepend the condition token(s),
 * run the blocks with full bidirectional attention (causal for the variant of §13.2), then the final RMSNorm, drop the
 * condition positions and add the learned position embedding. Returns the features F and the intermediate values.
 */
export function runBackbone<T>(ops: Ops<T>, config: BackboneConfig, inputs: BackboneInputs<T>, options: RunBackboneOptions = {}): BackboneActivations<T> {
  const lastLayer = Math.min(options.lastLayer ?? config.layers - 1, config.layers - 1);
  if (!Number.isInteger(lastLayer) || lastLayer < 0) {
    throw new ConfigError(`lastLayer ${options.lastLayer} must be an integer >= 0 (0-based block index).`);
  }
  if (inputs.kind === 'tokens' && config.useAdaLN) {
    throw new ConfigError('Condition-token sequences need useAdaLN = false (docs/algorithm.md §9): the shared adaLN takes one vector per sample.');
  }
  const rope = rope2dConstants(ops, options.rope ?? configRopeTables(config));

  // Steps 1–2: input projection E = X·W_tokᵀ + b, the mask token at masked positions.
  const tokens = embedTokens(ops, config, inputs.bits, inputs.mask);
  // Step 3: the condition vector c (class embedding), or the condition token sequence.
  const cond = conditionVector(ops, inputs.kind, inputs.condition);
  // Step 4: h₀ = concat(condition token(s), E) along the sequence, then token dropout.
  let h = ops.concat([conditionTokens(ops, config, cond, inputs.kind), tokens], 1);
  if (config.tokenDropout > 0) h = ops.dropout(h, config.tokenDropout);
  const hIn = h;
  // Step 5: the shared adaLN A = Linear(SiLU(c)), one for all blocks.
  const adaLN = sharedAdaLN(ops, config, cond);

  // Step 6: the transformer blocks (§2.4).
  const dims = blockDims(config);
  const layerOutputs: T[] = [];
  for (let i = 0; i <= lastLayer; i++) {
    h = transformerBlock(ops, h, i, adaLN, dims, rope);
    layerOutputs.push(h);
  }
  if (lastLayer < config.layers - 1) return { hIn, adaLN, layerOutputs, finalNorm: null, features: null };

  // Step 7: final RMSNorm, drop the condition positions, add the learned position embedding → F [B, N, D].
  const finalNorm = rmsNorm(ops, h, ops.param('norm.weight'), config.normEps);
  const off = featureOffset(config);
  const features = ops.add(ops.slice(finalNorm, 1, off, off + config.tokens), ops.param('diffusion_pos_embed_learned'));
  return { hIn, adaLN, layerOutputs, finalNorm, features };
}

// ---- One transformer block (docs/algorithm.md §2.4) ---------------------------------------------------------------

/** Shape and regularisation facts of a transformer block. */
export interface BlockDims extends AttentionDims {
  /** RMSNorm epsilon. */
  readonly normEps: number;
  /** Dropout after the SwiGLU output projection. */
  readonly ffnDropout: number;
}

/** Replaces the block's self-attention (e.g. `cachedAttention` for KV-cached decoding): (normed input, parameter prefix) → output. */
export type AttentionFunction<T> = (x: T, prefix: string) => T;

/**
 * One BiGR transformer block (docs/algorithm.md §2.4) on x [B, S, D]. With `adaLN` (the shared [B, 1, 6D] modulation
 * `Linear(SiLU(c))`), the block adds its offset `layers.i.ada_gss` and splits into shift/scale/gate for attention and
 * MLP (gates used as is, no "1+"):
 *   h = x + gate_msa ⊙ Attn(RMSNorm₁(x)⊙(1+scale_msa) + shift_msa)
 *   out = h + gate_mlp ⊙ FFN(RMSNorm₂(h)⊙(1+scale_mlp) + shift_mlp)
 * With `adaLN === null` it is the plain pre-norm Llama block.
 */
export function transformerBlock<T>(
  ops: Ops<T>,
  x: T,
  layer: number,
  adaLN: T | null,
  dims: BlockDims,
  rope: Rope2dConstants<T>,
  attend?: AttentionFunction<T>,
): T {
  const p = `layers.${layer}`;
  const attn = attend ?? ((y: T, prefix: string) => attention(ops, y, prefix, dims, rope));
  const mod = adaLN === null ? null : blockModulation(ops, adaLN, p, dims.dim);

  // h = x + gate_msa ⊙ Attn(RMSNorm₁(x)⊙(1+scale_msa) + shift_msa)
  const norm1 = rmsNorm(ops, x, ops.param(`${p}.attention_norm.weight`), dims.normEps);
  const attnOut = attn(mod ? modulate(ops, norm1, mod.shiftMsa, mod.scaleMsa) : norm1, `${p}.attention`);
  const h = ops.add(x, mod ? ops.mul(mod.gateMsa, attnOut) : attnOut);

  // out = h + gate_mlp ⊙ FFN(RMSNorm₂(h)⊙(1+scale_mlp) + shift_mlp)
  const norm2 = rmsNorm(ops, h, ops.param(`${p}.ffn_norm.weight`), dims.normEps);
  const ffnOut = feedForward(ops, mod ? modulate(ops, norm2, mod.shiftMlp, mod.scaleMlp) : norm2, `${p}.feed_forward`, dims.ffnDropout);
  return ops.add(h, mod ? ops.mul(mod.gateMlp, ffnOut) : ffnOut);
}

// ---- Pieces of the forward pass -----------------------------------------------------------------------------------

/**
 * Input projection with mask-token substitution (docs/algorithm.md §2.3 steps 1–2): E = X·W_tokᵀ + b on the raw 0/1 bits,
 * then E[b, n] = mask_tok wherever mask[b, n] = 1. `bits` [B, N, K]; `mask` [B, N] float (1 = masked) or null.
 * The substitution E⊙(1−M) + M⊙m zeroes every trace of a masked token's bits.
 */
export function embedTokens<T>(ops: Ops<T>, config: BackboneConfig, bits: T, mask: T | null): T {
  const e = ops.add(ops.matMul(bits, ops.param('tok_embeddings.weight'), false, true), ops.param('tok_embeddings.bias'));
  if (mask === null) return e;
  const m = ops.reshape(mask, [-1, config.tokens, 1]);
  const keep = ops.sub(ops.scalar(1), m);
  return ops.add(ops.mul(e, keep), ops.mul(m, ops.reshape(ops.param('mask_tok'), [1, 1, config.dim])));
}

/**
 * The class/condition vector c [B, D] (docs/algorithm.md §2.3 step 3) from the condition input; for kind `'tokens'` the
 * condition token sequence [B, clsTokenNum, D] itself.
 */
export function conditionVector<T>(ops: Ops<T>, kind: ConditionInputKind, input: T): T {
  if (kind === 'embedding' || kind === 'tokens') return input;
  const table = ops.param('cls_embedding.embedding_table.weight');
  return kind === 'labels' ? ops.gather(table, input) : ops.matMul(input, table);
}

/**
 * The condition positions of h₀ (docs/algorithm.md §2.3 step 4), [B, clsTokenNum, D]: the condition vector c [B, D]
 * repeated `clsTokenNum` times, or, for kind `'tokens'`, the given condition token sequence itself.
 */
export function conditionTokens<T>(ops: Ops<T>, config: BackboneConfig, cond: T, kind: ConditionInputKind): T {
  if (kind === 'tokens') return cond;
  const c3 = ops.reshape(cond, [-1, 1, config.dim]);
  return config.clsTokenNum === 1
    ? c3
    : ops.concat(
        Array.from({ length: config.clsTokenNum }, () => c3),
        1,
      );
}

/**
 * First sequence position whose final hidden state becomes the features of image token 0: `clsTokenNum` for the
 * bidirectional backbone (token n is read at its own position), `clsTokenNum − 1` for the causal one (token n is
 * read at the position before it, so it is predicted from the condition and tokens 0…n−1; docs/algorithm.md §13.2).
 */
export function featureOffset(config: BackboneConfig): number {
  return config.attention === 'causal' ? config.clsTokenNum - 1 : config.clsTokenNum;
}

/** Block dimensions of a config. */
export function blockDims(config: BackboneConfig): BlockDims {
  return {
    seqLen: config.clsTokenNum + config.tokens,
    dim: config.dim,
    heads: config.heads,
    attnDropout: config.attnDropout,
    residDropout: config.residDropout,
    ffnDropout: config.ffnDropout,
    normEps: config.normEps,
    causal: config.attention === 'causal',
  };
}

/** RoPE tables of a config (docs/algorithm.md §2.5). */
export function configRopeTables(config: BackboneConfig): Rope2dTables {
  return buildRope2dTables({ headDim: headDim(config), gridSide: gridSide(config), clsTokens: config.clsTokenNum, base: config.ropeBase });
}

// ---- The forward pass as a graph ----------------------------------------------------------------------------------

/** Extra outputs a backbone graph can expose (for parity tests and debugging), named as in the official fixtures. */
export type BackboneDebugOutput = 'h_in' | 'adaln_out' | 'final_norm' | `layer_out_${number}`;

/** Options of {@link backboneGraph}. */
export interface BackboneGraphOptions {
  /** How the condition enters (default `'labels'`). */
  readonly condition?: ConditionInputKind;
  /** Whether the graph takes a `mask` input (default true). */
  readonly withMask?: boolean;
  /** Extra outputs after `features`. */
  readonly debugOutputs?: readonly BackboneDebugOutput[];
  /** Graph name (default 'bigr_backbone'). */
  readonly name?: string;
}

/**
 * The backbone as a {@link GraphDefinition}: inputs `bits` [batch, N, K] float32 0/1, `mask` [batch, N] float32
 * (1 = masked) and the condition input ({@link ConditionInputKind}); output `features` [batch, N, D] — the per-token
 * condition of the transcoder (docs/algorithm.md §2.3). The same definition trains on tfjs and exports to ONNX.
 */
export function backboneGraph(config: BackboneConfig, options: BackboneGraphOptions = {}): GraphDefinition {
  const kind = options.condition ?? 'labels';
  const withMask = options.withMask ?? true;
  const debug = options.debugOutputs ?? [];
  const inputs: InputSpec[] = [{ name: BACKBONE_INPUTS.bits, dtype: 'float32', shape: ['batch', config.tokens, config.bitsPerToken] }];
  if (withMask) inputs.push({ name: BACKBONE_INPUTS.mask, dtype: 'float32', shape: ['batch', config.tokens] });
  inputs.push(conditionInputSpec(config, kind));
  const rope = configRopeTables(config);
  return {
    name: options.name ?? 'bigr_backbone',
    inputs,
    outputs: ['features', ...debug],
    build<T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      const act = runBackbone(
        ops,
        config,
        {
          bits: required(feeds[BACKBONE_INPUTS.bits], 'bits feed'),
          mask: withMask ? required(feeds[BACKBONE_INPUTS.mask], 'mask feed') : null,
          condition: required(feeds[conditionInputName(kind)], 'condition feed'),
          kind,
        },
        { rope },
      );
      // all layers ran, so the final norm and the features exist
      const out: Record<string, T> = { features: required(act.features, 'backbone features') };
      for (const name of debug) {
        if (name === 'h_in') out[name] = act.hIn;
        else if (name === 'adaln_out') {
          if (act.adaLN === null) throw new ConfigError('Output "adaln_out" needs useAdaLN = true.');
          out[name] = act.adaLN;
        } else if (name === 'final_norm') out[name] = required(act.finalNorm, 'final norm');
        else {
          const i = Number(name.slice('layer_out_'.length));
          const t = act.layerOutputs[i];
          if (t === undefined) throw new ConfigError(`Output "${name}" names layer ${i}, but the model has ${config.layers} layers (0-based).`);
          out[name] = t;
        }
      }
      return out;
    },
  };
}
