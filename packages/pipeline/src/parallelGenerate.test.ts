import '@bigr/engine-onnx';
import { getEventListeners } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { at, ConfigError, required, resolveEngine } from '@bigr/core';
import { generateBatches, type GeneratedBatch, type SamplerPool, type SamplerWorkerScript } from '@bigr/sampler';
import { BigrPipeline } from './bigrPipeline.js';
import { createBigrSamplerPool } from './parallelGenerate.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
/** The bundled Fashion-MNIST model of the CLI (read only). */
const MODEL = join(repo, 'apps', 'cli', 'models', 'fashion-mnist');
/** Workers run the TypeScript sources through the repository's loader (as the CLI's child-process tests do). */
const WORKER: SamplerWorkerScript = {
  url: pathToFileURL(join(repo, 'packages', 'sampler', 'src', 'samplerWorker.ts')),
  execArgv: ['--import', pathToFileURL(join(repo, 'apps', 'cli', 'src', 'testing', 'registerTsLoader.mjs')).href],
};
const SETTINGS = { iterations: 4 } as const;
const STEPS = 10;
const LABELS = [7, 1, 8, 0, 3, 9, 5];
const SEEDS = [11, 12, 13, 14, 15, 16, 17];

async function runAll(pool: SamplerPool, batchSize: number): Promise<{ codes: Uint8Array; images: Float32Array; order: number[] }> {
  const codes: Uint8Array[] = [];
  const images: Float32Array[] = [];
  const order: number[] = [];
  await generateBatches(pool, {
    labels: LABELS,
    seeds: SEEDS,
    batchSize,
    settings: SETTINGS,
    onBatch: (b: GeneratedBatch) => {
      order.push(b.index);
      codes.push(b.codes.data);
      images.push(required(b.images, 'decoded images').data);
    },
  });
  const cat = <T extends Uint8Array | Float32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return { codes: cat(codes, (n) => new Uint8Array(n)), images: cat(images, (n) => new Float32Array(n)), order };
}

describe('generation on every core: bits independent of workers, threads and batching', () => {
  let reference: { codes: Uint8Array; images: Float32Array };
  beforeAll(async () => {
    // In-process, one image at a time (BigrPipeline.generate), one intra-op thread.
    const engine = await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' });
    const saved = process.env['BIGR_THREADS'];
    process.env['BIGR_THREADS'] = '1';
    try {
      const bigr = await BigrPipeline.load(MODEL, { engine });
      try {
        const r = await bigr.generate({ classes: LABELS, seeds: SEEDS, ...SETTINGS, diffusionSteps: STEPS, unpad: false, clamp: false });
        reference = { codes: r.codes.data, images: r.images.data };
      } finally {
        await bigr.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env['BIGR_THREADS'];
      else process.env['BIGR_THREADS'] = saved;
    }
  });

  it.each([
    { workers: 1, threadsPerWorker: 1, batchSize: 7 },
    { workers: 2, threadsPerWorker: 1, batchSize: 3 },
    { workers: 2, threadsPerWorker: 2, batchSize: 2 },
    { workers: 1, threadsPerWorker: 2, batchSize: 4 },
  ])('$workers worker(s) × $threadsPerWorker thread(s), batches of $batchSize = one image at a time in-process', async (o) => {
    const pool = await createBigrSamplerPool(MODEL, { workers: o.workers, threadsPerWorker: o.threadsPerWorker, diffusionSteps: STEPS, workerScript: WORKER });
    try {
      expect(pool.size).toBe(o.workers);
      const r = await runAll(pool, o.batchSize);
      expect(r.order).toEqual(Array.from({ length: Math.ceil(LABELS.length / o.batchSize) }, (_, i) => i));
      expect(Buffer.from(r.codes).equals(Buffer.from(reference.codes))).toBe(true);
      // Decoded in the workers, before unpadding: the same float32 images.
      expect(r.images.length).toBe(LABELS.length * 32 * 32);
      let same = true;
      // The reference went through the pipeline's finish (no clamp, no unpad): compare bit patterns.
      const a = new Uint32Array(r.images.buffer, r.images.byteOffset, r.images.length);
      const b = new Uint32Array(reference.images.buffer, reference.images.byteOffset, reference.images.length);
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) same = false;
      expect(same).toBe(true);
    } finally {
      await pool.dispose();
    }
  });

  it('skips finished batches (resume) and reports worker errors with their classes', async () => {
    const pool = await createBigrSamplerPool(MODEL, { workers: 2, diffusionSteps: STEPS, workerScript: WORKER });
    try {
      const seen: number[] = [];
      await generateBatches(pool, {
        labels: LABELS,
        seeds: SEEDS,
        batchSize: 2,
        settings: SETTINGS,
        decode: false,
        skip: (k) => k < 2,
        onBatch: (b) => void seen.push(b.index),
      });
      expect(seen).toEqual([2, 3]);
      await expect(pool.sample({ labels: [1], seeds: [0], settings: { iterations: 0 } })).rejects.toBeInstanceOf(ConfigError);
      // The pool still works after a failed job; a signal shared by many jobs keeps no listener once they finish.
      const shared = new AbortController().signal;
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => pool.sample({ labels: [1], seeds: [i], settings: { iterations: 1 }, decode: false, signal: shared })),
      );
      expect(getEventListeners(shared, 'abort')).toHaveLength(0);
      const ok = await pool.sample({ labels: [1], seeds: [at(SEEDS, 1, 'seed')], settings: SETTINGS, decode: false });
      expect(Buffer.from(ok.codes.data).equals(Buffer.from(reference.codes.subarray(64 * 16, 2 * 64 * 16)))).toBe(true);
    } finally {
      await pool.dispose();
    }
  });
});
