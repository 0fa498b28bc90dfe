/**
 * The categorical objective of the paper's S0/S1 variants (docs/algorithm.md §13.1): a token's K bits read as one index
 * r = Σ_k 2^k·z_k into 2^K classes, a linear softmax head D → 2^K trained with cross-entropy instead of the binary
 * transcoder, and categorical sampling (CFG on the logits, temperature, optional top-k / top-p, off by default).
 * It implements the same core interfaces as the transcoder ({@link BitHeadLoss}, {@link BitHeadSampler}), so the
 * backbone trains with it and the samplers drive it unchanged.
 */
import { ConfigError, CpuTensor, ShapeError, assertShape, dims2, required, rowMax, throwIfAborted } from '@bigr/core';
import type {
  BitHeadLoss,
  BitHeadSampler,
  BitSamplingOptions,
  CompileOptions,
  CompiledGraph,
  Engine,
  GraphDefinition,
  InputSpec,
  NamedTensors,
  Ops,
  Rng,
} from '@bigr/core';

/** Largest K the categorical head accepts: 2^16 = 65,536 classes (the head has 2^K·(D + 1) parameters). */
export const MAX_CATEGORICAL_BITS = 16;

/** Configuration of the categorical head. */
export interface CategoricalHeadConfig {
  /** Bits per token K; the head has 2^K classes. */
  readonly bitsPerToken: number;
  /** Width D of the backbone features. */
  readonly featureDim: number;
  /** Parameter-name prefix (default `'cat_head'`: `cat_head.weight` [2^K, D], `cat_head.bias` [2^K]). */
  readonly prefix: string;
}

/** Validates and fills a {@link CategoricalHeadConfig}. */
export function resolveCategoricalHeadConfig(
  input: Pick<CategoricalHeadConfig, 'bitsPerToken' | 'featureDim'> & Partial<CategoricalHeadConfig>,
): CategoricalHeadConfig {
  const c: CategoricalHeadConfig = { prefix: 'cat_head', ...input };
  if (!Number.isInteger(c.bitsPerToken) || c.bitsPerToken < 1 || c.bitsPerToken > MAX_CATEGORICAL_BITS) {
    throw new ConfigError(
      `Categorical head bitsPerToken ${c.bitsPerToken} must be an integer in 1…${MAX_CATEGORICAL_BITS} (2^K classes); ` +
        `use a tokenizer with fewer bits, e.g. K = 10.`,
    );
  }
  if (!Number.isInteger(c.featureDim) || c.featureDim < 1)
    throw new ConfigError(`Categorical head featureDim ${c.featureDim} must be a positive integer (the backbone width D).`);
  if (typeof c.prefix !== 'string' || c.prefix === '') throw new ConfigError('Categorical head prefix must be a non-empty string (default "cat_head").');
  return Object.freeze(c);
}

/** Number of classes 2^K. */
export function categoricalClasses(config: CategoricalHeadConfig): number {
  return 2 ** config.bitsPerToken;
}

/** Parameter shapes of the head. */
export function categoricalParameterShapes(config: CategoricalHeadConfig): Map<string, number[]> {
  const C = categoricalClasses(config);
  return new Map([
    [`${config.prefix}.weight`, [C, config.featureDim]],
    [`${config.prefix}.bias`, [C]],
  ]);
}

/** Class index r = Σ_k 2^k·z_k of each row of bits [rows, K] (the token index of core's `tokenIndex`). */
export function bitsToClassIndex(bits: ArrayLike<number>, rows: number, K: number): Int32Array {
  if (bits.length !== rows * K) throw new ShapeError(`bitsToClassIndex: ${bits.length} bits given for ${rows} rows × ${K} bits.`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let v = 0;
    for (let k = K - 1; k >= 0; k--) v = v * 2 + (required(bits[r * K + k], 'bit') > 0.5 ? 1 : 0);
    out[r] = v;
  }
  return out;
}

/** Logits [R, 2^K] = F·Wᵀ + b of features [R, D]. */
export function categoricalLogits<T>(ops: Ops<T>, features: T, config: CategoricalHeadConfig): T {
  return ops.add(ops.matMul(features, ops.param(`${config.prefix}.weight`), false, true), ops.param(`${config.prefix}.bias`));
}

/** Name of the loss input: flat index r·2^K + class(r) of every row's target logit, int32 [R]. */
export const CATEGORICAL_TARGET_INPUT = 'categorical_target';

/**
 * Cross-entropy loss of the categorical head as core's {@link BitHeadLoss}: per row −log softmax(ℓ)[r(z₀)], counted on
 * the rows of the row mask and divided by K (nats per bit, the scale of the binary losses). Metrics: `ce` (nats per
 * token) and `pCorrect` (mean probability of the true class, all rows).
 */
export class CategoricalLoss implements BitHeadLoss {
  /** The resolved configuration. */
  readonly config: CategoricalHeadConfig;
  /** One int32 input: the flat target index per row. */
  readonly lossInputs: readonly InputSpec[] = [{ name: CATEGORICAL_TARGET_INPUT, dtype: 'int32', shape: ['rows'] }];
  /** `cat_head.weight`, `cat_head.bias`. */
  readonly parameterNames: readonly string[];

  /** Creates the loss. */
  constructor(config: Pick<CategoricalHeadConfig, 'bitsPerToken' | 'featureDim'> & Partial<CategoricalHeadConfig>) {
    this.config = resolveCategoricalHeadConfig(config);
    this.parameterNames = [...categoricalParameterShapes(this.config).keys()];
  }

  /** The flat target indices r·2^K + class(r) for targets [R, K]; draws nothing from `rng`. */
  sampleLossInputs(targets: CpuTensor<'float32'>, _rng: Rng): Record<string, CpuTensor> {
    const K = this.config.bitsPerToken;
    assertShape(targets, [-1, K], 'Categorical targets');
    const [R] = dims2(targets.shape, 'Categorical targets');
    const C = categoricalClasses(this.config);
    const idx = bitsToClassIndex(targets.data, R, K);
    for (let r = 0; r < R; r++) idx[r] = r * C + required(idx[r], 'class index');
    return { [CATEGORICAL_TARGET_INPUT]: new CpuTensor(idx, [R]) };
  }

  /** Loss = Σ_r mask_r·CE_r / (K·Σ_r mask_r). */
  lossGraph<T>(ops: Ops<T>, features: T, _targets: T, rowMask: T, inputs: Readonly<Record<string, T>>): { loss: T; metrics: Record<string, T> } {
    const target = inputs[CATEGORICAL_TARGET_INPUT];
    if (target === undefined) throw new ShapeError(`Categorical loss input "${CATEGORICAL_TARGET_INPUT}" is missing; feed the tensor from sampleLossInputs().`);
    const C = categoricalClasses(this.config);
    const logits = categoricalLogits(ops, features, this.config);
    // The row maximum only stabilises the log-sum-exp; it cancels in the gradient, so it carries none.
    const z = ops.sub(logits, ops.stopGradient(rowMax(ops, logits, C)));
    const lse = ops.reshape(ops.log(ops.sum(ops.exp(z), [1], true)), [-1]);
    const zt = ops.reshape(ops.gather(ops.reshape(z, [-1, 1]), target), [-1]);
    const ce = ops.sub(lse, zt);
    const count = ops.sum(rowMask, [0], false);
    const total = ops.sum(ops.mul(ce, rowMask), [0], false);
    return {
      loss: ops.div(total, ops.mul(count, ops.scalar(this.config.bitsPerToken))),
      metrics: { ce: ops.div(total, count), pCorrect: ops.mean(ops.exp(ops.neg(ce)), [0], false) },
    };
  }

  /** Weight N(0, 0.02²), bias 0 (the LlamaGen output-layer initialisation). */
  initParameters(rng: Rng): NamedTensors {
    const C = categoricalClasses(this.config);
    const D = this.config.featureDim;
    const w = rng.normalsF32(C * D);
    for (let i = 0; i < w.length; i++) w[i] = Math.fround(required(w[i], 'weight') * 0.02);
    return new Map([
      [`${this.config.prefix}.weight`, new CpuTensor(w, [C, D])],
      [`${this.config.prefix}.bias`, new CpuTensor(new Float32Array(C), [C])],
    ]);
  }
}

/** The logits graph: `features` [rows, D] → `logits` [rows, 2^K]. */
export function categoricalLogitsGraph(config: CategoricalHeadConfig): GraphDefinition {
  return {
    name: 'bigr_categorical_head',
    inputs: [{ name: 'features', dtype: 'float32', shape: ['rows', config.featureDim] }],
    outputs: ['logits'],
    build: <T>(ops: Ops<T>, feeds: Readonly<Record<string, T>>) => ({
      logits: categoricalLogits(ops, required(feeds['features'], 'graph input "features"'), config),
    }),
  };
}

/** Truncation of the categorical distribution; both off by default. */
export interface CategoricalTruncation {
  /** Keep only the k most probable classes (0 = off). */
  readonly topK?: number;
  /** Keep the smallest set of most probable classes whose probability reaches p (1 = off). */
  readonly topP?: number;
}

/**
 * Samples one class from a row of logits (docs/algorithm.md §13.1): guidance in logit space ℓ = ℓ_u + s·(ℓ_c − ℓ_u) in
 * float32 (skipped when `uncond` is null), division by the temperature, softmax in float64, optional top-k / top-p
 * truncation (renormalised), then the inverse CDF at `u` ∈ [0, 1) over the classes in index order. Returns the class
 * and its probability under the (truncated) distribution.
 */
export function sampleCategoricalRow(
  cond: ArrayLike<number>,
  uncond: ArrayLike<number> | null,
  scale: number,
  temperature: number,
  u: number,
  truncation: CategoricalTruncation = {},
): { index: number; probability: number } {
  const C = cond.length;
  const logits = new Float64Array(C);
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    let l = required(cond[c], 'conditional logit');
    if (uncond) {
      const lu = required(uncond[c], 'unconditional logit');
      l = Math.fround(lu + Math.fround(scale * Math.fround(l - lu)));
    }
    const scaled = Math.fround(l / temperature);
    logits[c] = scaled;
    if (scaled > max) max = scaled;
  }
  const p = new Float64Array(C);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(required(logits[c], 'logit') - max);
    p[c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) p[c] = required(p[c], 'probability') / sum;
  const topK = truncation.topK ?? 0;
  const topP = truncation.topP ?? 1;
  if ((topK > 0 && topK < C) || topP < 1) {
    const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => required(p[b], 'probability') - required(p[a], 'probability') || a - b);
    const keep = new Uint8Array(C);
    let mass = 0;
    for (const [i, c] of order.entries()) {
      if (topK > 0 && i >= topK) break;
      if (topP < 1 && mass >= topP) break;
      keep[c] = 1;
      mass += required(p[c], 'probability');
    }
    for (let c = 0; c < C; c++) p[c] = keep[c] ? required(p[c], 'probability') / mass : 0;
  }
  let acc = 0;
  let last = 0;
  for (let c = 0; c < C; c++) {
    const pc = required(p[c], 'probability');
    if (pc <= 0) continue;
    last = c;
    acc += pc;
    if (u < acc) return { index: c, probability: pc };
  }
  return { index: last, probability: required(p[last], 'probability') };
}

/** Smallest confidence written by {@link categoricalBitProbabilities}, so 0.5 ± c/2 stays distinct from 0.5 in float32. */
export const MIN_CATEGORICAL_CONFIDENCE = 2 ** -20;

/**
 * Per-bit "probabilities" that carry a sampled class to the bit-level samplers: bit k of the class gives
 * 0.5 ± c/2 with c = max(probability, {@link MIN_CATEGORICAL_CONFIDENCE}). Thresholding (commit 'threshold') recovers
 * the class exactly, and the sampler's margin confidence mean_k 2·|p − 0.5| equals c, the probability of the sampled
 * class (MaskGIT's confidence) — so entropy-ordered unmasking ranks tokens by it.
 */
export function categoricalBitProbabilities(index: number, probability: number, K: number, out: Float32Array, offset: number): void {
  const c = Math.max(probability, MIN_CATEGORICAL_CONFIDENCE);
  const hi = Math.fround(0.5 + c / 2);
  const lo = Math.fround(0.5 - c / 2);
  let r = index;
  for (let k = 0; k < K; k++) {
    out[offset + k] = r % 2 === 1 ? hi : lo;
    r = Math.floor(r / 2);
  }
}

/** Options of {@link CategoricalSampler.sampleProbabilities}: core's options plus truncation. */
export interface CategoricalSamplingOptions extends BitSamplingOptions, CategoricalTruncation {
  /** Stops with an AbortError before the engine call. */
  readonly signal?: AbortSignal;
}

/**
 * Categorical sampling as a core {@link BitHeadSampler}: one engine call computes the logits of the conditional and
 * unconditional rows together, then each row is sampled on the host ({@link sampleCategoricalRow}) with one uniform per
 * row (`rng.uniformsF32(R)`, row order). The returned per-bit values are {@link categoricalBitProbabilities}, to be
 * committed with the 'threshold' rule. `steps` is ignored (there is no diffusion).
 */
export class CategoricalSampler implements BitHeadSampler {
  /** Bits per token K. */
  readonly bitsPerToken: number;
  /** The configuration. */
  readonly config: CategoricalHeadConfig;
  /** The commit rule the returned values need: always 'threshold'. */
  readonly commit = 'threshold' as const;
  /** Default truncation (off unless set). */
  readonly truncation: CategoricalTruncation;
  readonly #graph: CompiledGraph;

  private constructor(config: CategoricalHeadConfig, graph: CompiledGraph, truncation: CategoricalTruncation) {
    this.config = config;
    this.bitsPerToken = config.bitsPerToken;
    this.#graph = graph;
    this.truncation = truncation;
  }

  /** Compiles the logits graph on `engine` with the head's parameters from `params`. */
  static async create(
    engine: Engine,
    params: NamedTensors,
    config: Pick<CategoricalHeadConfig, 'bitsPerToken' | 'featureDim'> & Partial<CategoricalHeadConfig>,
    options: CompileOptions & CategoricalTruncation = {},
  ): Promise<CategoricalSampler> {
    const c = resolveCategoricalHeadConfig(config);
    const own: NamedTensors = new Map();
    for (const [name, shape] of categoricalParameterShapes(c)) {
      const t = params.get(name);
      if (!t) throw new ConfigError(`Categorical head parameter "${name}" is missing; the model was not trained with the categorical objective.`);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
        throw new ShapeError(`Categorical head parameter "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}].`);
      own.set(name, t);
    }
    const { topK, topP, ...compile } = options;
    const graph = await engine.compile(categoricalLogitsGraph(c), own, compile);
    return new CategoricalSampler(c, graph, { ...(topK !== undefined ? { topK } : {}), ...(topP !== undefined ? { topP } : {}) });
  }

  /** Logits [rows, 2^K] of features [rows, D]. */
  async logits(features: CpuTensor<'float32'>): Promise<CpuTensor<'float32'>> {
    assertShape(features, [-1, this.config.featureDim], 'Categorical head features');
    const out = await this.#graph.run({ features });
    return out['logits'] as CpuTensor<'float32'>;
  }

  /** Samples one class per row; returns the classes and their probabilities. */
  async sampleClasses(
    condFeatures: CpuTensor<'float32'>,
    uncondFeatures: CpuTensor<'float32'> | null,
    options: CategoricalSamplingOptions,
  ): Promise<{ indices: Int32Array; probabilities: Float64Array }> {
    throwIfAborted(options.signal, 'categorical sampling');
    const D = this.config.featureDim;
    assertShape(condFeatures, [-1, D], 'Conditional features');
    const [R] = dims2(condFeatures.shape, 'Conditional features');
    const guided = uncondFeatures !== null && options.cfgScale !== 1;
    if (guided) assertShape(uncondFeatures, [R, D], 'Unconditional features');
    const temperature = options.temperature ?? 1;
    if (!(temperature > 0)) throw new ConfigError(`Categorical temperature ${temperature} must be > 0.`);
    let feed = condFeatures;
    if (guided) {
      const both = new Float32Array(2 * R * D);
      both.set(condFeatures.data, 0);
      both.set(uncondFeatures.data, R * D);
      feed = new CpuTensor(both, [2 * R, D]);
    }
    const logits = R > 0 ? (await this.logits(feed)).data : new Float32Array(0);
    const C = categoricalClasses(this.config);
    const u = options.rng.uniformsF32(R);
    const truncation = {
      ...this.truncation,
      ...(options.topK !== undefined ? { topK: options.topK } : {}),
      ...(options.topP !== undefined ? { topP: options.topP } : {}),
    };
    const indices = new Int32Array(R);
    const probabilities = new Float64Array(R);
    for (let r = 0; r < R; r++) {
      const s = sampleCategoricalRow(
        logits.subarray(r * C, (r + 1) * C),
        guided ? logits.subarray((R + r) * C, (R + r + 1) * C) : null,
        options.cfgScale,
        temperature,
        required(u[r], 'uniform'),
        truncation,
      );
      indices[r] = s.index;
      probabilities[r] = s.probability;
    }
    return { indices, probabilities };
  }

  /** Samples one class per row and returns {@link categoricalBitProbabilities} [R, K] (commit with 'threshold'). */
  async sampleProbabilities(
    condFeatures: CpuTensor<'float32'>,
    uncondFeatures: CpuTensor<'float32'> | null,
    options: CategoricalSamplingOptions,
  ): Promise<CpuTensor<'float32'>> {
    const { indices, probabilities } = await this.sampleClasses(condFeatures, uncondFeatures, options);
    const K = this.bitsPerToken;
    const out = new Float32Array(indices.length * K);
    for (let r = 0; r < indices.length; r++) {
      categoricalBitProbabilities(required(indices[r], 'class'), required(probabilities[r], 'class probability'), K, out, r * K);
    }
    return new CpuTensor(out, [indices.length, K]);
  }

  /** Releases the compiled graph. */
  async dispose(): Promise<void> {
    await this.#graph.dispose();
  }
}
