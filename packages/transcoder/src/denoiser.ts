/**
 * The binary transcoder g_φ, the official `DenoiseModel` (docs/algorithm.md §3), in one place, read top to bottom:
 * {@link denoiser} is the forward pass (steps 1–5: input rescaling and x embedding, timestep and condition embedding,
 * the residual adaLN blocks, the final adaLN layer producing K logits per row), {@link denoiserBlock} one block and
 * {@link finalLayer} the head. The small pieces they call by name: `timestepEmbedding` (`timestepEmbedding.ts`),
 * {@link adaLNModulation} and core's `linear`, `layerNorm` (affine-free, ε 1e-6) and `modulate`. Sizes come from
 * {@link DenoiserSizes}. Then the graphs for the engines (the whole denoiser, and the condition/step pair used for
 * sampling), then the parameter table. Written once against {@link Ops}, so the same definition trains on tfjs and
 * compiles to ONNX.
 */
import { CpuTensor, layerNorm, linear, modulate, required } from '@bigr/core';
import type { GraphDefinition, NamedTensors, Ops } from '@bigr/core';
import type { TranscoderConfig } from './config.js';
import { DENOISER_LN_EPS, TIMESTEP_EMBEDDING_DIM } from './config.js';
import { timestepEmbedding } from './timestepEmbedding.js';

/** Sizes that determine the denoiser's parameters. */
export type DenoiserSizes = Pick<TranscoderConfig, 'bitsPerToken' | 'featureDim' | 'width' | 'blocks' | 'prefix'>;

/** Options of {@link denoiserFromConditionEmbedding} and {@link stepGraph}. */
export interface DenoiserGraphOptions {
  /**
   * Read every adaLN modulation layer as one linear layer per chunk, with parameters `<layer>.shift|scale|gate.weight`
   * and `.bias` (see {@link splitModulationParameters}) instead of one layer and slices of its output. Same values;
   * saves copying the slices on every sampling step.
   */
  readonly splitModulation?: boolean;
}

// ---- The forward pass (docs/algorithm.md §3) -------------------------------------------------------------------

/** The full denoiser g_φ(x_t, τ, F) → logits [R, K] (docs/algorithm.md §3). `tau` is [1] or [R] float32. */
export function denoiser<T>(ops: Ops<T>, x: T, tau: T, features: T, c: DenoiserSizes): T {
  return denoiserFromConditionEmbedding(ops, x, tau, conditionEmbedding(ops, features, c.prefix), c);
}

/** The condition embedding c_emb = W_c·F + b_c (`c_embedder`, §3 step 3), [R, D] → [R, Dh]. Constant across sampling steps. */
export function conditionEmbedding<T>(ops: Ops<T>, features: T, prefix: string): T {
  return linear(ops, features, `${prefix}.c_embedder`);
}

/**
 * The denoiser given a precomputed condition embedding: `x` [R, K] bits (0/1), `tau` [1] or [R] float32 times
 * τ = t − 1, `cEmb` [R, Dh] from {@link conditionEmbedding}. Returns logits [R, K].
 * The timestep MLP runs on `tau`'s rows only, so a shared τ of shape [1] costs one row.
 */
export function denoiserFromConditionEmbedding<T>(ops: Ops<T>, x: T, tau: T, cEmb: T, c: DenoiserSizes, options: DenoiserGraphOptions = {}): T {
  const p = c.prefix;
  // Step 1: x̃ = 2·(x_t − 0.5) ∈ {−1, +1}, a = W_x·x̃ + b_x (K → Dh).
  let a = linear(ops, ops.mul(ops.sub(x, ops.scalar(0.5)), ops.scalar(2)), `${p}.x_embedder`);
  // Steps 2–3: c = t_emb + c_emb; every adaLN layer reads SiLU(c).
  const cSilu = ops.silu(ops.add(timestepEmbedding(ops, tau, p), cEmb));
  // Step 4: the residual adaLN blocks.
  for (let j = 0; j < c.blocks; j++) a = denoiserBlock(ops, a, cSilu, `${p}.blocks.${j}`, c.width, options);
  // Step 5: the final adaLN layer → K logits.
  return finalLayer(ops, a, cSilu, `${p}.final_layer`, c.width, options);
}

/**
 * One residual block (docs/algorithm.md §3 step 4), parameters under `prefix` (`blocks.j`): (shift, scale, gate) from
 * the block's adaLN, then a ← a + gate ⊙ MLP(LN(a) ⊙ (1 + scale) + shift), MLP = Lin → SiLU → Lin (Dh → Dh, with
 * bias), gate used as is. `cSilu` is SiLU(c) [R, Dh].
 */
export function denoiserBlock<T>(ops: Ops<T>, a: T, cSilu: T, prefix: string, width: number, options: DenoiserGraphOptions = {}): T {
  const { shift, scale, gate } = adaLNModulation(ops, cSilu, `${prefix}.adaLN_modulation.1`, ['shift', 'scale', 'gate'], width, options);
  const h = modulate(ops, layerNorm(ops, a, null, null, DENOISER_LN_EPS), shift, scale);
  const mlp = linear(ops, ops.silu(linear(ops, h, `${prefix}.mlp.0`)), `${prefix}.mlp.2`);
  return ops.add(a, ops.mul(gate, mlp));
}

/**
 * The final layer (docs/algorithm.md §3 step 5), parameters under `prefix` (`final_layer`): (shift, scale) from its
 * adaLN, then logits = Lin_{Dh→K}(LN(a) ⊙ (1 + scale) + shift). `cSilu` is SiLU(c) [R, Dh].
 */
export function finalLayer<T>(ops: Ops<T>, a: T, cSilu: T, prefix: string, width: number, options: DenoiserGraphOptions = {}): T {
  const { shift, scale } = adaLNModulation(ops, cSilu, `${prefix}.adaLN_modulation.1`, ['shift', 'scale'], width, options);
  return linear(ops, modulate(ops, layerNorm(ops, a, null, null, DENOISER_LN_EPS), shift, scale), `${prefix}.linear`);
}

/** Names of the adaLN modulation chunks, in the order of the official output (shift, scale, gate). */
const MODULATION_CHUNKS = ['shift', 'scale', 'gate'] as const;

/** One adaLN modulation chunk's name. */
type ModulationChunk = (typeof MODULATION_CHUNKS)[number];

/**
 * The adaLN modulation Lin_{Dh→n·Dh}(SiLU(c)) of layer `layer`, split into the chunks `names` (a prefix of shift,
 * scale, gate), each [R, Dh]: one product then slices (the official layout), or, with `splitModulation`, one product
 * per chunk (no copies of the slices; each entry is the same dot product, so the same float32 value).
 */
function adaLNModulation<T, K extends ModulationChunk>(
  ops: Ops<T>,
  cSilu: T,
  layer: string,
  names: readonly K[],
  width: number,
  options: DenoiserGraphOptions,
): Record<K, T> {
  const out: Partial<Record<K, T>> = {};
  if (options.splitModulation) {
    for (const name of names) out[name] = linear(ops, cSilu, `${layer}.${name}`);
  } else {
    const mod = linear(ops, cSilu, layer);
    for (const [i, name] of names.entries()) out[name] = ops.slice(mod, -1, i * width, (i + 1) * width);
  }
  return out as Record<K, T>;
}

// ---- The forward pass as graphs -------------------------------------------------------------------------------

/** A graph input the graph declares (the engines feed every declared input). */
function graphInput<T>(inputs: Readonly<Record<string, T>>, name: string): T {
  return required(inputs[name], `graph input "${name}"`);
}

/** Graph of the whole denoiser: inputs `x_t` [rows, K], `tau` [tauRows] (1 or rows), `features` [rows, D]; output `logits`. */
export function denoiserGraph(c: DenoiserSizes): GraphDefinition {
  return {
    name: 'transcoder_denoiser',
    inputs: [
      { name: 'x_t', dtype: 'float32', shape: ['rows', c.bitsPerToken] },
      { name: 'tau', dtype: 'float32', shape: ['tauRows'] },
      { name: 'features', dtype: 'float32', shape: ['rows', c.featureDim] },
    ],
    outputs: ['logits'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      return { logits: denoiser(ops, graphInput(inputs, 'x_t'), graphInput(inputs, 'tau'), graphInput(inputs, 'features'), c) };
    },
  };
}

/** Graph run once per sampling call: `features` [rows, D] → `c_emb` [rows, Dh]. */
export function conditionGraph(c: DenoiserSizes): GraphDefinition {
  return {
    name: 'transcoder_condition',
    inputs: [{ name: 'features', dtype: 'float32', shape: ['rows', c.featureDim] }],
    outputs: ['c_emb'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      return { c_emb: conditionEmbedding(ops, graphInput(inputs, 'features'), c.prefix) };
    },
  };
}

/**
 * Graph run once per reverse step: `x_t` [rows, K], `tau` [tauRows], `c_emb` [rows, Dh] → `logits` [rows, K]. With
 * `splitModulation`, compile it with {@link splitModulationParameters}.
 */
export function stepGraph(c: DenoiserSizes, options: DenoiserGraphOptions = {}): GraphDefinition {
  return {
    name: 'transcoder_step',
    inputs: [
      { name: 'x_t', dtype: 'float32', shape: ['rows', c.bitsPerToken] },
      { name: 'tau', dtype: 'float32', shape: ['tauRows'] },
      { name: 'c_emb', dtype: 'float32', shape: ['rows', c.width] },
    ],
    outputs: ['logits'],
    build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
      return {
        logits: denoiserFromConditionEmbedding(ops, graphInput(inputs, 'x_t'), graphInput(inputs, 'tau'), graphInput(inputs, 'c_emb'), c, options),
      };
    },
  };
}

// ---- Parameters ------------------------------------------------------------------------------------------------

/** Official parameter names and shapes ((out, in) for weights) of the denoiser, in state-dict order (docs/algorithm.md §10.1). */
export function denoiserParameterShapes(c: DenoiserSizes): Map<string, number[]> {
  const p = c.prefix;
  const m = new Map<string, number[]>();
  const lin = (name: string, out: number, inp: number): void => {
    m.set(`${p}.${name}.weight`, [out, inp]);
    m.set(`${p}.${name}.bias`, [out]);
  };
  lin('t_embedder.mlp.0', c.width, TIMESTEP_EMBEDDING_DIM);
  lin('t_embedder.mlp.2', c.width, c.width);
  lin('x_embedder', c.width, c.bitsPerToken);
  lin('c_embedder', c.width, c.featureDim);
  for (let j = 0; j < c.blocks; j++) {
    lin(`blocks.${j}.mlp.0`, c.width, c.width);
    lin(`blocks.${j}.mlp.2`, c.width, c.width);
    lin(`blocks.${j}.adaLN_modulation.1`, 3 * c.width, c.width);
  }
  lin('final_layer.adaLN_modulation.1', 2 * c.width, c.width);
  lin('final_layer.linear', c.bitsPerToken, c.width);
  return m;
}

/** Total number of denoiser parameters (BiGR-L with K = 24, D = 1024: 20,255,768). */
export function denoiserParameterCount(c: DenoiserSizes): number {
  let n = 0;
  for (const shape of denoiserParameterShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * The adaLN modulation parameters of `params` split by chunk (rows of the (k·Dh, Dh) weight and of the bias), for a
 * graph built with `splitModulation`; the other parameters are passed through.
 */
export function splitModulationParameters(params: NamedTensors, c: DenoiserSizes): NamedTensors {
  const out: NamedTensors = new Map(params);
  const dh = c.width;
  const layers = [
    ...Array.from({ length: c.blocks }, (_, j) => [`${c.prefix}.blocks.${j}.adaLN_modulation.1`, 3] as const),
    [`${c.prefix}.final_layer.adaLN_modulation.1`, 2] as const,
  ];
  for (const [layer, n] of layers) {
    const w = params.get(`${layer}.weight`);
    const b = params.get(`${layer}.bias`);
    if (!w || !b) continue;
    out.delete(`${layer}.weight`);
    out.delete(`${layer}.bias`);
    for (const [i, name] of MODULATION_CHUNKS.slice(0, n).entries()) {
      out.set(`${layer}.${name}.weight`, new CpuTensor((w.data as Float32Array).slice(i * dh * dh, (i + 1) * dh * dh), [dh, dh]));
      out.set(`${layer}.${name}.bias`, new CpuTensor((b.data as Float32Array).slice(i * dh, (i + 1) * dh), [dh]));
    }
  }
  return out;
}
