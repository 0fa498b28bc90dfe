import { checkOutputs } from '../outputs.js';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError, createRng, getOrThrow, required, type Rng } from '@bigr/core';
import { defaultRepresentationLayer } from '@bigr/backbone';
import { evaluateLinearProbe, FASHION_MNIST_PROBE, layerSweep, trainLinearProbe, type LayerAccuracy, type ProbeAccuracy, type ProbeDataset } from '@bigr/probe';
import type { LabelledImages } from '@bigr/tokenizer';
import { bigrHeadKind } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { loadDataset } from '../datasets.js';
import { writeJsonAtomic } from '../sidecar.js';
import { datasetPad, gatherRows, permutation } from '../fashionData.js';
import { trainingEngine } from '../engines.js';
import { codeFeatures, layerFeaturePath, parseLayers, pixelFeatures } from '../layerFeatures.js';
import { checkCodeMode, loadModelSplit, modelLayerFeatures, openRepresentationModel, type RepresentationModel } from './features.js';
import type { GivenFlags } from '../givenFlags.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr probe` (docs/evaluation.md §8.8 defaults: blr 2.0, batch 256, 100 epochs, 10 warm-up, 5,000 held out). */
export const PROBE_DEFAULTS = {
  model: '',
  data: 'fashion-mnist',
  layer: 'default',
  sweep: false,
  rawPixels: false,
  rawCodes: false,
  holdout: 5000,
  epochs: FASHION_MNIST_PROBE.epochs as number,
  warmup: FASHION_MNIST_PROBE.warmupEpochs as number,
  baseLr: FASHION_MNIST_PROBE.baseLr as number,
  lrSweep: '',
  batchSize: FASHION_MNIST_PROBE.batchSize as number,
  codes: 'bernoulli',
  seed: 0,
  limit: 0,
  testLimit: 0,
  featureBatchSize: 64,
  cacheDir: '',
  out: 'probe.json',
};

/** Flags of `bigr probe` as given on the command line. */
export type ProbeFlags = GivenFlags<typeof PROBE_DEFAULTS>;

/** One row of the held-out sweep. */
export interface SweepRow extends LayerAccuracy {
  /** Base learning rate of the row. */
  readonly baseLr: number;
}

/** Layer index of the raw-pixel baseline's single feature set. */
const PIXELS_LAYER = -1;
/** Layer index of the raw-codes baseline's single feature set (the backbone's input). */
const CODES_LAYER = -2;
const layerName = (l: number): string => (l === PIXELS_LAYER ? 'pixels' : l === CODES_LAYER ? 'codes' : String(l));

/** Rows `indices` of a probe dataset. */
function subset(d: ProbeDataset, indices: Int32Array): ProbeDataset {
  return { features: gatherRows(d.features, d.dim, indices), labels: Int32Array.from(indices, (i) => required(d.labels[i], 'label')), dim: d.dim };
}

function parseLrs(value: string, fallback: number): number[] {
  if (value.trim() === '') return [fallback];
  const lrs = value.split(',').map((s) => Number(s.trim()));
  if (lrs.some((x) => !(x > 0)))
    throw new ConfigError(`--lr-sweep "${value}" must be a comma-separated list of positive base learning rates, e.g. 0.1,0.5,2.0.`);
  return lrs;
}

/** Best sweep row: highest top-1, then top-5, then the lower layer and learning rate (deterministic). */
export function bestRow(rows: readonly SweepRow[]): SweepRow {
  const [best] = [...rows].sort((a, b) => b.top1 - a.top1 || b.top5 - a.top5 || a.layer - b.layer || a.baseLr - b.baseLr);
  return required(best, 'best row of a non-empty sweep');
}

function pct(x: number): string {
  return x.toFixed(2).padStart(6);
}

/**
 * `bigr probe`: the linear probe of docs/evaluation.md §8 on frozen, cached BiGR features (or raw pixels). With --sweep, every
 * block (× every --lr-sweep base lr) is probed on a held-out split of the training set; the best is then trained on
 * all training images and scored top-1/top-5 on the test set.
 */
export async function probeCommand(ctx: CliContext, flags: ProbeFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'probe',
    defaults: PROBE_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  await checkOutputs({ command: 'probe', force: ctx.force, inputs: [flags.config], outputs: [cfg.out] });
  const codes = checkCodeMode(cfg.codes);
  if (cfg.rawPixels && cfg.rawCodes) throw new ConfigError('--raw-pixels and --raw-codes are two baselines; probe one per run.');
  for (const k of ['epochs', 'batchSize', 'featureBatchSize'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1)
      throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${cfg[k]}.`);
  }
  if (!(cfg.warmup >= 0 && cfg.warmup < cfg.epochs)) throw new ConfigError(`--warmup must be in [0, epochs); got ${cfg.warmup} with --epochs ${cfg.epochs}.`);
  if (!(cfg.baseLr > 0)) throw new ConfigError(`--base-lr must be > 0, got ${cfg.baseLr}.`);
  const lrs = cfg.sweep ? parseLrs(cfg.lrSweep, cfg.baseLr) : [cfg.baseLr];
  const started = Date.now();
  const rng: Rng = createRng(`${cfg.seed}/probe`);
  const cacheDir = cfg.cacheDir || join(dirname(cfg.out), 'probe-cache');
  const probeOptions = { engine: await trainingEngine(), epochs: cfg.epochs, warmupEpochs: cfg.warmup, batchSize: cfg.batchSize, signal: ctx.signal };

  let model: RepresentationModel | null = null;
  const modelDir = await modelDirectory(cfg.model);
  try {
    let train: LabelledImages;
    let test: LabelledImages;
    let candidateLayers: number[];
    let trainFeatures: Map<number, ProbeDataset>;
    let testFeaturesOf: (layer: number) => Promise<ProbeDataset>;
    let featureInfo: Record<string, unknown>;
    ctx.info(`loading ${cfg.data} ...`);
    if (cfg.rawPixels) {
      const load = (split: 'train' | 'test', limit: number) => loadDataset(cfg.data, split, { channels: 1, imageSize: 28, ...(limit > 0 ? { limit } : {}) });
      train = await load('train', cfg.limit);
      test = await load('test', cfg.testLimit);
      const tr = pixelFeatures(train, await datasetPad(cfg.data, 'train'));
      const te = pixelFeatures(test, await datasetPad(cfg.data, 'test'));
      candidateLayers = [PIXELS_LAYER];
      trainFeatures = new Map([[PIXELS_LAYER, tr]]);
      testFeaturesOf = async () => te;
      featureInfo = { kind: 'raw-pixels', dim: tr.dim, scaling: 'x/255, padding removed' };
    } else if (cfg.rawCodes) {
      // The backbone's input: the model's tokenizer codes, drawn as `bigr features` draws them for the same seed.
      model = await openRepresentationModel(modelDir);
      const m = model;
      train = await loadModelSplit(m, cfg.data, 'train', cfg.limit);
      test = await loadModelSplit(m, cfg.data, 'test', cfg.testLimit);
      const codesOf = async (split: 'train' | 'test', images: LabelledImages): Promise<ProbeDataset> => {
        const progress = ctx.progress(`codes ${split}`);
        try {
          const r = await codeFeatures(m.pipeline.tokenizer.tokenizer, images.images, {
            codes,
            rng: createRng(`${cfg.seed}/codes/${split}`),
            batchSize: cfg.featureBatchSize,
            signal: ctx.signal,
            onProgress: progress.update,
          });
          return { features: r.features, labels: images.labels, dim: r.dim };
        } finally {
          progress.stop();
        }
      };
      const tr = await codesOf('train', train);
      const te = await codesOf('test', test);
      candidateLayers = [CODES_LAYER];
      trainFeatures = new Map([[CODES_LAYER, tr]]);
      testFeaturesOf = async () => te;
      featureInfo = { kind: 'raw-codes', model: modelDir, modelHash: m.hash, dim: tr.dim, codes, layout: 'tokens × bits, 0/1' };
    } else {
      model = await openRepresentationModel(modelDir);
      const m = model;
      const backbone = m.config.backbone;
      candidateLayers = cfg.sweep ? parseLayers('all', backbone, 0) : parseLayers(cfg.layer, backbone, defaultRepresentationLayer(backbone));
      if (candidateLayers.length !== 1 && !cfg.sweep)
        throw new ConfigError(`--layer takes one block index without --sweep; got "${cfg.layer}". Use --sweep to compare blocks.`);
      train = await loadModelSplit(m, cfg.data, 'train', cfg.limit);
      test = await loadModelSplit(m, cfg.data, 'test', cfg.testLimit);
      await mkdir(cacheDir, { recursive: true });
      const request = (split: 'train' | 'test', layers: readonly number[]) => ({
        data: cfg.data,
        split,
        layers,
        codes,
        seed: cfg.seed,
        batchSize: cfg.featureBatchSize,
        paths: new Map(layers.map((l) => [l, layerFeaturePath(cacheDir, split, l)] as const)),
      });
      const tr = await modelLayerFeatures(ctx, m, train, request('train', candidateLayers));
      trainFeatures = new Map([...tr.features].map(([l, f]) => [l, { features: f, labels: train.labels, dim: backbone.dim }]));
      testFeaturesOf = async (layer) => {
        const te = await modelLayerFeatures(ctx, m, test, request('test', [layer]));
        return { features: getOrThrow(te.features, layer, 'layer features'), labels: test.labels, dim: backbone.dim };
      };
      featureInfo = {
        kind: 'bigr',
        model: modelDir,
        modelHash: m.hash,
        dim: backbone.dim,
        codes,
        condition: `null class ${backbone.numClasses}`,
        // The backbone's own attention: a causal study variant's features see only earlier tokens (docs/algorithm.md §13.2).
        attention: backbone.attention === 'causal' ? 'causal, unmasked codes' : 'full (bidirectional), unmasked codes',
        head: bigrHeadKind(m.config),
        pooling: 'mean over image tokens of the block output, no final norm',
        layerIndexing: '0-based block index; blocks 0..l run (docs/algorithm.md §7.1)',
        cacheDir,
        trainFromCache: tr.fromCache,
      };
    }
    const numClasses = train.classNames.length;
    const nTrain = train.labels.length;

    let sweep: SweepRow[] = [];
    let chosen: { layer: number; baseLr: number };
    if (cfg.sweep) {
      const holdout = cfg.holdout;
      if (!Number.isInteger(holdout) || holdout < 1 || nTrain - holdout < cfg.batchSize) {
        throw new ConfigError(
          `--holdout ${holdout} leaves ${nTrain - holdout} of ${nTrain} training images; at least one batch (${cfg.batchSize}) must remain. ` +
            `Lower --holdout or --batch-size.`,
        );
      }
      const order = permutation(nTrain, rng.fork('holdout'));
      const valIdx = order.slice(0, holdout);
      const fitIdx = order.slice(holdout);
      const split = new Map([...trainFeatures].map(([l, d]) => [l, { train: subset(d, fitIdx), validation: subset(d, valIdx) }] as const));
      for (const blr of lrs) {
        const progress = ctx.progress(`sweep blr ${blr}`);
        try {
          const rows = await layerSweep(split, { ...probeOptions, numClasses, baseLr: blr, rng: rng.fork(`sweep-blr-${blr}`), onProgress: progress.update });
          sweep.push(...rows.map((r) => ({ ...r, baseLr: blr })));
        } finally {
          progress.stop();
        }
      }
      const best = bestRow(sweep);
      chosen = { layer: best.layer, baseLr: best.baseLr };
    } else {
      chosen = { layer: required(candidateLayers[0], 'probed layer'), baseLr: cfg.baseLr };
      sweep = [];
    }

    const testData = await testFeaturesOf(chosen.layer);
    const progress = ctx.progress('probe');
    let final: ProbeAccuracy & { trainCount: number; testCount: number };
    try {
      const head = await trainLinearProbe(getOrThrow(trainFeatures, chosen.layer, 'layer features'), {
        ...probeOptions,
        numClasses,
        baseLr: chosen.baseLr,
        rng: rng.fork('final'),
        onProgress: progress.update,
      });
      final = { ...evaluateLinearProbe(head, testData), trainCount: nTrain, testCount: test.labels.length };
    } finally {
      progress.stop();
    }
    const seconds = (Date.now() - started) / 1000;

    if (sweep.length > 0) {
      ctx.out(`held-out sweep (${cfg.holdout} of ${nTrain} training images):`);
      ctx.out(' layer     blr   top-1   top-5');
      for (const r of sweep)
        ctx.out(
          `${layerName(r.layer).padStart(6)} ${String(r.baseLr).padStart(7)} ${pct(r.top1)}  ${pct(r.top5)}` +
            `${r.layer === chosen.layer && r.baseLr === chosen.baseLr ? '  <- best' : ''}`,
        );
    }
    ctx.out(
      `linear probe, ${chosen.layer < 0 ? `raw ${layerName(chosen.layer)}` : `layer ${chosen.layer}`}, blr ${chosen.baseLr}, trained on ${nTrain}, ` +
        `tested on ${final.testCount}:`,
    );
    ctx.out(`  top-1 ${final.top1.toFixed(2)} %   top-5 ${final.top5.toFixed(2)} %   (${seconds.toFixed(1)} s)`);

    const result = {
      ok: true,
      command: 'probe',
      data: cfg.data,
      features: featureInfo,
      protocol: {
        reference: 'docs/evaluation.md §8.2–8.4, §8.8',
        head: 'BatchNorm1d(affine=false, eps=1e-6) + Linear, trunc-normal std 0.01',
        optimizer: 'LARS (momentum 0.9, trust 0.001, wd 0)',
        schedule: `linear warm-up ${cfg.warmup} epochs + per-step half-cosine to 0`,
        epochs: cfg.epochs,
        batchSize: cfg.batchSize,
        peakLr: 'baseLr × batchSize / 256',
        deviations: ['features cached once, no augmentation'],
      },
      sweep: sweep.map((r) => ({ layer: r.layer < 0 ? layerName(r.layer) : r.layer, baseLr: r.baseLr, top1: r.top1, top5: r.top5 })),
      holdout: cfg.sweep ? cfg.holdout : 0,
      chosen: { layer: chosen.layer < 0 ? layerName(chosen.layer) : chosen.layer, baseLr: chosen.baseLr },
      final,
      seed: cfg.seed,
      seconds,
      config: cfg,
    };
    await mkdir(dirname(cfg.out), { recursive: true });
    await writeJsonAtomic(cfg.out, result);
    ctx.out(`wrote ${cfg.out}`);
    ctx.result({ ...result, output: cfg.out });
  } finally {
    await model?.dispose();
  }
}
