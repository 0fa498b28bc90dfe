import { CpuTensor, dims4, NotFoundError, required, ShapeError, type NamedTensors, type Rng } from '@bigr/core';
import { blockParameterShapes } from './blockPlan.js';
import type { BaeConfig } from './config.js';
import { decoderPlan, encoderPlan } from './baeGraph.js';
import { QUANTIZER_PARAMS } from './quantizer.js';

/** Options of {@link baeParameterShapes}. */
export interface ParameterShapeOptions {
  /**
   * Also list parameters that exist in official checkpoints but are never used in the forward pass: `conv_out` of
   * ResBlocks with equal in/out channels, and `generator.logsigma.{0,2}.*`. Default false.
   */
  readonly includeUnused?: boolean;
}

/**
 * Names (official `state_dict` names without the `ae.` prefix, docs/algorithm.md §10.2) and shapes of every B-AE parameter,
 * in module order: `encoder.blocks.*`, `quantize.*`, `generator.blocks.*`.
 */
export function baeParameterShapes(config: BaeConfig, options: ParameterShapeOptions = {}): Map<string, number[]> {
  const unused = options.includeUnused ?? false;
  const out = new Map<string, number[]>();
  for (const spec of encoderPlan(config)) for (const [n, s] of blockParameterShapes(`encoder.blocks.${spec.index}`, spec, unused)) out.set(n, s);
  out.set(QUANTIZER_PARAMS.projWeight, [config.codeDim, config.embDim, 1, 1]);
  out.set(QUANTIZER_PARAMS.projBias, [config.codeDim]);
  out.set(QUANTIZER_PARAMS.embed, [config.codeDim, config.embDim]);
  const dec = decoderPlan(config);
  for (const spec of dec) for (const [n, s] of blockParameterShapes(`generator.blocks.${spec.index}`, spec, unused)) out.set(n, s);
  if (unused) {
    const c = required(dec.at(-1), 'last decoder block').inChannels;
    out.set('generator.logsigma.0.weight', [c, c, 3, 3]);
    out.set('generator.logsigma.0.bias', [c]);
    out.set('generator.logsigma.2.weight', [config.inChannels, c, 1, 1]);
    out.set('generator.logsigma.2.bias', [config.inChannels]);
  }
  return out;
}

/** Total number of scalar parameters used by the forward pass (plus unused ones with `includeUnused`). */
export function countParameters(config: BaeConfig, options: ParameterShapeOptions = {}): number {
  let n = 0;
  for (const s of baeParameterShapes(config, options).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Fresh parameters with PyTorch's default initialisation (what the official constructor leaves): conv weights and
 * biases U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5), GroupNorm weight 1 and bias 0, and the code
 * embedding N(0, 1) (nn.Embedding). Drawn from `rng` in parameter order, so a seed fixes every value.
 */
export function initBaeParameters(config: BaeConfig, rng: Rng, options: ParameterShapeOptions = {}): NamedTensors {
  const out: NamedTensors = new Map();
  const shapes = baeParameterShapes(config, options);
  const fanIn = new Map<string, number>();
  for (const [name, shape] of shapes) {
    if (shape.length !== 4) continue;
    const [, inChannels, kh, kw] = dims4(shape, name);
    fanIn.set(name.slice(0, -'.weight'.length), inChannels * kh * kw);
  }
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const base = name.slice(0, name.lastIndexOf('.'));
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    const fan = fanIn.get(base);
    if (name === QUANTIZER_PARAMS.embed) {
      for (let i = 0; i < size; i++) data[i] = rng.normal();
    } else if (fan !== undefined) {
      const bound = 1 / Math.sqrt(fan);
      for (let i = 0; i < size; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    } else if (leaf === 'weight') {
      data.fill(1);
    } // GroupNorm bias stays 0
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}

/** Options of {@link loadBaeParameters}. */
export interface LoadParametersOptions {
  /** Keep unused official parameters (conv_out with i = o, logsigma) instead of dropping them. Default false. */
  readonly keepUnused?: boolean;
}

/**
 * Maps a state dict to B-AE parameters for `config`: accepts the raw released EMA state dict (keys `ae.*`,
 * `disc.*`, `perceptual.*`, docs/algorithm.md §10.2), keeps the `ae.*` keys with the prefix stripped, or takes already
 * stripped names. Converts to float32 and checks that every required parameter is present with its shape.
 * Throws NotFoundError listing missing names, ShapeError naming a mismatched shape.
 */
export function loadBaeParameters(config: BaeConfig, tensors: ReadonlyMap<string, CpuTensor>, options: LoadParametersOptions = {}): NamedTensors {
  const hasAe = [...tensors.keys()].some((k) => k.startsWith('ae.'));
  const stripped = new Map<string, CpuTensor>();
  for (const [k, v] of tensors) {
    if (hasAe) {
      if (k.startsWith('ae.')) stripped.set(k.slice(3), v);
    } else stripped.set(k, v);
  }
  const required = baeParameterShapes(config);
  const all = baeParameterShapes(config, { includeUnused: true });
  const missing = [...required.keys()].filter((k) => !stripped.has(k));
  if (missing.length > 0) {
    throw new NotFoundError(
      `B-AE weights are missing ${missing.length} parameter(s) required by this config, e.g. ${missing.slice(0, 5).join(', ')}. ` +
        `Check that the weights belong to this architecture (nf=${config.nf}, chMult=[${config.chMult.join(',')}], resBlocks=${config.resBlocks}, ` +
        `attnResolutions=[${config.attnResolutions.join(',')}], K=${config.codeDim}) and use the official state-dict names.`,
    );
  }
  const out: NamedTensors = new Map();
  for (const [name, shape] of options.keepUnused ? all : required) {
    const t = stripped.get(name);
    if (!t) continue;
    const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!ok) {
      throw new ShapeError(
        `B-AE parameter ${name} has shape [${t.shape.join(', ')}] but this config needs [${shape.join(', ')}]. ` +
          `The weights belong to a different configuration.`,
      );
    }
    const data = t.dtype === 'float32' ? (t.data as Float32Array) : Float32Array.from(t.data as ArrayLike<number>);
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}
