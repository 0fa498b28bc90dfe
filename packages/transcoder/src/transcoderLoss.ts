/**
 * Training loss of the binary transcoder (docs/algorithm.md §4.2), as core's {@link BitHeadLoss}: per row draw t ~ U{1…T}
 * and z_t ~ q(z_t | z_0), predict with g_φ(z_t, t − 1, F), and take the (weighted) BCE against the parameterisation's
 * target, averaged over the rows selected by the row mask.
 */
import { required, CpuTensor, ShapeError, assertShape, dims2 } from '@bigr/core';
import type { BitHeadLoss, InputSpec, NamedTensors, Ops, Rng } from '@bigr/core';
import type { TranscoderConfig, TranscoderConfigInput } from './config.js';
import { DIRECT_INPUT_BIT, resolveTranscoderConfig } from './config.js';
import { denoiser, denoiserParameterShapes } from './denoiser.js';
import { officialScheduleBuffers } from './noiseSchedule.js';
import type { ScheduleBuffers } from './noiseSchedule.js';
import { bceWithLogits, weightedBceWeightsGraph } from './weightedBce.js';
import { initTranscoderParameters } from './weights.js';

/** Name of the loss input holding the noisy bits z_t [R, K]. */
export const LOSS_INPUT_XT = 'transcoder_x_t';
/** Name of the loss input holding the denoiser times τ = t − 1 [R] (float32). */
export const LOSS_INPUT_TAU = 'transcoder_tau';

/**
 * Draws the diffusion inputs of the loss for targets z_0 [R, K] (0/1): first R timesteps t = 1 + rng.int(T)
 * (row order), then one `rng.uniformsF32(R·K)` call giving z_t = 1[u < k_t·z_0 + b_t] in C order (the fixture
 * Bernoulli convention). Returns z_t [R, K] and τ = t − 1 [R].
 */
export function sampleForwardDiffusion(
  targets: CpuTensor<'float32'>,
  buffers: ScheduleBuffers,
  rng: Rng,
): { xt: CpuTensor<'float32'>; tau: CpuTensor<'float32'> } {
  if (targets.shape.length !== 2) {
    throw new ShapeError(`Transcoder targets have shape [${targets.shape.join(', ')}] but [rows, K] was expected; flatten (B, N, K) to (B·N, K).`);
  }
  const [R, K] = dims2(targets.shape, 'Transcoder targets');
  const T = buffers.beta.length - 1;
  const tau = new Float32Array(R);
  for (let r = 0; r < R; r++) tau[r] = rng.int(T);
  const u = rng.uniformsF32(R * K);
  const z0 = targets.data;
  const xt = new Float32Array(R * K);
  for (let r = 0; r < R; r++) {
    const t = required(tau[r], 'τ') + 1;
    const k = required(buffers.k_final[t], 'k_t');
    const b = required(buffers.b_final[t], 'b_t');
    for (let j = r * K; j < (r + 1) * K; j++) xt[j] = required(u[j], 'uniform') < Math.fround(Math.fround(k * required(z0[j], 'target bit')) + b) ? 1 : 0;
  }
  return { xt: new CpuTensor(xt, [R, K]), tau: new CpuTensor(tau, [R]) };
}

/**
 * The transcoder's training objective. Selectable by config: target `'xor'` (default; z_0 ⊕ z_t), `'z0'` or `'direct'`
 * (no diffusion), and loss `'wbce'` (default for xor) or `'bce'`.
 * Metrics: `bce` (unweighted BCE over counted rows) and `pCorrect` (mean probability of the true target bit, all rows).
 */
export class TranscoderLoss implements BitHeadLoss {
  /** The resolved configuration. */
  readonly config: TranscoderConfig;
  /** Extra graph inputs: z_t and τ (none for the `'direct'` target). */
  readonly lossInputs: readonly InputSpec[];
  /** Names of the denoiser parameters, official `denoise_mlp.*` names. */
  readonly parameterNames: readonly string[];
  readonly #buffers: ScheduleBuffers;

  /** Creates the loss for a configuration (defaults filled in by {@link resolveTranscoderConfig}). */
  constructor(config: TranscoderConfigInput) {
    this.config = resolveTranscoderConfig(config);
    this.#buffers = officialScheduleBuffers(this.config.timesteps);
    this.parameterNames = [...denoiserParameterShapes(this.config).keys()];
    this.lossInputs =
      this.config.target === 'direct'
        ? []
        : [
            { name: LOSS_INPUT_XT, dtype: 'float32', shape: ['rows', this.config.bitsPerToken] },
            { name: LOSS_INPUT_TAU, dtype: 'float32', shape: ['rows'] },
          ];
  }

  /** Draws z_t and τ for targets z_0 [R, K] (see {@link sampleForwardDiffusion}); nothing for the `'direct'` target. */
  sampleLossInputs(targets: CpuTensor<'float32'>, rng: Rng): Record<string, CpuTensor> {
    assertShape(targets, [-1, this.config.bitsPerToken], 'Transcoder targets');
    if (this.config.target === 'direct') return {};
    const { xt, tau } = sampleForwardDiffusion(targets, this.#buffers, rng);
    return { [LOSS_INPUT_XT]: xt, [LOSS_INPUT_TAU]: tau };
  }

  /**
   * Loss = Σ_r rowMask_r·Σ_k w_rk·BCE(ℓ_rk, y_rk) / (K·Σ_r rowMask_r) with w from Eq. 7 (wbce) or 1 (bce).
   * `features` [R, D], `targets` z_0 [R, K], `rowMask` [R]; `inputs` holds {@link LOSS_INPUT_XT} and {@link LOSS_INPUT_TAU}.
   */
  lossGraph<T>(ops: Ops<T>, features: T, targets: T, rowMask: T, inputs: Readonly<Record<string, T>>): { loss: T; metrics: Record<string, T> } {
    const c = this.config;
    const K = c.bitsPerToken;
    let logits: T;
    let y: T;
    if (c.target === 'direct') {
      const x = new Float32Array(K).fill(DIRECT_INPUT_BIT);
      logits = denoiser(ops, ops.constant(x, [1, K]), ops.constant(new Float32Array(1), [1]), features, c);
      y = targets;
    } else {
      const xt = inputs[LOSS_INPUT_XT];
      const tau = inputs[LOSS_INPUT_TAU];
      if (xt === undefined || tau === undefined) {
        throw new ShapeError(`Transcoder loss inputs "${LOSS_INPUT_XT}" and "${LOSS_INPUT_TAU}" are missing; feed the tensors from sampleLossInputs().`);
      }
      logits = denoiser(ops, xt, tau, features, c);
      // z0 ⊕ z_t = z0 + z_t − 2·z0·z_t for 0/1 values.
      y = c.target === 'xor' ? ops.sub(ops.add(targets, xt), ops.mul(ops.scalar(2), ops.mul(targets, xt))) : targets;
    }
    const bce = bceWithLogits(ops, logits, y);
    const elem = c.loss === 'wbce' ? ops.mul(bce, weightedBceWeightsGraph(ops, y, K)) : bce;
    const mask = ops.reshape(rowMask, [-1, 1]);
    const denom = ops.mul(ops.sum(rowMask, [0], false), ops.scalar(K));
    const reduce = (e: T): T => ops.div(ops.sum(ops.mul(e, mask), [0, 1], false), denom);
    const p = ops.sigmoid(logits);
    const pCorrect = ops.add(ops.mul(y, p), ops.mul(ops.sub(ops.scalar(1), y), ops.sub(ops.scalar(1), p)));
    return { loss: reduce(elem), metrics: { bce: reduce(bce), pCorrect: ops.mean(pCorrect, [0, 1], false) } };
  }

  /** Fresh parameters per docs/algorithm.md §2.6 (N(0, 0.02) weights, zero biases, zero-initialised adaLN and final layers). */
  initParameters(rng: Rng): NamedTensors {
    return initTranscoderParameters(this.config, rng);
  }
}
