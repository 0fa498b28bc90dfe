/**
 * Generation of many images on every core: a {@link SamplerPool} whose workers each load a BiGR model directory
 * (backbone, transcoder and tokenizer with one intra-op thread), and batch generation with one seed per image.
 * Image k of a run gets `seeds[k]` and is sampled from `createRng(seeds[k])`, exactly as {@link BigrPipeline.generate}
 * samples it, so any batch, shard or single image can be regenerated on any number of workers.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@bigr/core';
import { SamplerPool } from '@bigr/sampler';
import type { SamplerFactorySpec, SamplerWorkerModel, SamplerWorkerScript } from '@bigr/sampler';
import { loadBigrModel } from './bigrModelDir.js';
import { requireMaskedModel } from './bigrHead.js';
import { chooseEngine } from './engineChoice.js';

/** Arguments of {@link bigrSamplerFactory} (structured-cloned into every worker). */
export interface BigrSamplerFactoryArgs {
  /** The BiGR model directory. */
  readonly dir: string;
  /** Transcoder diffusion steps (default: the model's). */
  readonly diffusionSteps?: number;
  /** Device word or engine name (default: `BIGR_DEVICE`, then 'auto'). */
  readonly device?: string;
}

/**
 * The model factory a pool worker calls: loads the model directory onto the inference engine. Workers sample by
 * masked unmasking, so a causal model (docs/algorithm.md §13.2) is refused with a {@link ConfigError}; a categorical
 * model's jobs commit with 'threshold' (§13.1).
 */
export async function bigrSamplerFactory(args: unknown): Promise<SamplerWorkerModel> {
  const a = args as Partial<BigrSamplerFactoryArgs> | null;
  if (!a || typeof a.dir !== 'string') throw new ConfigError('bigrSamplerFactory needs { dir } (a BiGR model directory).');
  const engine = await chooseEngine(a.device !== undefined ? { device: a.device } : {});
  const model = await loadBigrModel(a.dir, engine, a.diffusionSteps !== undefined ? { diffusionSteps: a.diffusionSteps } : {});
  try {
    requireMaskedModel(model.config, `The worker pool over ${a.dir}`, MASKED_POOL_FIX);
  } catch (err) {
    await model.dispose();
    throw err;
  }
  return {
    predictor: model.predictor,
    tokenizer: model.tokenizer,
    ...(model.config.head === 'categorical' ? { settings: { commit: model.commit } } : {}),
    dispose: () => model.dispose(),
  };
}

/** How to sample a causal model instead of with the worker pool (the fix in its refusal). */
export const MASKED_POOL_FIX = 'Generate it with BigrPipeline.generate (`bigr generate --out <file>.png`), which decodes it token by token.';

/** The URL of this module's sibling `name` (the `.ts` source when running from sources). */
function sibling(name: string): string {
  const js = new URL(`./${name}.js`, import.meta.url);
  return existsSync(fileURLToPath(js)) ? js.href : new URL(`./${name}.ts`, import.meta.url).href;
}

/** The factory spec that loads `args.dir` in every worker of a {@link SamplerPool}. */
export function bigrSamplerFactorySpec(args: BigrSamplerFactoryArgs): SamplerFactorySpec {
  return { module: sibling('parallelGenerate'), exportName: 'bigrSamplerFactory', args: { ...args } };
}

/** Options of {@link createBigrSamplerPool}. */
export interface BigrSamplerPoolOptions extends Omit<BigrSamplerFactoryArgs, 'dir'> {
  /** Worker threads (default every core). */
  readonly workers?: number;
  /** Intra-op threads per worker (default 1). */
  readonly threadsPerWorker?: number;
  /** Worker entry override (running from TypeScript sources). */
  readonly workerScript?: SamplerWorkerScript;
}

/**
 * A {@link SamplerPool} over the BiGR model directory `dir`: every worker loads the model once; use
 * `pool.sample({ labels, seeds })` or `generateBatches(pool, …)` from `@bigr/sampler`.
 */
export function createBigrSamplerPool(dir: string, options: BigrSamplerPoolOptions = {}): Promise<SamplerPool> {
  const { workers, threadsPerWorker, workerScript, ...rest } = options;
  return SamplerPool.create({
    factory: bigrSamplerFactorySpec({ dir, ...rest }),
    ...(workers !== undefined ? { workers } : {}),
    ...(threadsPerWorker !== undefined ? { threadsPerWorker } : {}),
    ...(workerScript ? { workerScript } : {}),
  });
}
