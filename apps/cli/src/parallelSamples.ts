/**
 * Many samples of a model on every core, resumable: a worker pool ({@link createBigrSamplerPool}) generates batches
 * with one seed per image (image k: `seed + k`, so `bigr generate --n 1 --seed <seed + k> --class <label k>`
 * regenerates it alone), several batches in flight, and every finished batch is written to a parts directory before
 * the next is handled. A killed run started again with the same settings reuses the batches on disk.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ConfigError, atomicWrite, parseJsonBounded, required, type LongRunningOptions, type Tensor } from '@bigr/core';
import { cleanStaleTemporaries, createBigrSamplerPool, imageSeeds } from '@bigr/pipeline';
import { generateBatches, type SamplingSettings } from '@bigr/sampler';
import { diffusionStepsOption } from './diffusionSteps.js';

const PARTS_FORMAT = 'bigr-sample-parts';

/** What a parts directory was made for; a resume needs every field equal. */
export interface SamplePartsKey {
  readonly modelHash: string;
  readonly n: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly labelsHash: string;
  readonly settings: Partial<SamplingSettings>;
  readonly diffusionSteps: number;
  /** Bytes per stored image. */
  readonly imageBytes: number;
}

/** Options of {@link generateSampleParts}. */
export interface SamplePartsOptions extends LongRunningOptions {
  readonly modelDir: string;
  readonly partsDir: string;
  readonly labels: Int32Array;
  readonly key: SamplePartsKey;
  /** Worker threads (default every core). */
  readonly workers?: number;
  /** Converts a batch of decoded images [b, C, H, W] to the stored bytes (b × imageBytes). */
  readonly toBytes: (images: Tensor<'float32'>) => Uint8Array;
  /** Reports a warning (e.g. parts from other settings were removed). */
  readonly warn?: (message: string) => void;
}

/** Result of {@link generateSampleParts}. */
export interface SamplePartsResult {
  /** All images' bytes, image k at k·imageBytes. */
  readonly data: Uint8Array;
  /** Seed of each image. */
  readonly seeds: readonly number[];
  /** Batches reused from an earlier run. */
  readonly resumedBatches: number;
  /** Batches in all. */
  readonly batches: number;
  /** Workers used. */
  readonly workers: number;
}

/** A short stable hash of labels (FNV-1a, hex). */
export function labelsHash(labels: Int32Array): string {
  let h = 0x811c9dc5;
  for (const l of labels) {
    h ^= l & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= (l >>> 8) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function partName(index: number): string {
  return `batch-${String(index).padStart(6, '0')}.u8`;
}

async function openParts(dir: string, key: SamplePartsKey, warn?: (m: string) => void): Promise<Set<number>> {
  const manifest = join(dir, 'run.json');
  const done = new Set<number>();
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch {
    entries = [];
  }
  if (entries.length > 0) {
    const old = await readFile(manifest, 'utf8')
      .then((text) => parseJsonBounded(text, { source: manifest }) as { format?: unknown; key?: unknown } | null)
      .catch(() => null);
    if (!old || old.format !== PARTS_FORMAT)
      throw new ConfigError(`${dir} exists but is not a sample-parts directory written by bigr (no ${manifest}); move it away or pick another --out.`);
    if (JSON.stringify(old.key) !== JSON.stringify(key)) {
      warn?.(`${dir} holds batches of other settings; starting over.`);
      for (const e of entries) if (/^batch-\d{6}\.u8$/.test(e) || e === 'run.json') await rm(join(dir, e), { force: true });
    } else {
      const size = (index: number): number => Math.min(key.batchSize, key.n - index * key.batchSize) * key.imageBytes;
      for (const e of entries) {
        const m = /^batch-(\d{6})\.u8$/.exec(e);
        if (!m) continue;
        const index = Number(m[1]);
        if (index * key.batchSize < key.n && (await stat(join(dir, e))).size === size(index)) done.add(index);
      }
    }
  }
  await mkdir(dir, { recursive: true });
  await cleanStaleTemporaries(dir); // temp files of a killed run
  await atomicWrite(manifest, `${JSON.stringify({ format: PARTS_FORMAT, key }, null, 2)}\n`);
  return done;
}

/**
 * Generates `labels.length` images of the model in `modelDir` on a worker pool, storing each finished batch in
 * `partsDir` (resume: batches already there for the same key are read back instead of generated).
 */
export async function generateSampleParts(options: SamplePartsOptions): Promise<SamplePartsResult> {
  const { key, labels, partsDir } = options;
  const n = labels.length;
  if (key.n !== n) throw new ConfigError(`generateSampleParts: key.n ${key.n} differs from ${n} labels.`);
  const seeds = imageSeeds(n, { seed: key.seed });
  const done = await openParts(partsDir, key, options.warn);
  const data = new Uint8Array(n * key.imageBytes);
  for (const index of done) data.set(await readFile(join(partsDir, partName(index))), index * key.batchSize * key.imageBytes);
  const batches = Math.ceil(n / key.batchSize);
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), batches - done.size || 1));
  if (done.size < batches) {
    const pool = await createBigrSamplerPool(options.modelDir, { workers, ...diffusionStepsOption(key.diffusionSteps) });
    try {
      await generateBatches(pool, {
        labels,
        seeds,
        batchSize: key.batchSize,
        settings: key.settings,
        skip: (k) => done.has(k),
        onBatch: async (b) => {
          const bytes = options.toBytes(required(b.images, 'decoded images'));
          if (bytes.length !== b.labels.length * key.imageBytes)
            throw new ConfigError(`A generated batch gave ${bytes.length} bytes; expected ${b.labels.length * key.imageBytes}.`);
          await atomicWrite(join(partsDir, partName(b.index)), bytes);
          data.set(bytes, b.start * key.imageBytes);
        },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } finally {
      await pool.dispose();
    }
  }
  return { data, seeds, resumedBatches: done.size, batches, workers };
}

/** Removes a parts directory written by {@link generateSampleParts} (after the run that needed it finished). */
export async function removeSampleParts(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
