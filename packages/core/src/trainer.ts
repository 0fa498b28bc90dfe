import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AdamW } from './adamw.js';
import { atomicWrite } from './atomicWrite.js';
import { parseJsonBounded } from './jsonBounded.js';
import { Ema, type EmaStateJson } from './ema.js';
import type { CompileOptions, Engine, LossFunction, TrainableParameters } from './engine.js';
import { AbortError, BigrError, ConfigError, FormatError, NotFoundError, ShapeError } from './errors.js';
import { clipGradNorm, gradNorm } from './gradClip.js';
import { getOrThrow } from './invariants.js';
import { Lars } from './lars.js';
import { lrScheduleFunction, type LrSchedule } from './lrSchedule.js';
import type { Optimizer, OptimizerStateJson } from './optimizer.js';
import type { LongRunningOptions } from './progress.js';
import type { Rng, RngState } from './rng.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { createRng, type Seed } from './seededRng.js';
import { CpuTensor, type NamedTensors } from './tensor.js';

/** Produces the batch of a step. It must draw all randomness from `rng` so a run is reproducible. */
export type BatchSource<B> = (step: number, rng: Rng) => B | Promise<B>;

/**
 * Learning rate: a constant, a function of the 0-based step, or a JSON {@link LrSchedule} (which is also recorded in
 * checkpoints).
 */
export type LearningRate = number | ((step: number) => number) | LrSchedule;

/** A JSON value (stored verbatim in checkpoints). */
export type TrainerJsonValue = null | boolean | number | string | TrainerJsonValue[] | { [key: string]: TrainerJsonValue };

/** LARS settings for {@link TrainerHyperParameters.optimizer} (MoCo v3 / MAE linear-probe variant, see {@link Lars}). */
export interface TrainerLarsOptimizer {
  /** Selects {@link Lars}. */
  readonly kind: 'lars';
  /** Momentum μ. Default 0.9. */
  readonly momentum?: number;
  /** Trust coefficient η. Default 0.001. */
  readonly trustCoefficient?: number;
}

/**
 * The optimiser of a {@link Trainer}: 'adamw' (default; uses `betas` and `eps`) or LARS. Either way `weightDecay`
 * gives the per-parameter decay (LARS applies it only to parameters with ≥ 2 dimensions).
 */
export type TrainerOptimizer = 'adamw' | TrainerLarsOptimizer;

/** Hyper-parameters of the {@link Trainer}'s optimisation. */
export interface TrainerHyperParameters {
  /** Optimiser. Default 'adamw'. Checkpoints record it; resuming with another optimiser is an error. */
  readonly optimizer?: TrainerOptimizer;
  /** Learning rate or schedule (docs/algorithm.md §5.2 released: constant 1e-4). */
  readonly learningRate: LearningRate;
  /** AdamW β₁, β₂ (released 0.9, 0.95). */
  readonly betas?: readonly [number, number];
  /** AdamW ε (1e-8). */
  readonly eps?: number;
  /** Weight decay per parameter (name, shape) → decay; a number applies to every parameter. Default 0. */
  readonly weightDecay?: number | ((name: string, shape: readonly number[]) => number);
  /** Clip the global gradient L2 norm to this value before the step (released 1.0); null disables clipping. */
  readonly gradClipNorm?: number | null;
  /** EMA decay of the parameters, updated after every step from step 0 (released 0.9999); null disables EMA. */
  readonly emaDecay?: number | null;
}

/** Options of {@link Trainer.create} and {@link Trainer.resume}. */
export interface TrainerOptions<B> extends TrainerHyperParameters {
  /** An engine with `canTrain` (e.g. 'tfjs-wasm'). */
  readonly engine: Engine;
  /** Batch of a step, drawn from the trainer's Rng. */
  readonly batches: BatchSource<B>;
  /** Builds the loss of one batch (a graph over the trainable parameters). */
  readonly loss: (batch: B, step: number) => LossFunction;
  /** Seed of the trainer's Rng (ignored on resume: the saved Rng state is restored). */
  readonly seed: Seed;
  /** Directory for checkpoints; none are written when absent. */
  readonly checkpointDirectory?: string;
  /** Write a checkpoint every this many steps (0 = only at the end of `run` and on abort). Default 0. */
  readonly checkpointEvery?: number;
  /** Checkpoints kept in the directory (oldest removed first). Default 1. */
  readonly keepCheckpoints?: number;
  /** Model/run description stored in every checkpoint (e.g. the model config). */
  readonly config?: TrainerJsonValue;
  /** Intra-op threads of the engine (onnxruntime); default `BIGR_THREADS` or every core. */
  readonly threads?: number;
}

/** Options of {@link Trainer.run}. */
export interface TrainerRunOptions extends LongRunningOptions {
  /** Train until the step counter reaches this value (absolute, so a resumed run continues to the same end). */
  readonly steps: number;
}

/** One step's record. */
export interface TrainingStepRecord {
  /** 0-based index of the step. */
  readonly step: number;
  /** Loss value. */
  readonly loss: number;
  /** Learning rate used. */
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Extra metrics returned by the loss function. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** What {@link Trainer.run} did. */
export interface TrainerRunResult {
  /** Step counter after the run. */
  readonly step: number;
  /** Records of the steps run in this call. */
  readonly records: readonly TrainingStepRecord[];
}

/** Format identifier of the checkpoint manifest. */
export const TRAINER_CHECKPOINT_FORMAT = 'bigr-trainer-checkpoint';
/** Version of the checkpoint layout. */
export const TRAINER_CHECKPOINT_VERSION = 1;
/** Name of the file that points at the latest complete checkpoint of a directory. */
export const TRAINER_LATEST_FILE = 'latest.json';

/** The manifest (`trainer.json`) of one checkpoint. */
export interface TrainerCheckpointManifest {
  /** {@link TRAINER_CHECKPOINT_FORMAT}. */
  readonly format: string;
  /** {@link TRAINER_CHECKPOINT_VERSION}. */
  readonly version: number;
  /** Steps completed. */
  readonly step: number;
  /** Rng state after the last completed step. */
  readonly rng: RngState;
  /**
   * Optimiser bookkeeping (`algorithm` 'adamw' or 'lars', step counts, hyper-parameters used); moments or momentum
   * buffers are in the safetensors file. Checkpoints written before LARS existed are AdamW ones.
   */
  readonly optimizer: OptimizerStateJson;
  /** EMA bookkeeping, or null without EMA; the averaged parameters are in `ema.safetensors`. */
  readonly ema: EmaStateJson | null;
  /** The learning rate when it was a constant or a JSON schedule (null for a function). */
  readonly learningRate: number | LrSchedule | null;
  /** Loss of every step so far (index = step). */
  readonly losses: readonly number[];
  /** The caller's config. */
  readonly config: TrainerJsonValue;
  /** Files of this checkpoint. */
  readonly files: { readonly params: string; readonly ema: string | null; readonly optimizer: string };
}

const FILES = { params: 'params.safetensors', ema: 'ema.safetensors', optimizer: 'optimizer.safetensors', manifest: 'trainer.json' } as const;
const MAX_JSON_BYTES = 64 * 1024 * 1024;

function stepDirName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_JSON_BYTES)
      throw new FormatError(`${what} ${path} is ${buf.length} bytes, more than the ${MAX_JSON_BYTES}-byte limit; it is not a trainer checkpoint.`);
    text = buf.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`${what} ${path} does not exist. Pass a directory written by Trainer checkpoints.`, { cause: err });
    throw err;
  }
  try {
    return parseJsonBounded(text, { source: `${what} ${path}` });
  } catch (err) {
    throw new FormatError(`${(err as Error).message} The checkpoint is corrupt. Delete it and resume from an older one.`, { cause: err });
  }
}

/** The configured optimiser over parameters of the given shapes, with per-parameter weight decay. */
function createOptimizer(options: TrainerHyperParameters, weightDecay: (name: string) => number, shapes: ReadonlyMap<string, readonly number[]>): Optimizer {
  const o = options.optimizer ?? 'adamw';
  if (o === 'adamw') return new AdamW({ betas: options.betas ?? [0.9, 0.95], eps: options.eps ?? 1e-8, weightDecay });
  if (typeof o === 'object' && o !== null && o.kind === 'lars') {
    return new Lars({
      shapes,
      weightDecay,
      ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
      ...(o.trustCoefficient !== undefined ? { trustCoefficient: o.trustCoefficient } : {}),
    });
  }
  throw new ConfigError(`Trainer optimizer ${JSON.stringify(o)} is not supported; use 'adamw' (default) or { kind: 'lars', momentum?, trustCoefficient? }.`);
}

function checkPositive(name: string, v: number, allowZero = false): void {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
    throw new ConfigError(`Trainer option ${name} is ${v}; it must be a finite number ${allowZero ? '>= 0' : '> 0'}.`);
}

/**
 * A generic, model-agnostic training loop (used by the backbone and the tokenizer). Each step:
 * batch = batches(step, rng) → loss and gradients on the engine (dropout from the same rng) → clip the global gradient
 * norm → the optimiser (AdamW by default, or LARS) with per-parameter weight decay at the scheduled learning rate → write the parameters back → update
 * the EMA. Optimiser state, EMA and checkpoints live on the CPU as float32, so they are engine-independent.
 *
 * Checkpoints (parameters, EMA, optimiser state, Rng state, step, loss history and the caller's config) are written
 * to `checkpointDirectory/step-NNNNNNNNN/` (every file atomically), and then `latest.json` is atomically replaced to
 * point at the new one, so an interrupted write never leaves a readable partial checkpoint. {@link Trainer.resume}
 * continues bit-for-bit: the resumed loss curve equals the uninterrupted one for the same seed.
 */
export class Trainer<B> {
  readonly #options: TrainerOptions<B>;
  readonly #trainable: TrainableParameters;
  readonly #params: Map<string, Float32Array>;
  readonly #shapes: Map<string, readonly number[]>;
  readonly #ema: Ema | null;
  readonly #opt: Optimizer;
  readonly #lr: (step: number) => number;
  readonly #rng: Rng;
  readonly #losses: number[];
  #step: number;
  #disposed = false;

  private constructor(
    options: TrainerOptions<B>,
    trainable: TrainableParameters,
    params: NamedTensors,
    state: {
      ema: NamedTensors | null;
      emaJson: EmaStateJson | null;
      optimizer: NamedTensors | null;
      optimizerJson: OptimizerStateJson | null;
      rng: Rng;
      step: number;
      losses: number[];
    },
  ) {
    this.#options = options;
    this.#trainable = trainable;
    this.#params = new Map();
    this.#shapes = new Map();
    const decay = new Map<string, number>();
    const wd = options.weightDecay ?? 0;
    for (const [name, t] of params) {
      if (t.dtype !== 'float32')
        throw new ShapeError(
          `Trainer parameter "${name}" has dtype ${t.dtype}; only float32 parameters can be trained. Keep integer tensors out of the trainable set.`,
        );
      this.#params.set(name, Float32Array.from(t.data as Float32Array));
      this.#shapes.set(name, t.shape);
      const d = typeof wd === 'number' ? wd : wd(name, t.shape);
      checkPositive(`weightDecay("${name}")`, d, true);
      decay.set(name, d);
    }
    this.#opt = createOptimizer(options, (name) => decay.get(name) ?? 0, this.#shapes);
    if (state.optimizer && state.optimizerJson) {
      const saved = (state.optimizerJson as { algorithm?: unknown }).algorithm;
      if (saved !== this.#opt.algorithm) {
        throw new ConfigError(
          `The checkpoint's optimiser is ${JSON.stringify(saved)} but this run uses "${this.#opt.algorithm}"; ` +
            `resume with optimizer ${saved === 'lars' ? "{ kind: 'lars' }" : `'${String(saved)}'`} or start a new run.`,
        );
      }
      this.#opt.setState({ json: state.optimizerJson, tensors: state.optimizer });
    }
    const emaDecay = options.emaDecay ?? null;
    if (emaDecay === null) this.#ema = null;
    else {
      this.#ema = new Ema(this.#params, { decay: emaDecay, shapes: this.#shapes });
      if (state.ema && state.emaJson) this.#ema.setState({ json: state.emaJson, tensors: state.ema });
    }
    const lr = options.learningRate;
    this.#lr = typeof lr === 'number' ? () => lr : typeof lr === 'function' ? lr : lrScheduleFunction(lr);
    this.#rng = state.rng;
    this.#step = state.step;
    this.#losses = state.losses;
  }

  /** Checks the options; returns the engine's `createTrainable`, which a training engine has. */
  static #validate<B>(options: TrainerOptions<B>): (params: NamedTensors, compile: CompileOptions) => Promise<TrainableParameters> {
    const { engine } = options;
    const createTrainable = engine.createTrainable;
    if (!engine.canTrain || !createTrainable) {
      throw new ConfigError(
        `Engine "${options.engine.name}" cannot train. Use a training engine such as 'onnx-cpu' or 'tfjs-wasm' (resolveEngine({ purpose: 'training' })).`,
      );
    }
    if (typeof options.learningRate === 'number') checkPositive('learningRate', options.learningRate, true);
    else if (typeof options.learningRate === 'object') lrScheduleFunction(options.learningRate);
    const [b1, b2] = options.betas ?? [0.9, 0.95];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new ConfigError(`Trainer betas [${b1}, ${b2}] must be in [0, 1) (released [0.9, 0.95]).`);
    checkPositive('eps', options.eps ?? 1e-8);
    createOptimizer(options, () => 0, new Map()); // validates the optimiser choice and its settings
    if (options.gradClipNorm != null) checkPositive('gradClipNorm', options.gradClipNorm);
    if (options.emaDecay != null && !(options.emaDecay >= 0 && options.emaDecay < 1)) {
      throw new ConfigError(`Trainer emaDecay ${options.emaDecay} must be in [0, 1) (released 0.9999) or null to disable the EMA.`);
    }
    const every = options.checkpointEvery ?? 0;
    if (!Number.isInteger(every) || every < 0) throw new ConfigError(`checkpointEvery ${every} must be an integer >= 0.`);
    const keep = options.keepCheckpoints ?? 1;
    if (!Number.isInteger(keep) || keep < 1) throw new ConfigError(`keepCheckpoints ${keep} must be an integer >= 1.`);
    if ((every > 0 || options.keepCheckpoints !== undefined) && !options.checkpointDirectory) {
      throw new ConfigError('checkpointEvery/keepCheckpoints were set but no checkpointDirectory was given; pass checkpointDirectory.');
    }
    return (params, compile) => createTrainable.call(engine, params, compile);
  }

  /** Starts a new run from `parameters` (copied) with a fresh Rng from `options.seed`. */
  static async create<B>(parameters: NamedTensors, options: TrainerOptions<B>): Promise<Trainer<B>> {
    const createTrainable = Trainer.#validate(options);
    const trainable = await createTrainable(parameters, options.threads === undefined ? {} : { threads: options.threads });
    return new Trainer(options, trainable, parameters, {
      ema: null,
      emaJson: null,
      optimizer: null,
      optimizerJson: null,
      rng: createRng(options.seed),
      step: 0,
      losses: [],
    });
  }

  /**
   * Continues from the latest checkpoint in `directory` (parameters, EMA, AdamW moments, Rng state, step, losses).
   * The options must describe the same model; `seed` is ignored. Checkpoints go to `options.checkpointDirectory`,
   * which defaults to `directory`.
   */
  static async resume<B>(directory: string, options: TrainerOptions<B>): Promise<Trainer<B>> {
    const opts: TrainerOptions<B> = { ...options, checkpointDirectory: options.checkpointDirectory ?? directory };
    const createTrainable = Trainer.#validate(opts);
    const ckpt = await loadTrainerCheckpoint(directory);
    if (opts.emaDecay != null && (ckpt.ema === null || ckpt.manifest.ema === null)) {
      throw new ConfigError(`The checkpoint in ${directory} has no EMA but emaDecay is ${opts.emaDecay}; resume with emaDecay: null or start a new run.`);
    }
    const rng = createRng(0);
    rng.setState(ckpt.manifest.rng);
    const trainable = await createTrainable(ckpt.params, opts.threads === undefined ? {} : { threads: opts.threads });
    return new Trainer(opts, trainable, ckpt.params, {
      ema: ckpt.ema,
      emaJson: ckpt.manifest.ema,
      optimizer: ckpt.optimizer,
      optimizerJson: ckpt.manifest.optimizer,
      rng,
      step: ckpt.manifest.step,
      losses: [...ckpt.manifest.losses],
    });
  }

  /** Steps completed so far. */
  get step(): number {
    return this.#step;
  }

  /** Loss of every completed step (index = step), including steps before a resume. */
  get losses(): readonly number[] {
    return this.#losses;
  }

  /** Copies of the current parameters. */
  parameters(): NamedTensors {
    return this.#named(this.#params);
  }

  /** Copies of the EMA parameters, or null without EMA. */
  emaParameters(): NamedTensors | null {
    return this.#ema ? this.#ema.getState().tensors : null;
  }

  /** The trainable parameters on the engine (for evaluation with `evaluate`). */
  get trainable(): TrainableParameters {
    return this.#trainable;
  }

  #named(src: Map<string, Float32Array>): NamedTensors {
    const out: NamedTensors = new Map();
    for (const [name, v] of src) out.set(name, new CpuTensor(Float32Array.from(v), getOrThrow(this.#shapes, name, 'parameter shape')));
    return out;
  }

  #lrAt(step: number): number {
    const v = this.#lr(step);
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`The learning-rate schedule returned ${v} at step ${step}; it must be a finite number >= 0.`);
    return v;
  }

  #check(): void {
    if (this.#disposed) throw new ConfigError('This Trainer was disposed; create or resume a new one.');
  }

  /** Runs one step and returns its record. */
  async #trainStep(): Promise<TrainingStepRecord> {
    const step = this.#step;
    const batch = await this.#options.batches(step, this.#rng);
    const result = await this.#trainable.gradients(this.#options.loss(batch, step), this.#rng);
    if (!Number.isFinite(result.loss)) {
      throw new BigrError(`The loss is ${result.loss} at step ${step}. Lower the learning rate, enable gradient clipping, or check the data.`);
    }
    const grads = result.grads;
    for (const name of this.#params.keys()) {
      if (!grads.has(name)) throw new ShapeError(`The engine returned no gradient for parameter "${name}".`);
    }
    const clip = this.#options.gradClipNorm ?? null;
    const norm = clip === null ? gradNorm(grads) : clipGradNorm(grads, clip);
    if (!Number.isFinite(norm)) {
      throw new BigrError(`The gradient norm is ${norm} at step ${step}. Lower the learning rate or check the loss for NaN/Inf.`);
    }
    const lr = this.#lrAt(step);
    this.#opt.step(this.#params, grads, lr);
    this.#trainable.assign(this.#params);
    this.#ema?.update(this.#params);
    this.#step = step + 1;
    this.#losses.push(result.loss);
    return { step, loss: result.loss, lr, gradNorm: norm, metrics: result.metrics };
  }

  /**
   * Trains until the step counter reaches `steps`. Emits a 'train' progress event per step (metrics: loss, lr,
   * gradNorm and the loss function's metrics). Writes checkpoints every `checkpointEvery` steps and at the end.
   * When `signal` aborts, the current step finishes, a checkpoint is written (if a directory is set) and an
   * {@link AbortError} is thrown; {@link Trainer.resume} continues from there.
   */
  async run(options: TrainerRunOptions): Promise<TrainerRunResult> {
    this.#check();
    const { steps, signal, onProgress } = options;
    if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`run({ steps }) needs an integer >= 0 (the absolute step to reach), got ${steps}.`);
    const records: TrainingStepRecord[] = [];
    const every = this.#options.checkpointEvery ?? 0;
    const dir = this.#options.checkpointDirectory;
    let lastSaved = -1;
    while (this.#step < steps) {
      // A step is CPU-bound work chained through microtasks; yield to the event loop so signal handlers
      // (Ctrl-C → AbortController) and timers run between steps instead of only at the next file write.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        if (dir && lastSaved !== this.#step) await this.checkpoint();
        throw new AbortError(
          `Training was aborted at step ${this.#step} of ${steps}${dir ? `; a checkpoint was written to ${dir}` : ''}` +
            `${signal.reason instanceof Error ? ` (${signal.reason.message})` : ''}.`,
        );
      }
      const rec = await this.#trainStep();
      records.push(rec);
      onProgress?.({
        task: 'train',
        current: this.#step,
        total: steps,
        metrics: { loss: rec.loss, lr: rec.lr, gradNorm: rec.gradNorm, ...rec.metrics },
      });
      if (dir && every > 0 && this.#step % every === 0) {
        await this.checkpoint();
        lastSaved = this.#step;
      }
    }
    if (dir && lastSaved !== this.#step && records.length > 0) await this.checkpoint();
    return { step: this.#step, records };
  }

  /** Writes a checkpoint of the current state to `directory` (default: the configured checkpoint directory). */
  async checkpoint(directory = this.#options.checkpointDirectory): Promise<string> {
    this.#check();
    if (!directory) throw new ConfigError('No checkpoint directory: pass one to checkpoint() or set checkpointDirectory.');
    const name = stepDirName(this.#step);
    const sub = join(directory, name);
    await mkdir(sub, { recursive: true });
    await writeSafetensors(join(sub, FILES.params), this.#named(this.#params));
    const ema = this.#ema?.getState() ?? null;
    if (ema) await writeSafetensors(join(sub, FILES.ema), ema.tensors);
    const opt = this.#opt.getState(this.#shapes);
    await writeSafetensors(join(sub, FILES.optimizer), opt.tensors);
    const lr = this.#options.learningRate;
    const manifest: TrainerCheckpointManifest = {
      format: TRAINER_CHECKPOINT_FORMAT,
      version: TRAINER_CHECKPOINT_VERSION,
      step: this.#step,
      rng: this.#rng.getState(),
      optimizer: opt.json,
      ema: ema?.json ?? null,
      learningRate: typeof lr === 'function' ? null : lr,
      losses: this.#losses,
      config: this.#options.config ?? null,
      files: { params: FILES.params, ema: ema ? FILES.ema : null, optimizer: FILES.optimizer },
    };
    await atomicWrite(join(sub, FILES.manifest), JSON.stringify(manifest));
    await atomicWrite(join(directory, TRAINER_LATEST_FILE), JSON.stringify({ format: TRAINER_CHECKPOINT_FORMAT, step: this.#step, path: name }));
    await pruneCheckpoints(directory, this.#options.keepCheckpoints ?? 1, name);
    return sub;
  }

  /** Releases the engine's copy of the parameters. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#trainable.dispose();
  }
}

async function pruneCheckpoints(directory: string, keep: number, current: string): Promise<void> {
  const entries = (await readdir(directory)).filter((e) => /^step-\d{9}$/.test(e) && e !== current).sort();
  const excess = entries.length - (keep - 1);
  for (const entry of entries.slice(0, Math.max(0, excess))) await rm(join(directory, entry), { recursive: true, force: true });
}

/** A checkpoint read by {@link loadTrainerCheckpoint}. */
export interface TrainerCheckpoint {
  /** The manifest. */
  readonly manifest: TrainerCheckpointManifest;
  /** Parameters. */
  readonly params: NamedTensors;
  /** EMA parameters, or null. */
  readonly ema: NamedTensors | null;
  /** Optimiser state tensors: AdamW moments (`exp_avg.<name>`, `exp_avg_sq.<name>`) or LARS buffers (`mu.<name>`). */
  readonly optimizer: NamedTensors;
}

function validateManifest(m: unknown, path: string): TrainerCheckpointManifest {
  const o = m as Partial<TrainerCheckpointManifest> | null;
  if (!o || typeof o !== 'object' || o.format !== TRAINER_CHECKPOINT_FORMAT) {
    throw new FormatError(`${path} is not a trainer checkpoint manifest (format "${String(o?.format)}", expected "${TRAINER_CHECKPOINT_FORMAT}").`);
  }
  if (o.version !== TRAINER_CHECKPOINT_VERSION) {
    throw new FormatError(`${path} has checkpoint version ${String(o.version)}; this build reads version ${TRAINER_CHECKPOINT_VERSION}.`);
  }
  if (!Number.isInteger(o.step) || (o.step as number) < 0 || !o.rng || !Array.isArray(o.rng.words) || !o.optimizer || !Array.isArray(o.losses) || !o.files) {
    throw new FormatError(`${path} is missing step, rng, optimizer, losses or files; the checkpoint is corrupt.`);
  }
  if (o.losses.length !== o.step) throw new FormatError(`${path} records ${o.losses.length} losses for ${o.step} steps; the checkpoint is corrupt.`);
  if (typeof o.files !== 'object' || typeof o.files.params !== 'string' || typeof o.files.optimizer !== 'string') {
    throw new FormatError(`${path} names no params/optimizer files (${JSON.stringify(o.files)}); the checkpoint is corrupt.`);
  }
  for (const f of [o.files.params, o.files.optimizer, o.files.ema ?? null]) {
    if (f !== null && (typeof f !== 'string' || f.includes('/') || f.includes('\\') || f.startsWith('.'))) {
      throw new FormatError(`${path} names file ${JSON.stringify(f)}; checkpoint files must be plain names inside the checkpoint directory.`);
    }
  }
  return o as TrainerCheckpointManifest;
}

/** Reads the latest complete checkpoint of a trainer directory. */
export async function loadTrainerCheckpoint(directory: string): Promise<TrainerCheckpoint> {
  const latestPath = join(directory, TRAINER_LATEST_FILE);
  const latest = (await readJson(latestPath, 'Checkpoint pointer')) as { format?: unknown; path?: unknown } | null;
  if (!latest || latest.format !== TRAINER_CHECKPOINT_FORMAT || typeof latest.path !== 'string' || !/^step-\d{9}$/.test(latest.path)) {
    throw new FormatError(`${latestPath} does not point at a checkpoint (expected {"format":"${TRAINER_CHECKPOINT_FORMAT}","path":"step-NNNNNNNNN"}).`);
  }
  const sub = join(directory, latest.path);
  const manifestPath = join(sub, FILES.manifest);
  const manifest = validateManifest(await readJson(manifestPath, 'Checkpoint manifest'), manifestPath);
  const params = (await readSafetensors(join(sub, manifest.files.params))).tensors;
  const ema = manifest.files.ema ? (await readSafetensors(join(sub, manifest.files.ema))).tensors : null;
  const optimizer = (await readSafetensors(join(sub, manifest.files.optimizer))).tensors;
  return { manifest, params, ema, optimizer };
}
