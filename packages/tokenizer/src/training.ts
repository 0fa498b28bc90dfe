import { join } from 'node:path';
import {
  permutation,
  at,
  getOrThrow,
  required,
  AbortError,
  ConfigError,
  CpuTensor,
  Trainer,
  createRng,
  pathExists,
  type Engine,
  type TrainerJsonValue,
  type LearningRate,
  type LongRunningOptions,
  type LossFunction,
  type NamedTensors,
  type Ops,
  type Rng,
  type Tensor,
  type TrainingStepRecord,
} from '@bigr/core';
import { configToHparams, latentGrid, validateConfig, type BaeConfig } from './config.js';
import { decoder, decoderGraph, decoderPlan, encoder, encoderGraph } from './baeGraph.js';
import { discriminator, hingeDiscriminatorLoss, initDiscriminator, type DiscriminatorConfig } from './discriminator.js';
import { baeParameterShapes, initBaeParameters, loadBaeParameters } from './parameters.js';
import type { PerceptualLoss } from './perceptual.js';
import { binarize, codeProbabilities, codeRegulariser, embedCodes, straightThroughOffset, type CodeMode } from './quantizer.js';

/** The perceptual term of the B-AE loss (docs/algorithm.md §1.6: LPIPS-VGG, weight 1.0). */
export interface BaePerceptualOptions {
  /** The loss network (see `lpipsLoss`); none ships with the package. */
  readonly loss: PerceptualLoss;
  /** Weight (official `perceptual_weight` 1.0). */
  readonly weight?: number;
}

/** The adversarial term (docs/algorithm.md §1.6). */
export interface BaeAdversarialOptions {
  /** Step from which the generator gets the adversarial term and D trains (official 30001; BLD README 400001). */
  readonly discStartStep?: number;
  /** Upper clamp of the adaptive weight λ (official `disc_weight_max` 1). */
  readonly discWeightMax?: number;
  /** Discriminator base width (official 64). */
  readonly ndf?: number;
  /** Discriminator stride-2 layers (official 3). */
  readonly layers?: number;
  /** D learning rate (default: the B-AE's). */
  readonly learningRate?: LearningRate;
}

/** Options of {@link trainBae}. */
export interface BaeTrainingOptions extends LongRunningOptions {
  /** A training engine (e.g. `resolveEngine({ purpose: 'training' })` → 'onnx-cpu'). */
  readonly engine: Engine;
  /** Train until this many steps are done (absolute: a resumed run continues to the same end). */
  readonly steps: number;
  /** Images per step. */
  readonly batchSize: number;
  /** Seed of the run (initialisation, batch order, Bernoulli codes). Ignored when resuming. */
  readonly seed: number | string;
  /**
   * Learning rate (default the official base_lr·batch = 4.5e-6·batchSize, ×0.1 from step 1.5M; BLD). Small models
   * on small data want much more, e.g. 1e-3.
   */
  readonly learningRate?: LearningRate;
  /** Adam betas (default [0.9, 0.999], PyTorch's defaults as used by BLD). */
  readonly betas?: readonly [number, number];
  /**
   * Binarisation inside training: `'bernoulli'` (official `deterministic=False`) or `'threshold'`; either way the
   * straight-through estimator z = b + p − stopgrad(p) passes gradients to p (docs/algorithm.md §1.4).
   */
  readonly codeMode?: CodeMode;
  /** Weight of the code regulariser (official `code_weight` 0). */
  readonly codeWeight?: number;
  /** Apply the official second sigmoid in the code regulariser (QUIRK, default true). */
  readonly codeDoubleSigmoid?: boolean;
  /** Perceptual loss; off by default (no pretrained network ships with the package). */
  readonly perceptual?: BaePerceptualOptions | null;
  /** PatchGAN adversarial loss with the adaptive weight; off by default. */
  readonly adversarial?: BaeAdversarialOptions | null;
  /**
   * EMA decay per step (default 0.995^(1/10) ≈ 0.9995, the per-step equivalent of the official β = 0.995 applied
   * every 10 steps); null disables the EMA.
   */
  readonly emaDecay?: number | null;
  /** Start from these parameters (fine-tuning) instead of a fresh initialisation. */
  readonly initialParameters?: ReadonlyMap<string, CpuTensor>;
  /** Directory for checkpoints (the discriminator's go to `<dir>/discriminator`). */
  readonly checkpointDirectory?: string;
  /** Checkpoint every this many steps (0 = only at the end and on abort). */
  readonly checkpointEvery?: number;
  /** Continue from the latest checkpoint in `checkpointDirectory` when one exists (default true). */
  readonly resume?: boolean;
}

/** Result of {@link trainBae}. */
export interface BaeTrainingResult {
  /** Final parameters (official names). */
  readonly parameters: NamedTensors;
  /** EMA parameters (what the released models are), or null. */
  readonly emaParameters: NamedTensors | null;
  /** Discriminator parameters (`disc.main.*`), or null without the adversarial loss. */
  readonly discriminatorParameters: NamedTensors | null;
  /** Steps completed. */
  readonly step: number;
  /** Loss per step (including steps before a resume). */
  readonly losses: readonly number[];
  /** Records of the steps run in this call (loss, lr, gradient norm, metrics: l1, codeReg, perceptual, adversarial, λ). */
  readonly records: readonly TrainingStepRecord[];
}

/** One prepared B-AE step: everything random was drawn on the CPU. */
interface BaeBatch {
  readonly images: Float32Array;
  readonly batch: number;
  /** b − p₀ for the straight-through estimator, [B, K, h, w]. */
  readonly offset: Float32Array;
  /** Adaptive adversarial weight λ (0 before the start step). */
  readonly lambda: number;
  /** Frozen discriminator weights for the adversarial term, or null. */
  readonly disc: NamedTensors | null;
}

/** |x| = relu(x) + relu(−x) (Ops has no abs). */
function abs<T>(ops: Ops<T>, x: T): T {
  return ops.add(ops.relu(x), ops.relu(ops.neg(x)));
}

/** Which terms a loss closure includes. */
interface LossTerms {
  readonly nll: boolean;
  readonly adversarial: boolean;
}

/**
 * Builds the B-AE loss of one batch (docs/algorithm.md §1.6): L = mean|x − x̂| + w_p·perceptual + λ·L_G + w_c·L_code, where
 * x̂ = decoder(embed(z)) with the straight-through code z = p + (b − p₀).
 */
function baeLoss(
  config: BaeConfig,
  height: number,
  width: number,
  b: BaeBatch,
  options: BaeTrainingOptions,
  terms: LossTerms,
  dcfg: DiscriminatorConfig | null,
): LossFunction {
  const grid = latentGrid(config, height, width);
  const codeWeight = options.codeWeight ?? 0;
  const perceptual = options.perceptual ?? null;
  return <T>(ops: Ops<T>) => {
    const x = ops.constant(b.images, [b.batch, config.inChannels, height, width]);
    const feats = encoder(ops, x, config, { height, width });
    const p = codeProbabilities(ops, feats);
    const z = ops.add(p, ops.constant(b.offset, [b.batch, config.codeDim, grid[0], grid[1]]));
    const xHat = decoder(ops, embedCodes(ops, z, config.codeDim, config.embDim), config, { height: grid[0], width: grid[1] });
    const all = [0, 1, 2, 3];
    const l1 = ops.mean(abs(ops, ops.sub(x, xHat)), all, false);
    const metrics: Record<string, T> = { l1 };
    let loss: T | null = null;
    const addTerm = (t: T): void => {
      loss = loss === null ? t : ops.add(loss, t);
    };
    if (terms.nll) {
      addTerm(l1);
      if (perceptual) {
        const pl = perceptual.loss.loss(ops, x, xHat, { channels: config.inChannels, height, width });
        metrics['perceptual'] = pl;
        addTerm(ops.mul(ops.scalar(perceptual.weight ?? 1), pl));
      }
    }
    if (terms.adversarial && b.disc && dcfg) {
      const disc = b.disc;
      const logits = discriminator(ops, xHat, dcfg, (name) => {
        const t = getOrThrow(disc, name, 'discriminator parameter');
        return ops.constant(t.data as Float32Array, t.shape);
      });
      const gLoss = ops.neg(ops.mean(logits, all, false));
      metrics['adversarial'] = gLoss;
      addTerm(terms.nll ? ops.mul(ops.scalar(b.lambda), gLoss) : gLoss);
    }
    if (terms.nll) {
      const reg = codeRegulariser(ops, p, options.codeDoubleSigmoid ?? true, all);
      metrics['codeReg'] = reg;
      if (codeWeight !== 0) addTerm(ops.mul(ops.scalar(codeWeight), reg));
    }
    return { loss: loss ?? l1, metrics };
  };
}

function l2(a: Float32Array | undefined): number {
  if (!a) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = required(a[i], 'gradient entry');
    s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * Trains a B-AE on images [N, C, H, W] in [0, 1] with the generic core `Trainer` (Adam, EMA, checkpoints with
 * bit-exact resume, progress events per step, AbortSignal). Each step draws a batch (a fresh permutation per epoch),
 * runs a gradient-free encoder pass for p₀, samples the codes b on the CPU (Bernoulli or threshold), and minimises
 * the §1.6 loss through the straight-through code. With `adversarial`, a PatchGAN is trained alongside from
 * `discStartStep` with the hinge loss, and the generator term is weighted by the adaptive λ of §1.6 (two extra
 * gradient evaluations per step).
 */
export async function trainBae(config: BaeConfig, images: Tensor<'float32'>, options: BaeTrainingOptions): Promise<BaeTrainingResult> {
  const c = validateConfig(config);
  if (images.dtype !== 'float32' || images.shape.length !== 4 || images.shape[1] !== c.inChannels) {
    throw new ConfigError(
      `trainBae: images have dtype ${images.dtype} and shape [${images.shape.join(', ')}]; expected float32 [N, ${c.inChannels}, H, W] in [0, 1].`,
    );
  }
  const [n, , height, width] = images.shape as [number, number, number, number];
  const grid = latentGrid(c, height, width);
  const B = options.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new ConfigError(`trainBae: batchSize must be a positive integer, got ${B}.`);
  if (n < 1) throw new ConfigError('trainBae: no training images were given.');
  if (!Number.isInteger(options.steps) || options.steps < 0) throw new ConfigError(`trainBae: steps must be an integer >= 0, got ${options.steps}.`);
  const per = c.inChannels * height * width;
  const codeMode = options.codeMode ?? 'bernoulli';
  const adv = options.adversarial ?? null;
  const dcfg: DiscriminatorConfig | null = adv ? { inChannels: c.inChannels, ndf: adv.ndf ?? 64, layers: adv.layers ?? 3 } : null;
  const discStart = adv?.discStartStep ?? 30001;
  const lastConv = `generator.blocks.${decoderPlan(c).length - 1}.weight`;
  const learningRate: LearningRate = options.learningRate ?? { kind: 'stepDecay', lr: 4.5e-6 * B, factor: 0.1, milestones: [1_500_000] };
  const dir = options.checkpointDirectory;
  const discDir = dir ? join(dir, 'discriminator') : undefined;
  const resume = (options.resume ?? true) && dir !== undefined && (await pathExists(join(dir, 'latest.json')));

  const encG = encoderGraph(c, height, width, { withFeatures: true });
  const decG = decoderGraph(c, height, width);
  const shapes = baeParameterShapes(c);
  let gTrainer: Trainer<BaeBatch> | null = null;
  let dTrainer: Trainer<{ real: Float32Array; fake: Float32Array; batch: number }> | null = null;
  let dBatch: { real: Float32Array; fake: Float32Array; batch: number } | null = null;

  let perm: Int32Array = new Int32Array(0);
  let permEpoch = -1;
  const drawImages = (step: number, rng: Rng): Float32Array => {
    const out = new Float32Array(B * per);
    const stepsPerEpoch = Math.ceil(n / B);
    const epoch = Math.floor(step / stepsPerEpoch);
    const within = step % stepsPerEpoch;
    // A fresh permutation per epoch from a fork of the trainer's stream (reproducible on resume), cached per epoch.
    if (permEpoch !== epoch) {
      perm = permutation(n, rng.fork(`bae-epoch-${epoch}`));
      permEpoch = epoch;
    }
    for (let i = 0; i < B; i++) {
      const image = at(perm, (within * B + i) % n, 'permuted image index');
      out.set(images.data.subarray(image * per, (image + 1) * per), i * per);
    }
    return out;
  };

  const batches = async (step: number, rng: Rng): Promise<BaeBatch> => {
    // the generator trainer exists before its first step asks for a batch
    const trainer = required(gTrainer, 'generator trainer');
    const imgs = drawImages(step, rng);
    const feed = new CpuTensor(imgs, [B, c.inChannels, height, width]);
    const p0 = required((await trainer.trainable.evaluate(encG, { image: feed }))['code_prob'], 'encoder output "code_prob"').data as Float32Array;
    const bits = binarize(p0, codeMode, rng);
    const offset = straightThroughOffset(bits, p0);
    let lambda = 0;
    let disc: NamedTensors | null = null;
    if (adv && dTrainer && step >= discStart) {
      disc = dTrainer.parameters();
      const pre: BaeBatch = { images: imgs, batch: B, offset, lambda: 0, disc };
      const gN = await trainer.trainable.gradients(baeLoss(c, height, width, pre, options, { nll: true, adversarial: false }, dcfg), rng);
      const gG = await trainer.trainable.gradients(baeLoss(c, height, width, pre, options, { nll: false, adversarial: true }, dcfg), rng);
      lambda = Math.min(Math.max(l2(gN.grads.get(lastConv)) / (l2(gG.grads.get(lastConv)) + 1e-4), 0), adv.discWeightMax ?? 1);
    }
    if (adv && dTrainer && step > discStart) {
      // D step on x̂ of the current generator (the official order: the generator's term above used D before this update).
      const tokens = new Float32Array(bits.length);
      const hw = grid[0] * grid[1];
      for (let b = 0; b < B; b++)
        for (let k = 0; k < c.codeDim; k++)
          for (let i = 0; i < hw; i++) tokens[(b * hw + i) * c.codeDim + k] = required(bits[(b * c.codeDim + k) * hw + i], 'code bit');
      const decoded = await trainer.trainable.evaluate(decG, { bits: new CpuTensor(tokens, [B, hw, c.codeDim]) });
      const fake = required(decoded['image'], 'decoder output "image"').data as Float32Array;
      dBatch = { real: imgs, fake, batch: B };
      await dTrainer.run({ steps: dTrainer.step + 1 });
    }
    return { images: imgs, batch: B, offset, lambda, disc };
  };

  const gOptions = {
    engine: options.engine,
    batches,
    loss: (b: BaeBatch) => baeLoss(c, height, width, b, options, { nll: true, adversarial: b.disc !== null }, dcfg),
    seed: options.seed,
    learningRate,
    betas: options.betas ?? ([0.9, 0.999] as const),
    eps: 1e-8,
    weightDecay: 0,
    gradClipNorm: null,
    emaDecay: options.emaDecay === undefined ? 0.995 ** 0.1 : options.emaDecay,
    ...(dir ? { checkpointDirectory: dir } : {}),
    config: { kind: 'bigr-bae', hparams: configToHparams(c) as TrainerJsonValue, image: [c.inChannels, height, width] } as TrainerJsonValue,
  };
  if (resume) gTrainer = await Trainer.resume(dir, gOptions);
  else {
    const rng0 = createRng(`${options.seed}/bae-init`);
    const init = options.initialParameters ? loadBaeParameters(c, options.initialParameters) : initBaeParameters(c, rng0);
    const params: NamedTensors = new Map();
    for (const name of shapes.keys()) params.set(name, getOrThrow(init, name, 'initial B-AE parameter'));
    gTrainer = await Trainer.create(params, gOptions);
  }
  if (adv && dcfg) {
    const dOptions = {
      engine: options.engine,
      // the generator's batch function sets it before each discriminator step
      batches: () => required(dBatch, 'discriminator batch'),
      loss:
        (d: { real: Float32Array; fake: Float32Array; batch: number }): LossFunction =>
        <T>(ops: Ops<T>) => {
          const get = (name: string): T => ops.param(name);
          const real = discriminator(ops, ops.constant(d.real, [d.batch, c.inChannels, height, width]), dcfg, get);
          const fake = discriminator(ops, ops.constant(d.fake, [d.batch, c.inChannels, height, width]), dcfg, get);
          return { loss: hingeDiscriminatorLoss(ops, real, fake) };
        },
      seed: `${options.seed}/disc`,
      learningRate: adv.learningRate ?? learningRate,
      betas: options.betas ?? ([0.9, 0.999] as const),
      weightDecay: 0,
      gradClipNorm: null,
      emaDecay: null,
    };
    // D checkpoints are written explicitly next to the generator's (below). Its own `run` must not write one after
    // every single step, so it gets no directory: '' counts as none (Trainer.resume would default to discDir).
    if (resume && discDir && (await pathExists(join(discDir, 'latest.json'))))
      dTrainer = await Trainer.resume(discDir, { ...dOptions, checkpointDirectory: '' });
    else dTrainer = await Trainer.create(initDiscriminator(dcfg, createRng(`${options.seed}/disc-init`)), dOptions);
  }

  const every = options.checkpointEvery ?? 0;
  const records: TrainingStepRecord[] = [];
  const onProgress = options.onProgress;
  try {
    while (gTrainer.step < options.steps) {
      const target = every > 0 && dir ? Math.min(options.steps, (Math.floor(gTrainer.step / every) + 1) * every) : options.steps;
      try {
        const r = await gTrainer.run({
          steps: target,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(onProgress ? { onProgress: (e) => onProgress({ ...e, total: options.steps }) } : {}),
        });
        records.push(...r.records);
      } catch (err) {
        // The Trainer runs to the next checkpoint boundary at a time; report the run's true target, not the chunk's.
        if (err instanceof AbortError) {
          throw new AbortError(
            `B-AE training was aborted at step ${gTrainer.step} of ${options.steps}${dir ? `; a checkpoint was written to ${dir}` : ''}` +
              `${options.signal?.reason instanceof Error ? ` (${options.signal.reason.message})` : ''}.`,
          );
        }
        throw err;
      } finally {
        if (dTrainer && discDir && dTrainer.step > 0) await dTrainer.checkpoint(discDir);
      }
    }
    if (options.signal?.aborted) throw new AbortError('B-AE training was aborted.');
    return {
      parameters: gTrainer.parameters(),
      emaParameters: gTrainer.emaParameters(),
      discriminatorParameters: dTrainer ? dTrainer.parameters() : null,
      step: gTrainer.step,
      losses: [...gTrainer.losses],
      records,
    };
  } finally {
    gTrainer.dispose();
    dTrainer?.dispose();
  }
}
