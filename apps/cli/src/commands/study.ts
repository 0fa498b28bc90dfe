/**
 * `bigr study paper`: the paper in miniature (paper Tables 1–4, Figure 3; docs/algorithm.md §13) on
 * Fashion-MNIST. Trains one shared tokenizer and every variant the tables need with one budget, evaluates and probes
 * each, and writes report.md with the tables, the paper's orderings and two PNG plots. Every piece (tokenizer, code
 * cache, each training, each evaluation, each probe) records its result in `<out>/results/<piece>.json`; re-running
 * skips finished pieces and resumes interrupted trainings from their checkpoints.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, parseJsonBounded } from '@bigr/core';
import { loadBigrModel } from '@bigr/pipeline';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { inferenceEngine, trainingEngine } from '../engines.js';
import { defaultClassifierDir } from '../fashionClassifier.js';
import { writeJsonAtomic } from '../sidecar.js';
import { trainTokenizerCommand } from './trainTokenizer.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { generateStudySamples, openEvaluation, studyMetrics, type EvaluationContext, type StudySampling } from '../study/evaluateVariant.js';
import { linePlotPng } from '../study/linePlot.js';
import { probeBaseline, probeVariant, type StudyProbeResult } from '../study/probeVariant.js';
import { studyReport, type EvalRecord } from '../study/report.js';
import { trainingCodes, trainVariant, type StudyTrainSettings, type TrainVariantResult } from '../study/trainVariant.js';
import { STUDY_VARIANTS, studyVariant } from '../study/variants.js';

/** Settings of `bigr study paper` (also the keys of its --config file). */
export const STUDY_DEFAULTS = {
  out: 'runs/paper',
  data: 'fashion-mnist',
  tokenizer: '',
  codeDim: 10,
  tokenizerPreset: 'fashion-mnist-32',
  tokenizerNf: 16,
  tokenizerNormGroups: 8,
  tokenizerSteps: 1500,
  tokenizerBatchSize: 16,
  tokenizerLr: 1e-3,
  preset: 'BiGR-XS',
  layers: 3,
  dim: 0,
  heads: 0,
  denoiserWidth: 0,
  denoiserBlocks: 0,
  steps: 6000,
  batchSize: 32,
  lr: 1e-3,
  warmup: 100,
  dropout: 0,
  seed: 0,
  checkpointEvery: 200,
  limit: 0,
  n: 10000,
  figureN: 0,
  rasterIterations: 0,
  evalBatchSize: 100,
  cfg: 2.5,
  iterations: 10,
  gumbel: 0.17,
  diffusionSteps: 100,
  iterationsSweep: '4,8,10,16,20,32',
  stepsSweep: '5,10,20,50,100,200',
  classifier: '',
  cacheDir: '',
  trainLimit: 0,
  testLimit: 0,
  probeEpochs: 100,
  probeWarmup: 10,
  probeBaseLr: 8,
  probeBatchSize: 256,
  probeHoldout: 5000,
  probeLimit: 0,
  probeTestLimit: 0,
  only: '',
};

/** Flags as given on the command line. */
export type StudyFlags = GivenFlags<typeof STUDY_DEFAULTS>;

type StudyConfig = typeof STUDY_DEFAULTS;

/** Why K = 10 (the default --code-dim), written into the report. */
export const K_REASON =
  'the categorical variants need a 2^K-way softmax; ' +
  '2^10 = 1,024 classes keep the head at 1,024 × D weights (≈ 0.13 M for D = 128, a tenth of the 3-layer backbone) and give ≈ 3,750 training tokens per ' +
  'class on Fashion-MNIST, while 64 tokens × 10 bits still reconstruct 28×28 garments; K = 12 would quadruple the head and quarter the data per class';

function parseList(value: string, what: string): number[] {
  const xs = value.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1))
    throw new ConfigError(`--${what} "${value}" must be a comma-separated list of positive integers.`);
  return xs;
}

interface EvalSpec {
  readonly key: string;
  readonly variant: string;
  readonly sampling: StudySampling;
  readonly n: number;
}

function evalKey(variant: string, s: StudySampling, n: number): string {
  const order = s.kind === 'ar' ? 'ar' : `mask-${s.settings.order ?? 'entropy'}-i${s.settings.iterations}`;
  const head = studyVariant(variant).objective === 'categorical' ? '' : `-T${s.diffusionSteps}`;
  return `${variant}-${order}${head}-n${n}`;
}

/** The evaluation pieces and the table/figure slots they fill. */
export function studyEvaluations(
  cfg: StudyConfig,
  tokens: number,
): {
  specs: EvalSpec[];
  slots: Record<string, string>;
  figure: { iterations: [number, string][]; steps: [number, string][] };
} {
  const specs = new Map<string, EvalSpec>();
  const add = (variant: string, sampling: StudySampling, n: number): string => {
    const key = evalKey(variant, sampling, n);
    if (!specs.has(key)) specs.set(key, { key, variant, sampling, n });
    return key;
  };
  const mask = (order: 'entropy' | 'raster' | 'random', iterations = cfg.iterations, diffusionSteps = cfg.diffusionSteps): StudySampling => ({
    kind: 'mask',
    settings: { iterations, order, gumbelTemperature: cfg.gumbel },
    cfgScale: cfg.cfg,
    diffusionSteps,
  });
  const ar: StudySampling = { kind: 'ar', settings: {}, cfgScale: cfg.cfg, diffusionSteps: cfg.diffusionSteps };
  const slots: Record<string, string> = {};
  slots['t1-s3'] = add('s3', mask('entropy'), cfg.n);
  slots['t1-s2'] = add('s2', ar, cfg.n);
  slots['t1-s1'] = add('s1', mask('entropy'), cfg.n);
  slots['t1-s0'] = add('s0', ar, cfg.n);
  slots['t2-bce'] = add('bce', mask('entropy'), cfg.n);
  slots['t2-z0'] = add('z0', mask('entropy'), cfg.n);
  // The paper's mask-raster row unmasks one token per iteration (its time is ~13× the entropy row's), so it runs
  // N = tokens iterations unless --raster-iterations says otherwise.
  slots['t3-raster'] = add('s3', mask('raster', cfg.rasterIterations > 0 ? cfg.rasterIterations : tokens), cfg.n);
  slots['t3-random'] = add('s3', mask('random'), cfg.n);
  const fn = cfg.figureN > 0 ? cfg.figureN : cfg.n;
  const iterations = parseList(cfg.iterationsSweep, 'iterations-sweep').map((N) => [N, add('s3', mask('entropy', N), fn)] as [number, string]);
  const steps = parseList(cfg.stepsSweep, 'steps-sweep').map((T) => [T, add('s3', mask('entropy', cfg.iterations, T), fn)] as [number, string]);
  return { specs: [...specs.values()], slots, figure: { iterations, steps } };
}

async function readResult<T>(path: string): Promise<T | undefined> {
  if (!existsSync(path)) return undefined;
  return parseJsonBounded(await readFile(path, 'utf8'), { source: path }) as T;
}

/** `bigr study paper`. */
export async function studyCommand(ctx: CliContext, which: string, flags: StudyFlags): Promise<void> {
  if (which !== 'paper') throw new ConfigError(`Unknown study "${which}"; the only study is 'paper' (bigr study paper --out runs/paper).`);
  const cfg = await resolveConfig({
    command: 'study',
    defaults: STUDY_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  for (const k of [
    'steps',
    'batchSize',
    'n',
    'evalBatchSize',
    'iterations',
    'diffusionSteps',
    'probeEpochs',
    'probeBatchSize',
    'tokenizerSteps',
    'tokenizerBatchSize',
    'checkpointEvery',
  ] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1)
      throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${cfg[k]}.`);
  }
  if (!(cfg.codeDim >= 1 && cfg.codeDim <= 16))
    throw new ConfigError(`--code-dim ${cfg.codeDim} must be in 1…16: the categorical variants need a 2^K-way softmax.`);
  const out = cfg.out;
  const results = join(out, 'results');
  await mkdir(results, { recursive: true });
  await writeJsonAtomic(join(out, 'study.config.json'), cfg);
  const only = cfg.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const wanted = (piece: string): boolean => only.length === 0 || only.some((o) => piece === o || piece.startsWith(`${o}-`) || piece.startsWith(o));
  const quiet: CliContext = { ...ctx, out: () => {}, result: () => {} };
  const started = Date.now();

  // 1. The shared tokenizer.
  const tokenizerDir = cfg.tokenizer || join(out, 'tokenizer');
  const tokPiece = join(results, 'tokenizer.json');
  if (!cfg.tokenizer && !existsSync(tokPiece) && wanted('tokenizer')) {
    ctx.info(`study: training the shared tokenizer (K = ${cfg.codeDim}) into ${tokenizerDir}`);
    const t0 = Date.now();
    await trainTokenizerCommand(quiet, {
      settings: {
        data: cfg.data,
        out: tokenizerDir,
        preset: cfg.tokenizerPreset,
        nf: cfg.tokenizerNf,
        normGroups: cfg.tokenizerNormGroups,
        codeDim: cfg.codeDim,
        steps: cfg.tokenizerSteps,
        batchSize: cfg.tokenizerBatchSize,
        lr: cfg.tokenizerLr,
        seed: cfg.seed,
        checkpointEvery: cfg.checkpointEvery,
        weights: 'raw',
        ...(cfg.limit > 0 ? { limit: cfg.limit } : {}),
      },
      other: {},
    });
    await writeJsonAtomic(tokPiece, { dir: tokenizerDir, seconds: (Date.now() - t0) / 1000, seed: cfg.seed, steps: cfg.tokenizerSteps, codeDim: cfg.codeDim });
  }
  const haveTokenizer = existsSync(join(tokenizerDir, 'model.safetensors'));

  // 2. Training: every variant on the same code probabilities, budget and seeds.
  const settings: StudyTrainSettings = {
    preset: cfg.preset,
    layers: cfg.layers,
    dim: cfg.dim,
    heads: cfg.heads,
    denoiserWidth: cfg.denoiserWidth,
    denoiserBlocks: cfg.denoiserBlocks,
    steps: cfg.steps,
    batchSize: cfg.batchSize,
    lr: cfg.lr,
    warmup: cfg.warmup,
    dropout: cfg.dropout,
    seed: cfg.seed,
    checkpointEvery: cfg.checkpointEvery,
  };
  const modelDir = (id: string) => join(out, 'models', id);
  const train: Record<string, TrainVariantResult> = {};
  let codes: Awaited<ReturnType<typeof trainingCodes>> | null = null;
  for (const v of STUDY_VARIANTS) {
    const piece = join(results, `train-${v.id}.json`);
    const done = await readResult<TrainVariantResult>(piece);
    if (done) {
      train[v.id] = done;
      continue;
    }
    if (!wanted(`train-${v.id}`) || !haveTokenizer) continue;
    codes ??= await trainingCodes(ctx, tokenizerDir, cfg.data, cfg.limit, join(out, 'codes'));
    ctx.info(`study: training ${v.label} (${cfg.steps} steps × batch ${cfg.batchSize})`);
    const r = await trainVariant(ctx, v, settings, tokenizerDir, codes, modelDir(v.id));
    if (r.step >= cfg.steps) await writeJsonAtomic(piece, r);
    train[v.id] = r;
  }

  // 3. Linear probes (Tables 1, 2, 4).
  const engines = { inference: await inferenceEngine(), training: await trainingEngine() };
  const probes: Record<string, StudyProbeResult | undefined> = {};
  const probeSettings = {
    epochs: cfg.probeEpochs,
    warmup: Math.min(cfg.probeWarmup, cfg.probeEpochs - 1),
    baseLr: cfg.probeBaseLr,
    batchSize: cfg.probeBatchSize,
    holdout: cfg.probeHoldout,
    seed: cfg.seed,
    trainLimit: cfg.probeLimit,
    testLimit: cfg.probeTestLimit,
    data: cfg.data,
  };
  for (const v of STUDY_VARIANTS) {
    const piece = join(results, `probe-${v.id}.json`);
    probes[v.id] = await readResult<StudyProbeResult>(piece);
    if (probes[v.id] || !wanted(`probe-${v.id}`) || !existsSync(join(results, `train-${v.id}.json`))) continue;
    ctx.info(`study: probing ${v.label}`);
    const model = await loadBigrModel(modelDir(v.id), engines.inference);
    try {
      const r = await probeVariant(ctx, model, engines, probeSettings);
      await writeJsonAtomic(piece, r);
      probes[v.id] = r;
    } finally {
      await model.dispose();
    }
  }

  // Baselines of the probe tables, by the same protocol: the backbone's input (the shared tokenizer's codes) and raw pixels.
  for (const kind of ['codes', 'pixels'] as const) {
    const piece = join(results, `probe-${kind}.json`);
    probes[kind] = await readResult<StudyProbeResult>(piece);
    if (probes[kind] || !wanted(`probe-${kind}`) || !existsSync(join(results, 'train-s3.json'))) continue;
    ctx.info(`study: probing the ${kind === 'codes' ? "tokenizer's codes" : 'raw pixels'} (baseline)`);
    const model = await loadBigrModel(modelDir('s3'), engines.inference);
    try {
      const r = await probeBaseline(ctx, kind, model, engines, probeSettings);
      await writeJsonAtomic(piece, r);
      probes[kind] = r;
    } finally {
      await model.dispose();
    }
  }

  // 4. Evaluations (Tables 1–3, Figure 3), most important first.
  const s3Config = await readResult<{ backbone?: { tokens?: number } }>(join(modelDir('s3'), 'config.json'));
  const plan = studyEvaluations(cfg, s3Config?.backbone?.tokens ?? 64);
  const evals: Record<string, EvalRecord | undefined> = {};
  let ev: EvaluationContext | null = null;
  try {
    for (const spec of plan.specs) {
      const piece = join(results, `eval-${spec.key}.json`);
      evals[spec.key] = await readResult<EvalRecord>(piece);
      if (evals[spec.key] || !wanted(`eval-${spec.key}`) || !existsSync(join(results, `train-${spec.variant}.json`))) continue;
      ev ??= await openEvaluation(ctx, {
        classifierDir: cfg.classifier || defaultClassifierDir(),
        cacheDir: cfg.cacheDir || join(out, 'cache'),
        data: cfg.data,
        trainLimit: cfg.trainLimit,
        testLimit: cfg.testLimit,
        engine: engines.inference,
      });
      ctx.info(`study: evaluating ${spec.key} (${spec.n} samples)`);
      const model = await loadBigrModel(modelDir(spec.variant), engines.inference);
      try {
        const s = await generateStudySamples(ctx, model, spec.sampling, spec.n, cfg.seed, cfg.evalBatchSize, ev.size, `generate ${spec.key}`);
        const metrics = await studyMetrics(ctx, ev, s.images, cfg.seed);
        const rec: EvalRecord = {
          key: spec.key,
          variant: spec.variant,
          sampling: { ...spec.sampling },
          n: spec.n,
          seed: cfg.seed,
          seconds: s.seconds,
          secondsPerImage: s.seconds / spec.n,
          metrics,
        };
        await writeJsonAtomic(piece, rec);
        evals[spec.key] = rec;
      } finally {
        await model.dispose();
      }
    }
  } finally {
    await ev?.dispose();
  }

  // 5. Figure 3 and the report (from whatever is finished).
  const figureFiles = { iterations: 'figure3-iterations.png', steps: 'figure3-diffusion-steps.png' };
  const points = (series: [number, string][], tag: string) =>
    series.flatMap(([v, key]) => {
      const e = evals[key];
      return e ? [{ x: e.secondsPerImage, y: e.metrics.fid, label: `${tag}${v}` }] : [];
    });
  await writeFile(join(out, figureFiles.iterations), linePlotPng(points(plan.figure.iterations, 'N'), { corner: 'N' }));
  await writeFile(join(out, figureFiles.steps), linePlotPng(points(plan.figure.steps, 'T'), { corner: 'T' }));
  const tokenizerInfo = { dir: tokenizerDir, ...((await readResult<Record<string, unknown>>(tokPiece)) ?? {}) };
  const report = studyReport({
    settings: cfg,
    k: cfg.codeDim,
    kReason: cfg.codeDim === 10 ? K_REASON : `set with --code-dim (the default K = 10 is chosen because ${K_REASON})`,
    tokenizer: tokenizerInfo,
    train,
    evals,
    probes,
    slots: plan.slots,
    figure: plan.figure,
    figureFiles,
  });
  await writeFile(join(out, 'report.md'), report);
  const missing = [
    ...STUDY_VARIANTS.filter((v) => (train[v.id]?.step ?? Number.NEGATIVE_INFINITY) < cfg.steps).map((v) => `train-${v.id}`),
    ...[...STUDY_VARIANTS.map((v) => v.id), 'codes', 'pixels'].filter((id) => !probes[id]).map((id) => `probe-${id}`),
    ...plan.specs.filter((s) => !evals[s.key]).map((s) => `eval-${s.key}`),
  ];
  const seconds = (Date.now() - started) / 1000;
  ctx.out(
    `wrote ${join(out, 'report.md')} (${missing.length === 0 ? 'complete' : `${missing.length} pieces still to run: re-run the same command`}; ` +
      `${seconds.toFixed(0)} s)`,
  );
  ctx.result({
    ok: true,
    command: 'study',
    study: 'paper',
    out,
    report: join(out, 'report.md'),
    figures: Object.values(figureFiles).map((f) => join(out, f)),
    missing,
    train,
    probes,
    evals,
    seconds,
  });
}

/** Registers `bigr study <name>`. */
export function registerStudy(program: Command, ctx: () => CliContext): void {
  const c = program
    .command('study <name>')
    .description("reproduce the paper's comparisons in miniature ('paper': Tables 1–4 and Figure 3 on Fashion-MNIST); resumable, re-run to continue")
    .option('--config <file>', 'JSON file with any of the settings below');
  const help: Record<string, string> = {
    out: 'study directory (models, results/, report.md, figures)',
    only: 'run only these pieces (comma list of names or prefixes: tokenizer, train-s3, probe, eval-s3, ...)',
    tokenizer: 'use this tokenizer model directory instead of training one',
    codeDim: 'bits per token K of the shared tokenizer',
    n: 'samples per evaluation',
    figureN: 'samples per Figure 3 point (0 = --n)',
    rasterIterations: "iterations of Table 3's mask-raster row (0 = one token per iteration, as in the paper)",
  };
  for (const key of Object.keys(STUDY_DEFAULTS)) {
    if (key === 'config') continue;
    const flag = key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
    // (the default, its number parsing and choices are added for every command by helpPolish.ts)
    c.option(`--${flag} <value>`, help[key] ?? flag.replace(/-/g, ' '));
  }
  c.action(async (name: string, _flags: unknown, cmd: Command) => studyCommand(ctx(), name, givenFlags(cmd, STUDY_DEFAULTS)));
}
