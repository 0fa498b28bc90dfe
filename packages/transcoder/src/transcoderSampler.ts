/**
 * Reverse Bernoulli diffusion with classifier-free guidance (docs/algorithm.md §4.3), as core's {@link BitHeadSampler}.
 *
 * Cost model: the condition embedding c_emb = c_embedder(F) does not depend on the step, so a `condition` graph
 * computes it once per call for the conditional and unconditional rows together; a `step` graph then runs the rest
 * of the denoiser once per visited timestep over all rows of both CFG halves (one engine call per step, the
 * timestep MLP evaluated on a single row). Host-side buffers are allocated once per call and reused by every step.
 */
import { required, ConfigError, CpuTensor, ShapeError, assertShape, dims2, flipToZeroProbability, guidedLogit, throwIfAborted } from '@bigr/core';
import type { BitHeadSampler, BitSamplingOptions, CompiledGraph, Engine, NamedTensors } from '@bigr/core';
import type { TranscoderConfig, TranscoderConfigInput } from './config.js';
import { DIRECT_INPUT_BIT, resolveTranscoderConfig } from './config.js';
import { conditionGraph, denoiserParameterShapes, splitModulationParameters, stepGraph } from './denoiser.js';
import { officialScheduleBuffers } from './noiseSchedule.js';
import type { ScheduleBuffers } from './noiseSchedule.js';
import { reverseStepCoefficients } from './bernoulliPosterior.js';
import type { ReverseStepCoefficients } from './bernoulliPosterior.js';
import { visitedTimesteps } from './visitedTimesteps.js';

const f32 = Math.fround;

/** What one reverse step saw and produced (copies; only built when {@link TranscoderSampleOptions.onStep} is set). */
export interface TranscoderStepTrace {
  /** Index of the step in execution order. */
  readonly index: number;
  /** Visited timestep t. */
  readonly t: number;
  /** Next visited timestep, or 0 after the last step. */
  readonly tPrev: number;
  /** Current state x_t [R·K] (0/1) before the step. */
  readonly x: Float32Array;
  /** Conditional logits [R·K] (before temperature). */
  readonly logitsCond: Float32Array;
  /** Unconditional logits [R·K], or null when guidance is off. */
  readonly logitsUncond: Float32Array | null;
  /** P(z_0 = 1) [R·K] after CFG and temperature. */
  readonly pX0: Float32Array;
  /** P(z_{t'} = 1) [R·K], or null at the final (deterministic) step. */
  readonly posterior: Float32Array | null;
}

/** Sampling options: core's {@link BitSamplingOptions} plus tracing and cancellation. */
export interface TranscoderSampleOptions extends BitSamplingOptions {
  /** Called after every reverse step with copies of its tensors (for tests and debugging). */
  readonly onStep?: (step: TranscoderStepTrace) => void;
  /** Stops at the next step with an AbortError. */
  readonly signal?: AbortSignal;
}

/** Result of {@link TranscoderSampler.sample}. */
export interface TranscoderSampleResult {
  /** The last step's P(z_0 = 1) per bit, [R, K] (what the official sampler returns with `return_logits=True`). */
  readonly probabilities: CpuTensor<'float32'>;
  /** The sampled bits, [R, K]: the final deterministic step 1[p > 0.5] (Bernoulli(p) for the `'direct'` target). */
  readonly bits: CpuTensor<'uint8'>;
}

/** Options of {@link TranscoderSampler.create}. */
export interface TranscoderSamplerCreateOptions {
  /** Intra-op threads for onnxruntime (see core's CompileOptions). */
  readonly threads?: number;
}

/**
 * Splits denoiser parameters into those of the condition graph (`c_embedder`) and of the step graph (the rest).
 * Throws when one is missing.
 */
export function splitSamplerParameters(params: NamedTensors, config: TranscoderConfig): { condition: NamedTensors; step: NamedTensors } {
  const condition: NamedTensors = new Map();
  const step: NamedTensors = new Map();
  const prefix = `${config.prefix}.c_embedder.`;
  for (const name of denoiserParameterShapes(config).keys()) {
    const t = params.get(name);
    if (!t) throw new ConfigError(`Transcoder parameter "${name}" is missing; load the ${config.prefix}.* weights (loadTranscoderWeights) or initialise them.`);
    (name.startsWith(prefix) ? condition : step).set(name, t);
  }
  return { condition, step };
}

/**
 * The transcoder's sampler. Deterministic given the RNG: uniforms are drawn with `rng.uniformsF32(R·K)` once for the
 * initial coin toss and once per non-final step, in C order (the fixture convention u < p).
 */
export class TranscoderSampler implements BitHeadSampler {
  /** Resolved configuration. */
  readonly config: TranscoderConfig;
  /** Bits per token K. */
  readonly bitsPerToken: number;
  readonly #condition: CompiledGraph;
  readonly #step: CompiledGraph;
  readonly #buffers: ScheduleBuffers;
  readonly #coefficients = new Map<number, { visited: Int32Array; coefs: ReverseStepCoefficients[] }>();

  /** Wraps already compiled {@link conditionGraph} and {@link stepGraph} graphs of the same parameters. */
  constructor(config: TranscoderConfigInput, condition: CompiledGraph, step: CompiledGraph) {
    this.config = resolveTranscoderConfig(config);
    this.bitsPerToken = this.config.bitsPerToken;
    this.#condition = condition;
    this.#step = step;
    this.#buffers = officialScheduleBuffers(this.config.timesteps);
  }

  /** Compiles the condition and step graphs on `engine` (e.g. onnx-cpu or tfjs-wasm) with denoiser `params`. */
  static async create(
    engine: Engine,
    params: NamedTensors,
    config: TranscoderConfigInput,
    options: TranscoderSamplerCreateOptions = {},
  ): Promise<TranscoderSampler> {
    const c = resolveTranscoderConfig(config);
    const split = splitSamplerParameters(params, c);
    const compileOptions = options.threads === undefined ? {} : { threads: options.threads };
    const condition = await engine.compile(conditionGraph(c), split.condition, compileOptions);
    try {
      // One product per adaLN chunk instead of slices of one product: the same logits, bit for bit on onnxruntime
      // (splitModulation.test.ts), and the step graph runs 8–15 % faster.
      const step = await engine.compile(stepGraph(c, { splitModulation: true }), splitModulationParameters(split.step, c), compileOptions);
      return new TranscoderSampler(c, condition, step);
    } catch (err) {
      await condition.dispose();
      throw err;
    }
  }

  /** Releases both compiled graphs. */
  async dispose(): Promise<void> {
    await this.#condition.dispose();
    await this.#step.dispose();
  }

  /** {@link BitHeadSampler} entry point: P(z_0 = 1) [R, K] of the last reverse step. */
  async sampleProbabilities(
    condFeatures: CpuTensor<'float32'>,
    uncondFeatures: CpuTensor<'float32'> | null,
    options: BitSamplingOptions,
  ): Promise<CpuTensor<'float32'>> {
    return (await this.sample(condFeatures, uncondFeatures, options)).probabilities;
  }

  #schedule(steps: number): { visited: Int32Array; coefs: ReverseStepCoefficients[] } {
    let s = this.#coefficients.get(steps);
    if (!s) {
      const visited = visitedTimesteps(this.config.timesteps, steps);
      const coefs: ReverseStepCoefficients[] = [];
      for (const [i, t] of visited.entries()) {
        const tPrev = visited[i + 1];
        if (tPrev === undefined) break;
        coefs.push(reverseStepCoefficients(this.#buffers, t, tPrev));
      }
      s = { visited, coefs };
      this.#coefficients.set(steps, s);
    }
    return s;
  }

  /**
   * Runs the reverse process for rows of conditional features [R, D] (and unconditional ones for CFG): per visited t,
   * ℓ = ℓ_u/τ + s·(ℓ_c/τ − ℓ_u/τ), p = σ(ℓ), P(z_0=1) = x ? 1 − p : p (xor target), then the posterior step with a
   * Bernoulli draw, and 1[P(z_0=1) > 0.5] at t = 1. With `cfgScale` 1 or no unconditional features, the unconditional
   * branch is skipped.
   */
  async sample(
    condFeatures: CpuTensor<'float32'>,
    uncondFeatures: CpuTensor<'float32'> | null,
    options: TranscoderSampleOptions,
  ): Promise<TranscoderSampleResult> {
    const c = this.config;
    const K = c.bitsPerToken;
    assertShape(condFeatures, [-1, c.featureDim], 'Transcoder conditional features');
    const [R] = dims2(condFeatures.shape, 'Transcoder conditional features');
    const cfg = options.cfgScale;
    const temperature = options.temperature ?? 1;
    if (!Number.isFinite(cfg)) throw new ConfigError(`CFG scale ${String(cfg)} is not finite; pass a number such as 2.5 (1 disables guidance).`);
    if (!(temperature > 0)) throw new ConfigError(`Sampling temperature ${String(temperature)} must be > 0 (1 is the default).`);
    const guided = cfg !== 1;
    if (guided && uncondFeatures === null) {
      throw new ConfigError(`CFG scale ${cfg} needs unconditional features, but none were given; pass them or use cfgScale 1.`);
    }
    // present exactly when guided
    const uncond = guided ? uncondFeatures : null;
    if (uncond) assertShape(uncond, [R, c.featureDim], 'Transcoder unconditional features');
    const G = guided ? 2 : 1;
    const RK = R * K;

    // Condition embedding, once per call, for both halves in one run.
    let features = condFeatures;
    if (uncond) {
      const both = new Float32Array(2 * R * c.featureDim);
      both.set(condFeatures.data, 0);
      both.set(uncond.data, R * c.featureDim);
      features = new CpuTensor(both, [2 * R, c.featureDim]);
    }
    const cOut = (await this.#condition.run({ features }))['c_emb'];
    if (!cOut) throw new ShapeError('The transcoder condition graph returned no "c_emb" output.');
    const cEmb = new CpuTensor(cOut.data as Float32Array, [G * R, c.width]);

    const xx = new Float32Array(G * RK);
    const xFeed = new CpuTensor(xx, [G * R, K]);
    const tauData = new Float32Array(1);
    const tauFeed = new CpuTensor(tauData, [1]);
    const feeds = { x_t: xFeed, tau: tauFeed, c_emb: cEmb };
    const x = new Float32Array(RK);
    const pX0 = new Float32Array(RK);
    const temp = temperature;
    const flip = c.target === 'xor';
    const runStep = async (): Promise<Float32Array> => {
      const out = (await this.#step.run(feeds))['logits'];
      if (!out || out.size !== G * RK) throw new ShapeError(`The transcoder step graph returned ${out ? out.size : 0} logits but ${G * RK} were expected.`);
      return out.data as Float32Array;
    };
    // Guidance after the temperature, then the flip probability (docs/algorithm.md §4.3), as core defines them.
    const guide = (logits: Float32Array): void => {
      for (let i = 0; i < RK; i++) {
        const lc = required(logits[i], 'conditional logit');
        const l = guided ? guidedLogit(lc, required(logits[RK + i], 'unconditional logit'), cfg, temp) : f32(lc / temp);
        pX0[i] = flipToZeroProbability(l, flip && required(x[i], 'bit') > 0.5 ? 1 : 0);
      }
    };

    if (c.target === 'direct') {
      xx.fill(DIRECT_INPUT_BIT);
      tauData[0] = 0;
      const logits = await runStep();
      guide(logits);
      const u = options.rng.uniformsF32(RK);
      const bits = new Uint8Array(RK);
      for (let i = 0; i < RK; i++) bits[i] = required(u[i], 'uniform') < required(pX0[i], 'P(z_0 = 1)') ? 1 : 0;
      options.onStep?.({
        index: 0,
        t: 0,
        tPrev: 0,
        x: x.slice(),
        logitsCond: logits.slice(0, RK),
        logitsUncond: guided ? logits.slice(RK) : null,
        pX0: pX0.slice(),
        posterior: null,
      });
      return { probabilities: new CpuTensor(pX0, [R, K]), bits: new CpuTensor(bits, [R, K]) };
    }

    const { visited, coefs } = this.#schedule(options.steps ?? c.inferenceSteps);
    const u0 = options.rng.uniformsF32(RK);
    for (let i = 0; i < RK; i++) x[i] = required(u0[i], 'uniform') < 0.5 ? 1 : 0;
    const posterior = new Float32Array(RK);
    for (const [s, t] of visited.entries()) {
      throwIfAborted(options.signal, 'transcoder sampling');
      for (let g = 0; g < G; g++) xx.set(x, g * RK);
      tauData[0] = t - 1;
      const logits = await runStep();
      guide(logits);
      const last = s === visited.length - 1;
      const before = options.onStep ? x.slice() : null;
      if (!last) {
        // reversePosterior inlined with the coefficients hoisted (the same float32 operations, so the same bits),
        // fused with the Bernoulli draw: this loop runs R·K times per step.
        const coef = required(coefs[s], 'reverse step coefficients');
        const kP = coef.kPrev;
        const bP = coef.bPrev;
        const [l1x1, l0x1] = coef.likelihoodX1;
        const [l1x0, l0x0] = coef.likelihoodX0;
        const u = options.rng.uniformsF32(RK);
        for (let i = 0; i < RK; i++) {
          const p = required(pX0[i], 'P(z_0 = 1)');
          const one = required(x[i], 'bit') > 0.5;
          const a1 = f32(f32(kP * p) + bP);
          const a0 = f32(f32(kP * f32(1 - p)) + bP);
          const n1 = f32(a1 * (one ? l1x1 : l1x0));
          const n0 = f32(a0 * (one ? l0x1 : l0x0));
          const post = f32(n1 / f32(n1 + n0));
          posterior[i] = post;
          x[i] = required(u[i], 'uniform') < post ? 1 : 0;
        }
      } else {
        for (let i = 0; i < RK; i++) x[i] = required(pX0[i], 'P(z_0 = 1)') > 0.5 ? 1 : 0;
      }
      if (before) {
        options.onStep?.({
          index: s,
          t,
          tPrev: last ? 0 : required(visited[s + 1], 'next visited timestep'),
          x: before,
          logitsCond: logits.slice(0, RK),
          logitsUncond: guided ? logits.slice(RK) : null,
          pX0: pX0.slice(),
          posterior: last ? null : posterior.slice(),
        });
      }
    }
    const bits = new Uint8Array(x);
    return { probabilities: new CpuTensor(pX0, [R, K]), bits: new CpuTensor(bits, [R, K]) };
  }
}
