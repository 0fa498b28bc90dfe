/**
 * `bigr generate --out <dir>/`: many images on every core, one PNG per image streamed to the folder as batches
 * finish. Image k is `<dir>/<k>.png` (6+ digits), sampled with seed `--seed` + k, exactly the image
 * `bigr generate --n 1 --seed <seed + k> --class <its class>` gives alone. A killed run started again with the same
 * settings skips the batches whose images are all on disk.
 */
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, atomicWrite, parseJsonBounded, required, sha256OfFile } from '@bigr/core';
import { cleanStaleTemporaries, createBigrSamplerPool, imageSeeds, readBigrModel, classIndex, requireMaskedModel, unpadImages } from '@bigr/pipeline';
import { generateBatches, type SamplingSettings } from '@bigr/sampler';
import { CpuTensor } from '@bigr/core';
import { encodePng, tensorToRaster } from '@bigr/tokenizer';
import type { CliContext } from '../context.js';
import { readTokenizerModel } from '../tokenizerModelDir.js';
import { writeSidecar } from '../sidecar.js';
import { withModelDiffusionSteps, diffusionStepsOption } from '../diffusionSteps.js';

const FOLDER_FORMAT = 'bigr-generated-folder';
/** Largest --n of a folder output. */
export const MAX_FOLDER_IMAGES = 10_000_000;

/** Whether `--out` names a folder: it ends with '/' or is an existing directory. */
export async function isFolderOutput(out: string): Promise<boolean> {
  if (out.endsWith('/')) return true;
  return stat(out).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The settings of a folder run that decide its images. */
export interface FolderRunSettings {
  readonly model: string;
  readonly class: string;
  readonly n: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly workers: number;
  readonly diffusionSteps: number;
}

/** File name of image k. */
export function imageFileName(k: number): string {
  return `${String(k).padStart(6, '0')}.png`;
}

/** Generates `cfg.n` images into the folder `out` (see the module comment). */
export async function generateToFolder(
  ctx: CliContext,
  out: string,
  requested: FolderRunSettings,
  settings: Partial<SamplingSettings>,
  modelDir: string,
): Promise<void> {
  let cfg = requested;
  if (!Number.isInteger(cfg.n) || cfg.n < 1 || cfg.n > MAX_FOLDER_IMAGES)
    throw new ConfigError(`--n must be an integer in 1..${MAX_FOLDER_IMAGES} for a folder output, got ${cfg.n}.`);
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1 || cfg.batchSize > 4096)
    throw new ConfigError(`--batch-size must be an integer in 1..4096, got ${cfg.batchSize}.`);
  if (!Number.isInteger(cfg.workers) || cfg.workers < 0 || cfg.workers > 1024)
    throw new ConfigError(`--workers must be an integer in 0..1024 (0 = every core), got ${cfg.workers}.`);
  const { config } = await readBigrModel(modelDir);
  // The run's key and record hold the steps it uses: the flag, else the model's own (docs/algorithm.md §4.3).
  cfg = withModelDiffusionSteps(cfg, config);
  // The worker pool samples by masked unmasking (a categorical model with its threshold commit); a causal model
  // generates token by token, which only the grid output does (docs/algorithm.md §13.2).
  requireMaskedModel(config, 'A folder output (--out <dir>/, sampled on a worker pool)', 'Write a grid instead (--out <file>.png).');
  const numClasses = config.backbone.numClasses;
  const spec = cfg.class === 'null' ? 'none' : cfg.class;
  const labels = new Int32Array(cfg.n);
  if (spec === 'all') for (let i = 0; i < cfg.n; i++) labels[i] = i % numClasses;
  else labels.fill(spec === 'none' ? numClasses : classIndex(spec, config.classNames, numClasses));
  const seeds = imageSeeds(cfg.n, { seed: cfg.seed });
  const pad = (await readTokenizerModel(join(modelDir, config.tokenizer))).config.pad;
  const modelHash = await sha256OfFile(join(modelDir, 'model.safetensors'));

  // The folder's record of what it holds; a different run refuses to mix its images in (unless --force).
  const dir = out.replace(/\/+$/, '') || '.';
  const manifestPath = join(dir, 'generate-run.json');
  const key = { model: modelHash, class: spec, n: cfg.n, seed: cfg.seed, settings, diffusionSteps: cfg.diffusionSteps };
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0) {
    const old = await readFile(manifestPath, 'utf8')
      .then((t) => parseJsonBounded(t, { source: manifestPath }) as { format?: unknown; key?: unknown } | null)
      .catch(() => null);
    const sameRun = old?.format === FOLDER_FORMAT && JSON.stringify(old.key) === JSON.stringify(key);
    if (!sameRun && !ctx.force) {
      throw new ConfigError(
        `${dir} is not empty and was not written by this generate run (${old ? 'other settings' : `no ${manifestPath}`}); ` +
          `pick an empty folder, or pass --force to write over its images.`,
      );
    }
  }
  await mkdir(dir, { recursive: true });
  await cleanStaleTemporaries(dir); // temp files of a killed run
  await atomicWrite(manifestPath, `${JSON.stringify({ format: FOLDER_FORMAT, key }, null, 2)}\n`);
  const present = new Set(entries);
  const batches = Math.ceil(cfg.n / cfg.batchSize);
  const done = new Set<number>();
  if (entries.length > 0) {
    for (let b = 0; b < batches; b++) {
      let all = true;
      for (let k = b * cfg.batchSize; k < Math.min(cfg.n, (b + 1) * cfg.batchSize) && all; k++) all = present.has(imageFileName(k));
      if (all) done.add(b);
    }
  }

  const started = Date.now();
  const progress = ctx.progress('generate');
  let workers = 0;
  try {
    if (done.size < batches) {
      const pool = await createBigrSamplerPool(modelDir, {
        ...(cfg.workers > 0 ? { workers: cfg.workers } : {}),
        ...diffusionStepsOption(cfg.diffusionSteps),
      });
      workers = pool.size;
      try {
        await generateBatches(pool, {
          labels,
          seeds,
          batchSize: cfg.batchSize,
          settings,
          skip: (b) => done.has(b),
          signal: ctx.signal,
          onProgress: progress.update,
          onBatch: async (batch) => {
            const images = unpadImages(required(batch.images, 'decoded images'), pad);
            const [b, c, h, w] = images.shape as [number, number, number, number];
            const per = c * h * w;
            for (let i = 0; i < b; i++) {
              const one = Float32Array.from(images.data.subarray(i * per, (i + 1) * per), (v) => Math.min(1, Math.max(0, v)));
              await atomicWrite(join(dir, imageFileName(batch.start + i)), encodePng(tensorToRaster(new CpuTensor(one, [c, h, w]))));
            }
          },
        });
      } finally {
        await pool.dispose();
      }
    }
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const sidecar = await writeSidecar(dir, {
    command: 'generate',
    seed: cfg.seed,
    config: cfg,
    modelHash,
    extra: {
      model: modelDir,
      images: `${imageFileName(0)} … ${imageFileName(cfg.n - 1)}`,
      labels: Array.from(labels),
      seeds: `image k: seed ${cfg.seed} + k`,
      workers,
      resumedBatches: done.size,
      seconds,
    },
  });
  ctx.out(
    `wrote ${cfg.n} images to ${dir}/ (${done.size > 0 ? `${done.size} of ${batches} batches were already there, ` : ''}` +
      `${seconds.toFixed(1)} s) and ${sidecar}`,
  );
  ctx.result({
    ok: true,
    command: 'generate',
    outputs: [dir, sidecar],
    n: cfg.n,
    seeds: `image k: seed ${cfg.seed} + k`,
    resumedBatches: done.size,
    workers,
    seconds,
    modelHash,
  });
}
