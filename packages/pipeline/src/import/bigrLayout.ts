import { ConfigError, FormatError } from '@bigr/core';
import { BACKBONE_PRESETS, backboneParameterShapes, configFfnHidden, resolveBackboneConfig, type BackboneConfig } from '@bigr/backbone';
import {
  OFFICIAL_DUPLICATE_PREFIX,
  OFFICIAL_SCHEDULER_PREFIX,
  denoiserParameterShapes,
  inferDenoiserSizes,
  resolveTranscoderConfig,
  type DenoiserSizes,
  type TranscoderConfig,
} from '@bigr/transcoder';
import { assertKeysMatch, compareKeys, listNames, type ShapeMap } from './keyCheck.js';
import { SCHEDULER_BUFFERS } from './scheduleCheck.js';

/**
 * Inferring the BiGR backbone and transcoder configuration from the names and shapes of an official state dict
 * (docs/algorithm.md §10.1), and accounting for every key: backbone, denoiser, its duplicate copy and the scheduler buffers.
 */

/** Released head width (docs/algorithm.md §2.1): every released model uses head_dim 64. */
export const RELEASED_HEAD_DIM = 64;

/** Options of {@link inferBigrLayout}. */
export interface InferBigrOptions {
  /** Attention head width; heads = D / headDim. Default {@link RELEASED_HEAD_DIM}. Not recoverable from the weights. */
  readonly headDim?: number;
  /** Number of heads (overrides `headDim`). */
  readonly heads?: number;
  /** Label of the checkpoint for messages. */
  readonly source?: string;
}

/** What {@link inferBigrLayout} found. */
export interface InferredBigr {
  /** Backbone architecture. */
  readonly backbone: BackboneConfig;
  /** Transcoder architecture (T from the scheduler buffers when present, S = 100). */
  readonly transcoder: TranscoderConfig;
  /** Prefix the denoiser is taken from (`denoise_mlp`, or the duplicate when only that copy exists). */
  readonly denoiserPrefix: string;
  /** Whether the duplicate denoiser copy is present (then it must equal the primary copy). */
  readonly hasDuplicate: boolean;
  /** Scheduler buffers present (then they must equal the recomputed schedule). */
  readonly schedulerBuffers: readonly string[];
  /** How the head count was decided. */
  readonly headsSource: 'heads-option' | 'head-dim-option' | 'released-head-dim';
  /** Name of the matching released size (BiGR-L, BiGR-XL, BiGR-XXL, BiGR-L-512), if any. */
  readonly preset?: string;
  /** Backbone parameter count (without the transcoder). */
  readonly backboneParameters: number;
  /** Transcoder parameter count. */
  readonly transcoderParameters: number;
}

const count = (m: ReadonlyMap<string, readonly number[]>): number => [...m.values()].reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);

function positiveInt(v: number | undefined, what: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${what} is ${v}; it must be a positive integer.`);
}

/** The group of `prefix.*` names of `group`, checked all-or-nothing. */
function checkGroup(shapes: ShapeMap, group: readonly string[], what: string, source: string): boolean {
  const present = group.filter((k) => shapes.has(k));
  if (present.length === 0) return false;
  if (present.length < group.length) {
    const missing = group.filter((k) => !shapes.has(k));
    throw new FormatError(
      `${source} holds only part of ${what}: missing ${missing.length} key(s): ${listNames(missing)}. ` +
        `Pass the released checkpoint unmodified, or drop the whole group when exporting.`,
    );
  }
  return true;
}

/**
 * Infers the configuration of an official BiGR state dict from its shapes (docs/algorithm.md §10.1): D from `norm.weight`,
 * K from `tok_embeddings.weight`, N (and the √N grid) from `diffusion_pos_embed_learned`, the classes from the label
 * table (rows − 1), L from the highest `layers.{i}` index, adaLN from `adaLN.1.*`, heads = D / headDim (64 as
 * released, configurable), Dh and the denoiser blocks from `denoise_mlp.*`, and T from the scheduler buffers
 * (256 when absent). Then every key must be explained: missing, unknown and mis-shaped keys are one
 * {@link FormatError} listing them; the duplicate denoiser and the scheduler buffers are optional but all-or-nothing.
 */
export function inferBigrLayout(shapes: ShapeMap, options: InferBigrOptions = {}): InferredBigr {
  const source = options.source ?? 'BiGR state dict';
  positiveInt(options.heads, '--heads');
  positiveInt(options.headDim, '--head-dim');
  const needed = ['norm.weight', 'tok_embeddings.weight', 'diffusion_pos_embed_learned', 'cls_embedding.embedding_table.weight'];
  const absent = needed.filter((k) => !shapes.has(k));
  if (absent.length > 0) {
    const tops = [...new Set([...shapes.keys()].map((k) => k.replace(/\..*$/, '')))];
    throw new FormatError(
      `${source} is not a BiGR state dict: missing ${listNames(absent)} (docs/algorithm.md §10.1). Its top-level names are ${listNames(tops, 10)}. ` +
        'Pass a released bigr_*.pt (the "ema" entry is used) or a safetensors export of that state dict.',
    );
  }
  const dimOf = (name: string, d: number): number => {
    const shape = shapes.get(name) ?? [];
    const v = shape[d];
    if (v === undefined) {
      throw new FormatError(
        `${source}: ${name} has shape [${shape.join(', ')}], without a dimension ${d}, so it is not a BiGR state dict (docs/algorithm.md §10.1).`,
      );
    }
    return v;
  };
  const dim = dimOf('norm.weight', 0);
  const bitsPerToken = dimOf('tok_embeddings.weight', 1);
  const tokens = dimOf('diffusion_pos_embed_learned', shapes.get('diffusion_pos_embed_learned')?.length === 3 ? 1 : 0);
  const numClasses = dimOf('cls_embedding.embedding_table.weight', 0) - 1;
  let layers = 0;
  for (const k of shapes.keys()) {
    const m = /^layers\.(\d+)\./.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  if (layers === 0) throw new FormatError(`${source} has no "layers.{i}.*" tensors, so it is not a BiGR state dict (docs/algorithm.md §10.1).`);
  const useAdaLN = shapes.has('adaLN.1.weight') || shapes.has('layers.0.ada_gss');
  const headDim = options.headDim ?? RELEASED_HEAD_DIM;
  const heads = options.heads ?? dim / headDim;
  if (!Number.isInteger(heads)) {
    throw new ConfigError(`Width D = ${dim} is not divisible by head_dim ${headDim}; pass the model's head count with --heads (the weights do not record it).`);
  }
  const headsSource = options.heads !== undefined ? 'heads-option' : options.headDim !== undefined ? 'head-dim-option' : 'released-head-dim';
  let backbone: BackboneConfig;
  try {
    backbone = resolveBackboneConfig({ dim, layers, heads, bitsPerToken, tokens, numClasses, useAdaLN });
  } catch (err) {
    throw new FormatError(
      `${source}: the inferred backbone (D ${dim}, L ${layers}, heads ${heads}, K ${bitsPerToken}, N ${tokens}, ${numClasses} classes) is invalid: ` +
        `${(err as Error).message}`,
      { cause: err },
    );
  }
  const w1 = shapes.get('layers.0.feed_forward.w1.weight');
  if (w1 && w1[0] !== configFfnHidden(backbone)) {
    throw new FormatError(
      `${source}: the SwiGLU hidden size is ${w1[0]} but D = ${dim} gives ${configFfnHidden(backbone)} ` +
        `(multiple_of 256, no ffn_dim_multiplier, docs/algorithm.md §2.2); this checkpoint is not a released BiGR architecture.`,
    );
  }

  const asShapes = new Map([...shapes].map(([k, s]) => [k, { shape: s }] as const));
  const denoiserPrefix =
    [...shapes.keys()].some((k) => k.startsWith('denoise_mlp.')) || ![...shapes.keys()].some((k) => k.startsWith(`${OFFICIAL_DUPLICATE_PREFIX}.`))
      ? 'denoise_mlp'
      : OFFICIAL_DUPLICATE_PREFIX;
  const sizes: DenoiserSizes = inferDenoiserSizes(asShapes, denoiserPrefix);
  if (sizes.bitsPerToken !== bitsPerToken || sizes.featureDim !== dim) {
    throw new FormatError(
      `${source}: the denoiser has K = ${sizes.bitsPerToken} and condition width ${sizes.featureDim}, ` +
        `but the backbone has K = ${bitsPerToken} and D = ${dim}. The file mixes two models.`,
    );
  }
  // k_final has T + 1 entries; without a usable one, the released T = 256.
  const [kFinal, ...kFinalRest] = shapes.get(`${OFFICIAL_SCHEDULER_PREFIX}.k_final`) ?? [];
  const timesteps = kFinal !== undefined && kFinalRest.length === 0 && kFinal >= 2 ? kFinal - 1 : 256;
  const transcoder = resolveTranscoderConfig({
    bitsPerToken,
    featureDim: dim,
    width: sizes.width,
    blocks: sizes.blocks,
    timesteps,
    inferenceSteps: Math.min(100, timesteps),
  });

  const backboneShapes = backboneParameterShapes(backbone);
  const primary = denoiserParameterShapes({ ...sizes, prefix: denoiserPrefix });
  const otherPrefix = denoiserPrefix === 'denoise_mlp' ? OFFICIAL_DUPLICATE_PREFIX : 'denoise_mlp';
  const duplicate = denoiserParameterShapes({ ...sizes, prefix: otherPrefix });
  const scheduler = new Map<string, readonly number[]>(SCHEDULER_BUFFERS.map((b) => [`${OFFICIAL_SCHEDULER_PREFIX}.${b}`, [timesteps + 1]]));
  assertKeysMatch(
    compareKeys(shapes, new Map<string, readonly number[]>([...backboneShapes, ...primary]), new Map<string, readonly number[]>([...duplicate, ...scheduler])),
    source,
    `the BiGR model inferred from it (D ${dim}, ${layers} layers, K ${bitsPerToken}, N ${tokens}, ${numClasses} classes, ` +
      `denoiser ${sizes.width}×${sizes.blocks}, T ${timesteps})`,
  );
  const hasDuplicate = checkGroup(shapes, [...duplicate.keys()], `the duplicate denoiser (${otherPrefix}.*)`, source);
  const schedulerBuffers = checkGroup(shapes, [...scheduler.keys()], 'the scheduler buffers', source) ? [...scheduler.keys()] : [];

  const preset = Object.values(BACKBONE_PRESETS).find(
    (p) =>
      ['BiGR-L', 'BiGR-XL', 'BiGR-XXL', 'BiGR-L-512'].includes(p.name) &&
      p.backbone.dim === dim &&
      p.backbone.layers === layers &&
      p.backbone.tokens === tokens &&
      p.transcoder.width === sizes.width &&
      p.transcoder.blocks === sizes.blocks,
  )?.name;
  return {
    backbone,
    transcoder,
    denoiserPrefix,
    hasDuplicate,
    schedulerBuffers,
    headsSource,
    ...(preset ? { preset } : {}),
    backboneParameters: count(backboneShapes),
    transcoderParameters: count(primary),
  };
}
