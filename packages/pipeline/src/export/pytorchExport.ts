/**
 * Exporting model directories to the official PyTorch checkpoint layouts (docs/algorithm.md §10), so models trained
 * or fine-tuned here load in the released `sample.py` / `train_ddp.py`, and our importer reads them back with the
 * same bits:
 *
 * - `bigr.pt`: `{"ema": state_dict, "args": Namespace}` — the backbone and the transcoder under the official names,
 *   the denoiser registered twice as in the official module (`diffusion_processor._denoise_fn.*` sharing the storage
 *   of `denoise_mlp.*`) and the scheduler buffers `diffusion_processor.scheduler.*` of the linear schedule, so a
 *   strict `load_state_dict(ckpt["ema"])` finds every key. `args` carries the usual fields (`model`, `num_classes`,
 *   `image_size`, `codebook_size`) and `bigr_config`, the JSON of everything the weights do not record (heads, class
 *   names, padding, sampling defaults), which `bigr import` uses to restore the model directory exactly.
 * - `binaryae.th`: the B-AE as a raw state dict with `ae.*` keys, as in the released `binaryae_ema_*.th` (without the
 *   GAN's `disc.*` and `perceptual.*`, which are not part of a model directory).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CpuTensor, parseJsonBounded, throwIfAborted, type LongRunningOptions, type NamedTensors } from '@bigr/core';
import { OFFICIAL_DUPLICATE_PREFIX, OFFICIAL_SCHEDULER_PREFIX, officialScheduleBuffers } from '@bigr/transcoder';
import { writeTorchStateDict, type TorchArgValue } from '@bigr/torch';
import { BIGR_FORMAT, readBigrModel, type BigrModelConfig, type TranscoderBigrModelConfig } from '../bigrModelDir.js';
import { describeModelKind } from '../bigrHead.js';
import { readTokenizerModel, type TokenizerModelConfig } from '../tokenizerModelDir.js';
import { tokenizerDirectoryOf } from '../tokenizerPipeline.js';

/** File name of the exported BiGR checkpoint. */
export const PYTORCH_BIGR_FILE = 'bigr.pt';
/** File name of the exported B-AE checkpoint. */
export const PYTORCH_BAE_FILE = 'binaryae.th';
/** Key of `args` holding the JSON of what the weights do not record. */
export const BIGR_CONFIG_ARG = 'bigr_config';

/** What {@link exportPytorch} wrote. */
export interface PytorchExportReport {
  /** Files written (the BiGR checkpoint first when there is one). */
  readonly files: readonly string[];
  /** Tensors in the BiGR `ema` state dict (0 for a tokenizer alone). */
  readonly bigrTensors: number;
  /** Tensors in the B-AE state dict. */
  readonly baeTensors: number;
}

/** The extra settings stored as `args.bigr_config` (JSON). */
export interface ExportedBigrConfig {
  readonly format: 'bigr-pytorch-export';
  readonly version: 1;
  readonly backbone?: BigrModelConfig['backbone'];
  readonly transcoder?: TranscoderBigrModelConfig['transcoder'];
  readonly classNames: readonly string[];
  readonly bae: TokenizerModelConfig['bae'];
  readonly pad: number;
}

/** The official `ema` state dict of a model directory's weights: the denoiser twice (shared data) and the scheduler buffers. */
export function officialBigrStateDict(config: TranscoderBigrModelConfig, weights: NamedTensors): Map<string, CpuTensor> {
  const prefix = config.transcoder.prefix ?? 'denoise_mlp';
  const out = new Map<string, CpuTensor>();
  for (const [name, t] of weights) out.set(name, new CpuTensor(t.data, t.shape));
  for (const [name, t] of weights) {
    if (!name.startsWith(`${prefix}.`)) continue;
    // The same array object → one storage in the file, as torch saves a module registered twice.
    out.set(`${OFFICIAL_DUPLICATE_PREFIX}.${name.slice(prefix.length + 1)}`, new CpuTensor(t.data, t.shape));
  }
  const buffers = officialScheduleBuffers(config.transcoder.timesteps);
  for (const key of ['k_final', 'b_final', 'beta', 'cumbeta'] as const)
    out.set(`${OFFICIAL_SCHEDULER_PREFIX}.${key}`, new CpuTensor(buffers[key], [buffers[key].length]));
  return out;
}

/** The released `binaryae_ema_*.th` layout of tokenizer weights: `ae.` + official name. */
export function officialBaeStateDict(weights: NamedTensors): Map<string, CpuTensor> {
  const out = new Map<string, CpuTensor>();
  for (const [name, t] of weights) out.set(`ae.${name}`, new CpuTensor(t.data, t.shape));
  return out;
}

/**
 * The official code has only the binary transcoder and bidirectional attention, so a model with the categorical head
 * or a causal backbone (docs/algorithm.md §13) has no official checkpoint layout: refused with a {@link ConfigError}.
 */
function officialExportable(
  modelDir: string,
  bigr: { config: BigrModelConfig; weights: NamedTensors },
): { config: TranscoderBigrModelConfig; weights: NamedTensors } {
  const { config, weights } = bigr;
  if (config.head === 'categorical' || config.backbone.attention === 'causal') {
    throw new ConfigError(
      `${modelDir} has ${describeModelKind(config)}; the official BiGR checkpoint layout only holds the binary transcoder with a bidirectional ` +
        `backbone (docs/algorithm.md §13), so it cannot be exported to PyTorch. Export a BiGR model (head 'transcoder', attention 'bidirectional').`,
    );
  }
  return { config, weights };
}

async function isBigrDirectory(dir: string): Promise<boolean> {
  const raw = parseJsonBounded(await readFile(join(dir, 'config.json'), 'utf8'), { source: join(dir, 'config.json') }) as { format?: unknown } | null;
  return typeof raw === 'object' && raw !== null && raw.format === BIGR_FORMAT;
}

/**
 * Writes `outDir/bigr.pt` (for a BiGR model directory) and `outDir/binaryae.th` from a model or tokenizer directory.
 * Weights are written in float32 exactly as stored, so `importOfficial` on the result gives the same tensors.
 */
export async function exportPytorch(modelDir: string, outDir: string, options: LongRunningOptions = {}): Promise<PytorchExportReport> {
  const bigr = (await isBigrDirectory(modelDir)) ? officialExportable(modelDir, await readBigrModel(modelDir)) : undefined;
  const tokDir = await tokenizerDirectoryOf(modelDir);
  const tok = await readTokenizerModel(tokDir);
  throwIfAborted(options.signal, 'export');
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  let bigrTensors = 0;
  const total = bigr ? 2 : 1;
  if (bigr) {
    const extra: ExportedBigrConfig = {
      format: 'bigr-pytorch-export',
      version: 1,
      backbone: bigr.config.backbone,
      transcoder: bigr.config.transcoder,
      classNames: bigr.config.classNames,
      bae: tok.config.bae,
      pad: tok.config.pad,
    };
    if (tok.config.bae.codeDim !== bigr.config.backbone.bitsPerToken)
      throw new ConfigError(
        `${modelDir}: the tokenizer has K = ${tok.config.bae.codeDim} but the backbone K = ${bigr.config.backbone.bitsPerToken}; ` +
          `the model directory is inconsistent.`,
      );
    const args: Record<string, TorchArgValue> = {
      model: typeof bigr.config.training?.['preset'] === 'string' ? (bigr.config.training['preset'] as string) : 'custom',
      num_classes: bigr.config.backbone.numClasses,
      image_size: tok.config.bae.resolution,
      codebook_size: bigr.config.backbone.bitsPerToken,
      [BIGR_CONFIG_ARG]: JSON.stringify(extra),
    };
    const sd = officialBigrStateDict(bigr.config, bigr.weights);
    bigrTensors = sd.size;
    const path = join(outDir, PYTORCH_BIGR_FILE);
    await writeTorchStateDict(path, sd, { wrapKey: 'ema', args });
    files.push(path);
    options.onProgress?.({ task: 'export', current: 1, total, message: path });
  }
  throwIfAborted(options.signal, 'export');
  const bae = officialBaeStateDict(tok.weights);
  const baePath = join(outDir, PYTORCH_BAE_FILE);
  await writeTorchStateDict(baePath, bae);
  files.push(baePath);
  options.onProgress?.({ task: 'export', current: total, total, message: baePath });
  return { files, bigrTensors, baeTensors: bae.size };
}
