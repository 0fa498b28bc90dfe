import { basename, join } from 'node:path';
import {
  assertFiniteTensors,
  ConfigError,
  CpuTensor,
  FormatError,
  getOrThrow,
  pathExists,
  throwIfAborted,
  type LongRunningOptions,
  type NamedTensors,
} from '@bigr/core';
import { extractBackboneParameters, gridSide } from '@bigr/backbone';
import { OFFICIAL_DUPLICATE_PREFIX, selectTranscoderParameters } from '@bigr/transcoder';
import { baeParameterShapes, loadBaeParameters } from '@bigr/tokenizer';
import { BIGR_FORMAT, saveBigrModel, type BigrModelConfig } from '../bigrModelDir.js';
import { saveTokenizerModel, TOKENIZER_FORMAT, type TokenizerModelConfig } from '../tokenizerModelDir.js';
import { inferBaeLayout, type InferredBae } from './baeLayout.js';
import { inferBigrLayout, type InferredBigr } from './bigrLayout.js';
import { openCheckpoint, type CheckpointArgValue, type CheckpointLayout, type CheckpointSource, type StateDictEntry } from './checkpointSource.js';
import { listNames } from './keyCheck.js';
import { verifyScheduleBuffers } from './scheduleCheck.js';
import { exportedBaeConfig, exportedConfigOf, withExportedSettings } from './exportedConfig.js';
import type { ExportedBigrConfig } from '../export/pytorchExport.js';

/**
 * `importOfficial`: released BiGR and B-AE checkpoints (docs/algorithm.md §10) → our model directories, reading the files
 * directly (PyTorch zip or safetensors), inferring and verifying the architecture, and reporting what was inferred.
 */

/** Options of {@link importOfficial}. */
export interface ImportOfficialOptions extends LongRunningOptions {
  /** Released BiGR checkpoint (`bigr_*.pt`, or a safetensors export of its state dict). Needs `bae`. */
  readonly bigr?: string;
  /** Released B-AE checkpoint (`binaryae_ema_*.th`, or a safetensors export). Alone: a tokenizer directory is written. */
  readonly bae: string;
  /** Output directory (BiGR model directory with `tokenizer/` inside, or a tokenizer directory for a B-AE alone). */
  readonly out: string;
  /** Class names, index = label. With `bigr` there must be exactly `numClasses` of them. Default: "0", "1", .... */
  readonly classNames?: readonly string[];
  /** Attention head width (heads = D / headDim). Default 64, as released. */
  readonly headDim?: number;
  /** Attention heads (overrides `headDim`). */
  readonly heads?: number;
  /** Nominal image size of a B-AE imported alone (`img_size`); default from the released convention. */
  readonly resolution?: number;
  /** Replace an existing model directory at `out`. Default false. */
  readonly overwrite?: boolean;
}

/** A checkpoint file as it was read. */
export interface ImportedSource {
  /** Path given. */
  readonly path: string;
  /** Container format. */
  readonly layout: CheckpointLayout;
  /** Where the state dict was found (`ema`, `model` or the root). */
  readonly entry: StateDictEntry;
  /** File size in bytes. */
  readonly fileBytes: number;
  /** Tensors in the state dict (before dropping anything). */
  readonly tensors: number;
}

/** What {@link importOfficial} inferred, verified and wrote. */
export interface ImportReport {
  /** `'bigr'`: a BiGR model directory with a tokenizer inside; `'tokenizer'`: a B-AE alone. */
  readonly kind: 'bigr' | 'tokenizer';
  /** The output directory. */
  readonly out: string;
  /** Directory the tokenizer was written to. */
  readonly tokenizerDir: string;
  /** The BiGR part (absent for a B-AE alone). */
  readonly bigr?: {
    readonly source: ImportedSource;
    readonly inferred: InferredBigr;
    /** `args` of the training checkpoint, when stored (provenance only; nothing is taken from it). */
    readonly args?: Readonly<Record<string, CheckpointArgValue>>;
  };
  /** The B-AE part. */
  readonly bae: {
    readonly source: ImportedSource;
    readonly inferred: InferredBae;
    /** Tensors of the GAN training that were dropped: `disc.*` (discriminator) and `perceptual.*` (LPIPS). */
    readonly dropped: { readonly disc: number; readonly perceptual: number };
  };
  /** Class names written. */
  readonly classNames: readonly string[];
  /** Things the user should know. */
  readonly notes: readonly string[];
}

function sourceInfo(src: CheckpointSource): ImportedSource {
  return { path: src.path, layout: src.layout, entry: src.entry, fileBytes: src.fileBytes, tensors: src.shapes.size };
}

/** float64 tensors (a double-precision export) become float32; integer tensors are refused. */
function asFloat32(tensors: NamedTensors, source: string): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, t] of tensors) {
    if (t.dtype === 'float32') out.set(name, t);
    else if (t.dtype === 'float64') out.set(name, new CpuTensor(Float32Array.from(t.data as Float64Array), t.shape));
    else
      throw new FormatError(`${source}: tensor "${name}" has dtype ${t.dtype}; model weights must be floating point. The file is not a released checkpoint.`);
  }
  return out;
}

/** Splits a B-AE checkpoint's names: `ae.*` kept (prefix stripped), `disc.*`/`perceptual.*` dropped, anything else unknown. */
function splitBaeNames(src: CheckpointSource): { shapes: Map<string, readonly number[]>; fileName: Map<string, string>; disc: number; perceptual: number } {
  const names = [...src.shapes.keys()];
  const prefixed = names.some((n) => n.startsWith('ae.'));
  const shapes = new Map<string, readonly number[]>();
  const fileName = new Map<string, string>();
  const unknown: string[] = [];
  let disc = 0;
  let perceptual = 0;
  for (const [n, shape] of src.shapes) {
    if (n.startsWith('disc.')) disc++;
    else if (n.startsWith('perceptual.')) perceptual++;
    else if (prefixed && !n.startsWith('ae.')) unknown.push(n);
    else {
      const stripped = prefixed ? n.slice(3) : n;
      shapes.set(stripped, shape);
      fileName.set(stripped, n);
    }
  }
  if (unknown.length > 0) {
    throw new FormatError(
      `B-AE checkpoint ${src.path} has ${unknown.length} unknown key(s) outside ae.*, disc.* and perceptual.*: ${listNames(unknown)}. ` +
        'A released binaryae_ema_*.th holds only these three groups (docs/algorithm.md §10.2); pass it unmodified.',
    );
  }
  if (shapes.size === 0) {
    throw new FormatError(
      `B-AE checkpoint ${src.path} holds no autoencoder tensors (no ae.* keys, only disc.*/perceptual.*). ` +
        `Pass the binaryae_ema_*.th file of the B-AE (docs/algorithm.md §10.2).`,
    );
  }
  return { shapes, fileName, disc, perceptual };
}

/**
 * Imports released checkpoints into our model-directory format.
 *
 * - `bae` (required): a released B-AE (`binaryae_ema_*.th`: keys `ae.*` are kept with the prefix stripped,
 *   `disc.*` and `perceptual.*` dropped) or a safetensors export (with or without the `ae.` prefix). Its
 *   architecture (nf, ch_mult, res_blocks, attention levels, emb_dim, K, 256 vs 512 px variant) is inferred from
 *   the block structure and shapes and every key is checked.
 * - `bigr` (optional): a released BiGR checkpoint (`bigr_*.pt`: `ckpt["ema"]`, else `ckpt["model"]`, else a raw
 *   state dict) or a safetensors export. D, L, K, N, classes, Dh, blocks and T are inferred from shapes; heads =
 *   D / headDim (64 as released). The duplicate denoiser copy must equal the primary one and the scheduler buffers
 *   the recomputed linear schedule.
 *
 * Missing, unknown or mis-shaped keys are a {@link FormatError} listing them; nothing is written unless both files
 * pass. With `bigr`, `out` becomes a BiGR model directory (`saveBigrModel`) with the B-AE in `out/tokenizer`;
 * without, `out` is a tokenizer directory (`saveTokenizerModel`), e.g. for binary hashing. Returns what was
 * inferred (see {@link formatImportReport}).
 */
export async function importOfficial(options: ImportOfficialOptions): Promise<ImportReport> {
  const { signal, onProgress } = options;
  if (!options.bae) throw new ConfigError('importOfficial needs the B-AE checkpoint (--bae binaryae_*.th): a BiGR model decodes its codes with it.');
  if (!options.out) throw new ConfigError('importOfficial needs an output directory (--out <dir>).');
  if (!options.overwrite && (await pathExists(join(options.out, 'config.json')))) {
    throw new ConfigError(`${options.out} already holds a model (config.json exists). Choose another --out directory, or pass --force to replace it.`);
  }
  const stages = options.bigr ? 6 : 3;
  let stage = 0;
  const step = (message: string): void => {
    throwIfAborted(signal, 'import');
    onProgress?.({ task: 'import', current: stage++, total: stages, message });
  };
  const notes: string[] = [];
  const readOptions = { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) };

  // 1. Inspect both files (names and shapes only) and infer the architectures.
  step('inspecting checkpoints');
  let bigrSrc: CheckpointSource | undefined;
  let bigr: InferredBigr | undefined;
  let exported: ExportedBigrConfig | undefined;
  if (options.bigr) {
    bigrSrc = await openCheckpoint(options.bigr, 'BiGR checkpoint', 'training-checkpoint');
    bigr = inferBigrLayout(bigrSrc.shapes, {
      source: `BiGR checkpoint ${options.bigr}${bigrSrc.entry === 'root' ? '' : ` ("${bigrSrc.entry}" state dict)`}`,
      ...(options.headDim !== undefined ? { headDim: options.headDim } : {}),
      ...(options.heads !== undefined ? { heads: options.heads } : {}),
    });
    exported = exportedConfigOf(bigrSrc.args, options.bigr);
    if (exported?.backbone && options.heads === undefined && options.headDim === undefined) {
      bigr = inferBigrLayout(bigrSrc.shapes, { source: `BiGR checkpoint ${options.bigr}`, heads: exported.backbone.heads });
    }
    if (exported) {
      bigr = withExportedSettings(bigr, exported, `BiGR checkpoint ${options.bigr}`);
      notes.push(
        `${basename(options.bigr)} was written by \`bigr export --format pytorch\`; ` +
          `heads, class names, padding and the tokenizer's normalisation come from its args.bigr_config.`,
      );
    }
    if (bigrSrc.entry === 'model')
      notes.push(`${basename(options.bigr)} has no "ema" entry; the non-EMA "model" weights were imported (released checkpoints hold EMA weights).`);
  }
  const baeSrc = await openCheckpoint(options.bae, 'B-AE checkpoint', 'root');
  const baeNames = splitBaeNames(baeSrc);
  const grid = bigr ? gridSide(bigr.backbone) : undefined;
  if (grid !== undefined && options.resolution !== undefined) {
    throw new ConfigError(
      `--resolution applies to a B-AE imported alone; with --bigr the image size follows the BiGR grid (${grid}×${grid} tokens). Omit --resolution.`,
    );
  }
  let bae = inferBaeLayout(baeNames.shapes, {
    source: `B-AE checkpoint ${options.bae}`,
    ...(grid !== undefined ? { gridSide: grid } : {}),
    ...(options.resolution !== undefined ? { resolution: options.resolution } : {}),
    ...(exported ? { normGroups: exported.bae.normGroups } : {}),
  });
  if (exported) bae = { ...bae, config: exportedBaeConfig(bae.config, exported.bae, `B-AE checkpoint ${options.bae}`) };
  notes.push(...bae.notes);
  if (bigr && bae.config.codeDim !== bigr.backbone.bitsPerToken) {
    throw new ConfigError(
      `The B-AE has K = ${bae.config.codeDim} bits per token but the BiGR model expects K = ${bigr.backbone.bitsPerToken}. ` +
        `Pair each BiGR checkpoint with the B-AE of the same code width (d${bigr.backbone.bitsPerToken}); see docs/importing-official-models.md.`,
    );
  }
  const classNames = options.classNames
    ? [...options.classNames]
    : exported
      ? [...exported.classNames]
      : bigr
        ? Array.from({ length: bigr.backbone.numClasses }, (_, i) => String(i))
        : [];
  if (bigr && classNames.length !== bigr.backbone.numClasses) {
    throw new ConfigError(
      `The class-name list has ${classNames.length} entries but the model has ${bigr.backbone.numClasses} classes (label table rows − 1). ` +
        `Pass one name per class, in label order.`,
    );
  }

  // 2. Read the B-AE tensors the forward pass uses.
  step('reading B-AE weights');
  const used = [...baeParameterShapes(bae.config).keys()];
  // inferBaeLayout checked that the file holds every tensor of the architecture.
  const fileOf = (n: string): string => getOrThrow(baeNames.fileName, n, 'B-AE tensor');
  const baeRaw = await baeSrc.read(used.map(fileOf), readOptions);
  const renamed = new Map<string, CpuTensor>();
  for (const n of used) renamed.set(n, getOrThrow(baeRaw, fileOf(n), 'B-AE tensor read'));
  const baeWeights = loadBaeParameters(bae.config, asFloat32(renamed, `B-AE checkpoint ${options.bae}`));

  // 3. Read and verify the BiGR tensors.
  let bigrWeights: NamedTensors | undefined;
  if (bigr && bigrSrc) {
    step('reading BiGR weights');
    const source = `BiGR checkpoint ${bigrSrc.path}`;
    const names = [...bigrSrc.shapes.keys()];
    const tensors = asFloat32(await bigrSrc.read(names, readOptions), source);
    step('verifying denoiser copies and scheduler buffers');
    const sizes = {
      bitsPerToken: bigr.transcoder.bitsPerToken,
      featureDim: bigr.transcoder.featureDim,
      width: bigr.transcoder.width,
      blocks: bigr.transcoder.blocks,
      prefix: 'denoise_mlp',
    };
    const other = bigr.denoiserPrefix === 'denoise_mlp' ? OFFICIAL_DUPLICATE_PREFIX : 'denoise_mlp';
    let denoiser: NamedTensors;
    try {
      denoiser = selectTranscoderParameters(tensors, sizes, { sourcePrefix: bigr.denoiserPrefix, ...(bigr.hasDuplicate ? { duplicatePrefix: other } : {}) });
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new FormatError(`${source}: ${err.message} Re-download the checkpoint, or export only one copy of the denoiser.`, { cause: err });
      }
      throw err;
    }
    verifyScheduleBuffers(tensors, bigr.transcoder.timesteps, source);
    // only the backbone and one denoiser copy are kept; the duplicate and the buffers are dropped with `tensors`
    bigrWeights = new Map([...extractBackboneParameters(tensors, bigr.backbone), ...denoiser]);
  }

  // 4. Write: the tokenizer first, the BiGR config.json last (its presence marks a complete directory).
  const tokenizerDir = bigr ? join(options.out, 'tokenizer') : options.out;
  step('writing tokenizer');
  const importedFrom = (src: CheckpointSource): Record<string, unknown> => ({
    file: basename(src.path),
    layout: src.layout,
    entry: src.entry,
    bytes: src.fileBytes,
  });
  const tokenizerConfig: TokenizerModelConfig = {
    format: TOKENIZER_FORMAT,
    version: 1,
    bae: bae.config,
    pad: exported?.pad ?? 0,
    classNames,
    training: { command: 'bigr import', importedFrom: importedFrom(baeSrc), variant: bae.variant },
  };
  // Imports always refuse NaN/Inf weights (a corrupt download would otherwise load silently and sample noise).
  assertFiniteTensors(baeWeights, options.bae);
  if (bigrWeights) assertFiniteTensors(bigrWeights, options.bigr ?? 'the BiGR checkpoint');
  await saveTokenizerModel(tokenizerDir, tokenizerConfig, baeWeights);
  if (bigr && bigrSrc && bigrWeights) {
    step('writing BiGR model');
    const config: BigrModelConfig = {
      format: BIGR_FORMAT,
      version: 1,
      backbone: bigr.backbone,
      transcoder: bigr.transcoder,
      classNames,
      tokenizer: 'tokenizer',
      training: {
        command: 'bigr import',
        importedFrom: importedFrom(bigrSrc),
        ...(bigr.preset ? { preset: bigr.preset } : {}),
        ...(bigrSrc.args ? { args: bigrSrc.args } : {}),
      },
    };
    await saveBigrModel(options.out, config, bigrWeights, tokenizerDir);
  }
  onProgress?.({ task: 'import', current: stages, total: stages, message: 'done' });
  return {
    kind: bigr ? 'bigr' : 'tokenizer',
    out: options.out,
    tokenizerDir,
    ...(bigr && bigrSrc ? { bigr: { source: sourceInfo(bigrSrc), inferred: bigr, ...(bigrSrc.args ? { args: bigrSrc.args } : {}) } } : {}),
    bae: { source: sourceInfo(baeSrc), inferred: bae, dropped: { disc: baeNames.disc, perceptual: baeNames.perceptual } },
    classNames,
    notes,
  };
}
