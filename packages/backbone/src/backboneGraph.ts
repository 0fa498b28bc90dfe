import { ConfigError, required, rmsNorm, type GraphDefinition, type InputSpec, type Ops } from '@bigr/core';
import { gridSide, headDim, type BackboneConfig } from './config.js';
import { buildRope2dTables, rope2dConstants, type Rope2dTables } from './rope2d.js';
import { transformerBlock, type BlockDims } from './transformerBlock.js';

/**
 * How the condition enters a backbone graph:
 * - `'labels'`: int32 class indices [B] (`labels`), looked up in the class table (inference; exports to ONNX Gather);
 * - `'classWeights'`: float32 weights over the C+1 table rows [B, C+1] (`class_weights`), multiplied with the table.
 *   A one-hot row is a class; w/(1−w) on two rows is class interpolation (docs/algorithm.md §8.2). Used for training, because
 *   its gradient is a plain matMul on every engine;
 * - `'embedding'`: a given condition vector [B, D] (`cond_embedding`), e.g. a pooled text embedding; it is repeated
 *   `clsTokenNum` times and also drives the shared adaLN, exactly like a class embedding;
 * - `'tokens'`: a sequence of `clsTokenNum` condition tokens [B, clsTokenNum, D] (`cond_tokens`), the text-to-image
 *   layout of docs/algorithm.md §9 (e.g. 120 projected T5 tokens). It requires `useAdaLN = false`, as in the paper.
 */
export type ConditionInputKind = 'labels' | 'classWeights' | 'embedding' | 'tokens';

/** Graph input names used by the backbone graphs. */
export const BACKBONE_INPUTS = {
  bits: 'bits',
  mask: 'mask',
  labels: 'labels',
  classWeights: 'class_weights',
  embedding: 'cond_embedding',
  tokens: 'cond_tokens',
} as const;

/** Name of the condition input for a {@link ConditionInputKind}. */
export function conditionInputName(kind: ConditionInputKind): string {
  return BACKBONE_INPUTS[kind];
}

/** Input declaration of the condition input. */
export function conditionInputSpec(config: BackboneConfig, kind: ConditionInputKind): InputSpec {
  if (kind === 'labels') return { name: BACKBONE_INPUTS.labels, dtype: 'int32', shape: ['batch'] };
  if (kind === 'classWeights') return { name: BACKBONE_INPUTS.classWeights, dtype: 'float32', shape: ['batch', config.numClasses + 1] };
  if (kind === 'tokens') {
    if (config.useAdaLN) {
      throw new ConfigError(
        `Condition kind 'tokens' (a sequence of ${config.clsTokenNum} condition tokens) needs useAdaLN = false (docs/algorithm.md §9); ` +
          `use 'embedding' for one vector per sample.`,
      );
    }
    return { name: BACKBONE_INPUTS.tokens, dtype: 'float32', shape: ['batch', config.clsTokenNum, config.dim] };
  }
  return { name: BACKBONE_INPUTS.embedding, dtype: 'float32', shape: ['batch', config.dim] };
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

/** Options of {@link runBackbone}. */
export interface RunBackboneOptions {
  /** Stop after this 0-based block (inclusive); no final norm then. Default: run every block. */
  readonly lastLayer?: number;
  /** Precomputed RoPE tables (otherwise built from the config). */
  readonly rope?: Rope2dTables;
  /** `cond` is a condition-token sequence [B, clsTokenNum, D] (kind 'tokens'; needs useAdaLN = false). */
  readonly conditionTokens?: boolean;
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

/**
 * First sequence position whose final hidden state becomes the features of image token 0: `clsTokenNum` for the
 * bidirectional backbone (token n is read at its own position), `clsTokenNum − 1` for the causal one (token n is
 * read at the position before it, so it is predicted from the condition and tokens 0…n−1; docs/algorithm.md §13.2).
 */
export function featureOffset(config: BackboneConfig): number {
  return config.attention === 'causal' ? config.clsTokenNum - 1 : config.clsTokenNum;
}

/** RoPE tables of a config. */
export function configRopeTables(config: BackboneConfig): Rope2dTables {
  return buildRope2dTables({ headDim: headDim(config), gridSide: gridSide(config), clsTokens: config.clsTokenNum, base: config.ropeBase });
}

/**
 * The backbone forward pass (docs/algorithm.md §2.3) on embedded tokens `tokens` [B, N, D] (from {@link embedTokens}) and
 * condition `cond` [B, D]: prepend the condition token(s), token dropout, shared adaLN, the blocks with full
 * bidirectional attention, final RMSNorm, drop the condition positions, add the learned position embedding.
 */
export function runBackbone<T>(ops: Ops<T>, config: BackboneConfig, tokens: T, cond: T, options: RunBackboneOptions = {}): BackboneActivations<T> {
  const D = config.dim;
  const lastLayer = Math.min(options.lastLayer ?? config.layers - 1, config.layers - 1);
  if (!Number.isInteger(lastLayer) || lastLayer < 0) {
    throw new ConfigError(`lastLayer ${options.lastLayer} must be an integer >= 0 (0-based block index).`);
  }
  if (options.conditionTokens && config.useAdaLN) {
    throw new ConfigError('Condition-token sequences need useAdaLN = false (docs/algorithm.md §9): the shared adaLN takes one vector per sample.');
  }
  const rope = rope2dConstants(ops, options.rope ?? configRopeTables(config));
  let condTokens: T;
  if (options.conditionTokens) condTokens = cond;
  else {
    const c3 = ops.reshape(cond, [-1, 1, D]);
    condTokens =
      config.clsTokenNum === 1
        ? c3
        : ops.concat(
            Array.from({ length: config.clsTokenNum }, () => c3),
            1,
          );
  }
  let h = ops.concat([condTokens, tokens], 1);
  if (config.tokenDropout > 0) h = ops.dropout(h, config.tokenDropout);
  const hIn = h;
  const adaLN = config.useAdaLN
    ? ops.reshape(ops.add(ops.matMul(ops.silu(cond), ops.param('adaLN.1.weight'), false, true), ops.param('adaLN.1.bias')), [-1, 1, 6 * D])
    : null;
  const dims = blockDims(config);
  const layerOutputs: T[] = [];
  for (let i = 0; i <= lastLayer; i++) {
    h = transformerBlock(ops, h, i, adaLN, dims, rope);
    layerOutputs.push(h);
  }
  if (lastLayer < config.layers - 1) return { hIn, adaLN, layerOutputs, finalNorm: null, features: null };
  const finalNorm = rmsNorm(ops, h, ops.param('norm.weight'), config.normEps);
  const off = featureOffset(config);
  const features = ops.add(ops.slice(finalNorm, 1, off, off + config.tokens), ops.param('diffusion_pos_embed_learned'));
  return { hIn, adaLN, layerOutputs, finalNorm, features };
}

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
      const bits = required(feeds[BACKBONE_INPUTS.bits], 'bits feed');
      const tokens = embedTokens(ops, config, bits, withMask ? required(feeds[BACKBONE_INPUTS.mask], 'mask feed') : null);
      const cond = conditionVector(ops, kind, required(feeds[conditionInputName(kind)], 'condition feed'));
      // all layers run, so the final norm and the features exist
      const act = runBackbone(ops, config, tokens, cond, { rope, conditionTokens: kind === 'tokens' });
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
