import { ConfigError, createRng, sha256OfFile } from '@bigr/core';
import { DEFAULT_SAMPLING, generate, type SamplingSettings } from '@bigr/sampler';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { inferenceEngine } from '../engines.js';
import { classIndex, loadBigrModel } from '../bigrModelDir.js';
import { bundledModelDir } from '../modelPaths.js';
import { unpad, writeGrid } from '../images.js';
import { writeSidecar } from '../sidecar.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';

/** Settings of `bigr generate`. */
export const GENERATE_DEFAULTS = {
  model: '',
  class: 'all',
  n: 16,
  out: 'samples.png',
  cols: 0,
  seed: 0,
  cfg: 2.5,
  cfgSchedule: 'constant',
  iterations: 10,
  gumbel: 0.17,
  gumbelSchedule: 'constant',
  order: 'entropy',
  confidence: 'margin',
  diffusionSteps: 100,
};

/** Flags of `bigr generate` as parsed. */
export type GenerateFlags = { config?: string } & { [K in keyof typeof GENERATE_DEFAULTS]?: string };

/** Converts parsed string flags to the types of `defaults`. */
export function typedFlags<D extends Record<string, unknown>>(defaults: D, flags: Record<string, string | undefined>): Partial<D> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    if (!(k in defaults)) {
      out[k] = v;
      continue;
    }
    if (typeof defaults[k] === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number, got "${v}".`);
      out[k] = n;
    } else out[k] = v;
  }
  return out as Partial<D>;
}

/** Sampler settings from the sampling keys of {@link GENERATE_DEFAULTS} (shared with `bigr eval --model`). */
export function samplingSettingsOf(cfg: Pick<typeof GENERATE_DEFAULTS, 'iterations' | 'cfg' | 'cfgSchedule' | 'gumbel' | 'gumbelSchedule' | 'order' | 'confidence'>): Partial<SamplingSettings> {
  return {
    iterations: cfg.iterations,
    cfgScale: cfg.cfg,
    cfgSchedule: cfg.cfgSchedule as SamplingSettings['cfgSchedule'],
    gumbelTemperature: cfg.gumbel,
    gumbelSchedule: cfg.gumbelSchedule as SamplingSettings['gumbelSchedule'],
    order: cfg.order as SamplingSettings['order'],
    confidence: cfg.confidence as SamplingSettings['confidence'],
  };
}

/** `bigr generate`: class-conditional samples from a BiGR model directory (the bundled model by default). */
export async function generateCommand(ctx: CliContext, flags: GenerateFlags): Promise<void> {
  const cfg = await resolveConfig({ command: 'generate', defaults: GENERATE_DEFAULTS, ...(flags.config !== undefined ? { configFile: flags.config } : {}), flags: typedFlags(GENERATE_DEFAULTS, flags) });
  if (!Number.isInteger(cfg.n) || cfg.n < 1 || cfg.n > 4096) throw new ConfigError(`--n must be an integer in 1..4096, got ${cfg.n}.`);
  const modelDir = cfg.model || bundledModelDir();
  await guardOutputsWithSidecars('generate', ctx.force, [cfg.out], [flags.config, ...modelInputFiles(modelDir)]);
  const engine = await inferenceEngine();
  const model = await loadBigrModel(modelDir, engine, { diffusionSteps: cfg.diffusionSteps });
  const numClasses = model.config.backbone.numClasses;
  const labels = new Int32Array(cfg.n);
  if (cfg.class === 'all') for (let i = 0; i < cfg.n; i++) labels[i] = i % numClasses;
  else if (cfg.class === 'none' || cfg.class === 'null') labels.fill(numClasses);
  else labels.fill(classIndex(cfg.class, model.config.classNames, numClasses));
  const settings = samplingSettingsOf(cfg);
  for (const [k, v] of Object.entries(settings)) {
    const allowed = k in DEFAULT_SAMPLING;
    if (!allowed) throw new ConfigError(`Unknown sampling setting ${k}.`);
    void v;
  }
  const progress = ctx.progress('generate');
  const started = Date.now();
  let result;
  try {
    result = await generate({
      predictor: model.predictor,
      condition: { kind: 'class', labels },
      rng: createRng(cfg.seed),
      tokenizer: model.tokenizer,
      signal: ctx.signal,
      onProgress: progress.update,
      ...settings,
    });
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const images = unpad(result.images!, model.tokenizerConfig.pad);
  const cols = cfg.cols > 0 ? cfg.cols : Math.ceil(Math.sqrt(cfg.n));
  await writeGrid(cfg.out, images, cols);
  const modelHash = await sha256OfFile(join(modelDir, 'model.safetensors'));
  const sidecar = await writeSidecar(cfg.out, { command: 'generate', seed: cfg.seed, config: cfg, modelHash, extra: { model: modelDir, engine: engine.name, labels: Array.from(labels), seconds } });
  ctx.out(`wrote ${cfg.out} (${cfg.n} images, ${seconds.toFixed(1)} s) and ${sidecar}`);
  ctx.result({ ok: true, command: 'generate', outputs: [cfg.out, sidecar], labels: Array.from(labels), seconds, modelHash, config: cfg });
}
