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
 *   GAN's `disc.*` and `perceptual.*`, which are not part of a model directory and which the official `load_pretrain`
 *   of `bae/binaryae.py` skips). That loader strips `ae.` and calls a strict `load_state_dict` on `BinaryAutoEncoder`,
 *   whose state dict also holds tensors the forward pass never uses (docs/algorithm.md §10.2): the 1×1 `conv_out` of
 *   every ResBlock whose input and output widths are equal, and the `generator.logsigma` head. A model directory does
 *   not keep them (the importer drops them), so the export writes them with their official shapes as zeros
 *   ({@link UNUSED_BAE_FILL}): the ResBlocks never apply those `conv_out`, and a zero `logsigma` head gives
 *   log σ = 0 (σ = 1) should ELBO fine-tuning start from it.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CpuTensor, FormatError, parseJsonBounded, throwIfAborted, type LongRunningOptions, type NamedTensors } from '@bigr/core';
import { baeParameterShapes, type BaeConfig } from '@bigr/tokenizer';
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

/** The value of the B-AE tensors the forward pass never uses when a model directory does not have them (see above). */
export const UNUSED_BAE_FILL = 0;

/**
 * The released `binaryae_ema_*.th` layout of tokenizer weights: `ae.` + official name, for every tensor of the official
 * `BinaryAutoEncoder` state dict in module order (encoder, quantizer, generator, `generator.logsigma`). The ones the
 * forward pass never uses are taken from `weights` when present, else written as {@link UNUSED_BAE_FILL}.
 */
export function officialBaeStateDict(config: BaeConfig, weights: NamedTensors): Map<string, CpuTensor> {
  const used = baeParameterShapes(config);
  const out = new Map<string, CpuTensor>();
  for (const [name, shape] of baeParameterShapes(config, { includeUnused: true })) {
    const t = weights.get(name);
    if (t) out.set(`ae.${name}`, new CpuTensor(t.data, t.shape));
    else if (!used.has(name)) out.set(`ae.${name}`, new CpuTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(UNUSED_BAE_FILL), shape));
    else
      throw new FormatError(
        `The tokenizer weights have no "${name}", which its architecture needs; the tokenizer directory is damaged. Re-import or retrain it.`,
      );
  }
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
  const bae = officialBaeStateDict(tok.config.bae, tok.weights);
  const baePath = join(outDir, PYTORCH_BAE_FILE);
  await writeTorchStateDict(baePath, bae);
  files.push(baePath);
  options.onProgress?.({ task: 'export', current: total, total, message: baePath });
  return { files, bigrTensors, baeTensors: bae.size };
}
