/**
 * Transcoder parameters: initialisation (docs/algorithm.md §2.6) and safetensors load/save with the official
 * `denoise_mlp.*` names (docs/algorithm.md §10.1), so released weights map without renaming.
 */
import { required, CpuTensor, ConfigError, FormatError, NotFoundError, ShapeError, parseSafetensors, serializeSafetensors } from '@bigr/core';
import type { NamedTensors, Rng, SafetensorsContent } from '@bigr/core';
import type { DenoiserSizes } from './denoiser.js';
import { denoiserParameterShapes } from './denoiser.js';
import { TIMESTEP_EMBEDDING_DIM } from './config.js';
import { officialScheduleBuffers } from './noiseSchedule.js';

/** Standard deviation of every Linear weight at initialisation (`initializer_range`). */
export const TRANSCODER_INIT_STD = 0.02;

/** Whether a parameter is zero-initialised: every adaLN Linear of the denoiser and the final `linear` (docs/algorithm.md §2.6). */
export function isZeroInitialised(name: string): boolean {
  return name.includes('adaLN_modulation') || name.includes('final_layer.linear');
}

/**
 * Fresh denoiser parameters: Linear weights ~ N(0, 0.02²), biases 0, and the adaLN and final Linear layers all zero,
 * so the initial logits are exactly 0. Normals are drawn with `rng.normalsF32` once per non-zero weight, in
 * state-dict order.
 */
export function initTranscoderParameters(sizes: DenoiserSizes, rng: Rng): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, shape] of denoiserParameterShapes(sizes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('.weight') && !isZeroInitialised(name)) {
      data = rng.normalsF32(n);
      for (let i = 0; i < n; i++) data[i] = required(data[i], 'weight') * TRANSCODER_INIT_STD;
    } else {
      data = new Float32Array(n);
    }
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}

/**
 * Infers the denoiser sizes (K, D, Dh, blocks) from parameter shapes under `prefix` (default `denoise_mlp`).
 * Throws {@link NotFoundError} when the prefix has no denoiser.
 */
export function inferDenoiserSizes(params: ReadonlyMap<string, { shape: readonly number[] }>, prefix = 'denoise_mlp'): DenoiserSizes {
  const shapeOf = (name: string): readonly number[] => {
    const t = params.get(`${prefix}.${name}`);
    if (!t) {
      throw new NotFoundError(
        `Parameter "${prefix}.${name}" is missing, so the transcoder sizes cannot be inferred; ` +
          `pass a checkpoint holding the ${prefix}.* denoiser or the right prefix.`,
      );
    }
    return t.shape;
  };
  const [width, bits] = shapeOf('x_embedder.weight') as [number, number];
  const [, featureDim] = shapeOf('c_embedder.weight') as [number, number];
  let blocks = 0;
  while (params.has(`${prefix}.blocks.${blocks}.mlp.0.weight`)) blocks++;
  const tIn = shapeOf('t_embedder.mlp.0.weight')[1];
  if (tIn !== TIMESTEP_EMBEDDING_DIM) {
    throw new ShapeError(
      `${prefix}.t_embedder.mlp.0.weight has ${String(tIn)} inputs but ${TIMESTEP_EMBEDDING_DIM} were expected (sinusoidal embedding size).`,
    );
  }
  return { bitsPerToken: bits, featureDim, width, blocks, prefix };
}

/**
 * Selects the denoiser parameters for `sizes` from a larger state dict (e.g. a full BiGR checkpoint), checking every
 * shape. With `duplicatePrefix` (e.g. `diffusion_processor._denoise_fn`) present in `params`, the duplicate copy is
 * verified to be identical. The result is keyed by `sizes.prefix` names.
 */
export function selectTranscoderParameters(
  params: ReadonlyMap<string, CpuTensor>,
  sizes: DenoiserSizes,
  options: { sourcePrefix?: string; duplicatePrefix?: string } = {},
): NamedTensors {
  const source = options.sourcePrefix ?? sizes.prefix;
  const out: NamedTensors = new Map();
  for (const [name, shape] of denoiserParameterShapes(sizes)) {
    const rel = name.slice(sizes.prefix.length + 1);
    const t = params.get(`${source}.${rel}`);
    if (!t)
      throw new NotFoundError(`Transcoder parameter "${source}.${rel}" is missing from the weights; the file must hold the official ${source}.* tensors.`);
    if (t.dtype !== 'float32') throw new ShapeError(`Transcoder parameter "${source}.${rel}" has dtype ${t.dtype} but float32 was expected.`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`Transcoder parameter "${source}.${rel}" has shape [${t.shape.join(', ')}] but [${shape.join(', ')}] was expected for this config.`);
    }
    if (options.duplicatePrefix !== undefined) {
      const dup = params.get(`${options.duplicatePrefix}.${rel}`);
      if (dup) {
        const a = t.data as Float32Array;
        const b = dup.data as Float32Array;
        if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
          throw new ConfigError(
            `"${options.duplicatePrefix}.${rel}" differs from "${source}.${rel}"; ` +
              `official checkpoints hold two identical copies, so this file is inconsistent.`,
          );
        }
      }
    }
    out.set(name, t as CpuTensor<'float32'>);
  }
  return out;
}

/** Prefix of the duplicate denoiser copy in official checkpoints (docs/algorithm.md §10.1). */
export const OFFICIAL_DUPLICATE_PREFIX = 'diffusion_processor._denoise_fn';
/** Prefix of the official scheduler buffers. */
export const OFFICIAL_SCHEDULER_PREFIX = 'diffusion_processor.scheduler';
/** Metadata key under which {@link saveTranscoderWeights} stores the sizes as JSON. */
export const TRANSCODER_METADATA_KEY = 'bigr.transcoder';

/** Options of {@link loadTranscoderWeights} and {@link parseTranscoderWeights}. */
export interface LoadTranscoderWeightsOptions {
  /** Prefix of the denoiser in the file; default `denoise_mlp` (the official name). */
  readonly prefix?: string;
  /** Expected sizes; inferred from the shapes when omitted. */
  readonly sizes?: Omit<DenoiserSizes, 'prefix'>;
  /** Check that the official duplicate copy (`diffusion_processor._denoise_fn.*`), if present, is identical. Default true. */
  readonly verifyDuplicate?: boolean;
}

/** Transcoder weights read from a file. */
export interface LoadedTranscoderWeights {
  /** Sizes (given or inferred). */
  readonly sizes: DenoiserSizes;
  /** Parameters keyed by `sizes.prefix` names. */
  readonly params: NamedTensors;
  /** T, when the file holds the official scheduler buffers (they are verified against the linear schedule). */
  readonly timesteps?: number;
}

/** @internal The tensor filter of the weight readers. */
export function wanted(prefix: string, verifyDuplicate: boolean): (name: string) => boolean {
  return (name) =>
    name.startsWith(`${prefix}.`) || name.startsWith(`${OFFICIAL_SCHEDULER_PREFIX}.`) || (verifyDuplicate && name.startsWith(`${OFFICIAL_DUPLICATE_PREFIX}.`));
}

/** @internal Decodes parsed safetensors content into denoiser weights. */
export function fromContent(content: SafetensorsContent, source: string, options: LoadTranscoderWeightsOptions): LoadedTranscoderWeights {
  const prefix = options.prefix ?? 'denoise_mlp';
  const sizes: DenoiserSizes = options.sizes ? { ...options.sizes, prefix } : inferDenoiserSizes(content.tensors, prefix);
  const params = selectTranscoderParameters(content.tensors, sizes, options.verifyDuplicate === false ? {} : { duplicatePrefix: OFFICIAL_DUPLICATE_PREFIX });
  const kFinal = content.tensors.get(`${OFFICIAL_SCHEDULER_PREFIX}.k_final`);
  if (!kFinal) return { sizes, params };
  const T = kFinal.size - 1;
  const expected = officialScheduleBuffers(T);
  for (const name of ['k_final', 'b_final', 'beta'] as const) {
    const got = content.tensors.get(`${OFFICIAL_SCHEDULER_PREFIX}.${name}`);
    if (!got) continue;
    const want = expected[name];
    const data = got.data;
    if (got.size !== want.length || want.some((v, i) => Math.abs(v - required(data[i], `${name} entry`)) > 1e-6)) {
      throw new FormatError(
        `${source}: ${OFFICIAL_SCHEDULER_PREFIX}.${name} is not the linear Bernoulli schedule with T = ${T}; ` +
          `only the 'linear' schedule (docs/algorithm.md §4.1) is supported.`,
      );
    }
  }
  return { sizes, params, timesteps: T };
}

/** Parses the denoiser from safetensors bytes (in Node, `loadTranscoderWeights` reads a file). */
export function parseTranscoderWeights(bytes: Uint8Array, options: LoadTranscoderWeightsOptions = {}): LoadedTranscoderWeights {
  const content = parseSafetensors(bytes, { filter: wanted(options.prefix ?? 'denoise_mlp', options.verifyDuplicate !== false) });
  return fromContent(content, 'transcoder weights', options);
}

/** @internal The denoiser parameters with every shape checked. */
export function checkedParameters(params: ReadonlyMap<string, CpuTensor>, sizes: DenoiserSizes): NamedTensors {
  return selectTranscoderParameters(params, sizes);
}

/** Serialises the denoiser parameters as safetensors bytes (in Node, `saveTranscoderWeights` writes a file). */
export function serializeTranscoderWeights(params: ReadonlyMap<string, CpuTensor>, sizes: DenoiserSizes): Uint8Array {
  return serializeSafetensors(checkedParameters(params, sizes), { [TRANSCODER_METADATA_KEY]: JSON.stringify(sizes) });
}
