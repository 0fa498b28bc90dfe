/**
 * Linear probe of a study model (docs/evaluation.md §8.8): pooled block features of unmasked codes with the null class,
 * every block probed on a held-out part of the training split, the best block then trained on the whole split and
 * scored top-1 / top-5 on the test split (the `bigr probe --sweep` protocol with one base learning rate).
 */
import { createRng, getOrThrow, required, type Engine } from '@bigr/core';
import { evaluateLinearProbe, layerSweep, trainLinearProbe, type LayerAccuracy, type ProbeDataset } from '@bigr/probe';
import type { CliContext } from '../context.js';
import { loadDataset } from '../datasets.js';
import { gatherRows, permutation } from '../fashionData.js';
import { codeFeatures, extractLayerFeatures, pixelFeatures } from '../layerFeatures.js';
import type { LoadedBigrModel } from '@bigr/pipeline';

/** Probe settings of the study. */
export interface StudyProbeSettings {
  readonly epochs: number;
  readonly warmup: number;
  readonly baseLr: number;
  readonly batchSize: number;
  readonly holdout: number;
  readonly seed: number;
  readonly trainLimit: number;
  readonly testLimit: number;
  readonly data: string;
}

/** Result of {@link probeVariant}. */
export interface StudyProbeResult {
  readonly acc1: number;
  readonly acc5: number;
  readonly layer: number;
  readonly sweep: readonly { layer: number; top1: number; top5: number }[];
  readonly trainCount: number;
  readonly testCount: number;
  readonly seconds: number;
}

function subset(d: ProbeDataset, idx: Int32Array): ProbeDataset {
  return { features: gatherRows(d.features, d.dim, idx), labels: Int32Array.from(idx, (i) => required(d.labels[i], 'label')), dim: d.dim };
}

/** Features of one split, one array per candidate (block index, or 0 for a baseline's single set). */
interface SplitFeatures {
  readonly map: Map<number, Float32Array>;
  readonly labels: Int32Array;
}

function loadSplit(model: LoadedBigrModel, s: StudyProbeSettings, split: 'train' | 'test') {
  return loadDataset(s.data, split, {
    ...(split === 'train' ? (s.trainLimit > 0 ? { limit: s.trainLimit } : {}) : s.testLimit > 0 ? { limit: s.testLimit } : {}),
    channels: model.tokenizerConfig.bae.inChannels === 1 ? 1 : 3,
    imageSize: model.tokenizerConfig.bae.resolution,
  });
}

/** Probes every block of `model`; codes are Bernoulli draws seeded `${seed}/codes/<split>`. */
export async function probeVariant(
  ctx: CliContext,
  model: LoadedBigrModel,
  engines: { inference: Engine; training: Engine },
  s: StudyProbeSettings,
): Promise<StudyProbeResult> {
  const started = Date.now();
  const backbone = model.config.backbone;
  const layers = Array.from({ length: backbone.layers }, (_, i) => i);
  const features = async (split: 'train' | 'test'): Promise<SplitFeatures> => {
    const data = await loadSplit(model, s, split);
    const progress = ctx.progress(`features ${split}`);
    try {
      const map = await extractLayerFeatures(engines.inference, backbone, model.weights, model.tokenizer, data.images, layers, {
        codes: 'bernoulli',
        rng: createRng(`${s.seed}/codes/${split}`),
        batchSize: 64,
        signal: ctx.signal,
        onProgress: progress.update,
      });
      return { map, labels: data.labels };
    } finally {
      progress.stop();
    }
  };
  return probeFeatures(ctx, engines.training, await features('train'), await features('test'), backbone.dim, backbone.numClasses, s, started);
}

/**
 * The baselines the blocks are compared with, probed by the same protocol: 'codes' — the tokenizer's N·K bits, the
 * backbone's input (drawn as the variants' codes are, `${seed}/codes/<split>`); 'pixels' — the unpadded image x/255.
 * `model` only supplies the study's shared tokenizer and the class count.
 */
export async function probeBaseline(
  ctx: CliContext,
  kind: 'codes' | 'pixels',
  model: LoadedBigrModel,
  engines: { inference: Engine; training: Engine },
  s: StudyProbeSettings,
): Promise<StudyProbeResult> {
  const started = Date.now();
  let dim = 0;
  const features = async (split: 'train' | 'test'): Promise<SplitFeatures> => {
    const data = await loadSplit(model, s, split);
    if (kind === 'pixels') {
      const px = pixelFeatures(data, model.tokenizerConfig.pad);
      dim = px.dim;
      return { map: new Map([[0, px.features]]), labels: data.labels };
    }
    const progress = ctx.progress(`codes ${split}`);
    try {
      const r = await codeFeatures(model.tokenizer, data.images, {
        codes: 'bernoulli',
        rng: createRng(`${s.seed}/codes/${split}`),
        batchSize: 64,
        signal: ctx.signal,
        onProgress: progress.update,
      });
      dim = r.dim;
      return { map: new Map([[0, r.features]]), labels: data.labels };
    } finally {
      progress.stop();
    }
  };
  const train = await features('train');
  const test = await features('test');
  return probeFeatures(ctx, engines.training, train, test, dim, model.config.backbone.numClasses, s, started);
}

/** The protocol: every candidate on the held-out split, the best trained on the whole split and scored on the test split. */
async function probeFeatures(
  ctx: CliContext,
  engine: Engine,
  train: SplitFeatures,
  test: SplitFeatures,
  dim: number,
  numClasses: number,
  s: StudyProbeSettings,
  started: number,
): Promise<StudyProbeResult> {
  const n = train.labels.length;
  const rng = createRng(`${s.seed}/probe`);
  const order = permutation(n, rng.fork('holdout'));
  const holdout = Math.min(s.holdout, Math.max(1, n - s.batchSize));
  const valIdx = order.slice(0, holdout);
  const fitIdx = order.slice(holdout);
  const options = {
    engine,
    epochs: s.epochs,
    warmupEpochs: s.warmup,
    batchSize: s.batchSize,
    numClasses,
    baseLr: s.baseLr,
    signal: ctx.signal,
  };
  const split = new Map(
    [...train.map.keys()].map((l) => {
      const d: ProbeDataset = { features: getOrThrow(train.map, l, 'layer features'), labels: train.labels, dim };
      return [l, { train: subset(d, fitIdx), validation: subset(d, valIdx) }] as const;
    }),
  );
  let progress = ctx.progress('probe sweep');
  let rows: LayerAccuracy[];
  try {
    rows = await layerSweep(split, { ...options, rng: rng.fork(`sweep-blr-${s.baseLr}`), onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const [bestRow] = [...rows].sort((a, b) => b.top1 - a.top1 || b.top5 - a.top5 || a.layer - b.layer);
  const best = required(bestRow, 'best row of a non-empty sweep');
  progress = ctx.progress('probe');
  try {
    const head = await trainLinearProbe(
      { features: getOrThrow(train.map, best.layer, 'layer features'), labels: train.labels, dim },
      { ...options, rng: rng.fork('final'), onProgress: progress.update },
    );
    const acc = evaluateLinearProbe(head, { features: getOrThrow(test.map, best.layer, 'layer features'), labels: test.labels, dim });
    return {
      acc1: acc.top1,
      acc5: acc.top5,
      layer: best.layer,
      sweep: rows.map((r) => ({ layer: r.layer, top1: r.top1, top5: r.top5 })),
      trainCount: n,
      testCount: test.labels.length,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    progress.stop();
  }
}
