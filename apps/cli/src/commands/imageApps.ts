/**
 * Shared pieces of the image commands (inpaint, outpaint, edit, interpolate, enrich, encode, decode, hash, search):
 * flag typing, model/tokenizer loading, bringing image and mask files to the tokenizer's input, the `.bigr` codes
 * container, and grid outputs with their JSON sidecars.
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import {
  ConfigError,
  CpuTensor,
  FormatError,
  NotFoundError,
  packBits,
  parseJsonBounded,
  readSafetensors,
  sha256OfFile,
  unpackBits,
  writeSafetensors,
  type Engine,
  type NamedTensors,
  type ProgressCallback,
  type Tensor,
} from '@bigr/core';
import type { Command } from 'commander';
import type { Box, SamplingSettings } from '@bigr/sampler';
import { centerCropResize, IMAGE_EXTENSIONS, loadRaster, padImages, rasterToTensor, stackImages, type BaeTokenizer, type RasterImage } from '@bigr/tokenizer';
import type { CommandConfig } from '../config.js';
import type { CliContext } from '../context.js';
import { unpad, writeGrid } from '../images.js';
import { bundledModelDir } from '../modelPaths.js';
import { writeSidecar } from '../sidecar.js';
import { loadTokenizer, type TokenizerModelConfig } from '../tokenizerModelDir.js';
import { BIGR_FORMAT, confinedSubdirectory } from '../bigrModelDir.js';

// ---------------------------------------------------------------------------------------------------------------
// Flags

/** Converts commander flags to the types of `defaults` (numbers checked, booleans from booleans or 'true'/'false'). */
export function configFlags<D extends CommandConfig>(defaults: D, flags: Readonly<Record<string, unknown>>): Partial<D> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (k === 'config' || v === undefined) continue;
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const d = defaults[k];
    if (typeof d === 'number') {
      const n = typeof v === 'number' ? v : Number(v);
      if (typeof v === 'boolean' || String(v).trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag} must be a number, got "${String(v)}".`);
      out[k] = n;
    } else if (typeof d === 'boolean') {
      if (typeof v === 'boolean') out[k] = v;
      else if (v === 'true' || v === 'false') out[k] = v === 'true';
      else throw new ConfigError(`${flag} must be true or false, got "${String(v)}".`);
    } else out[k] = v;
  }
  return out as Partial<D>;
}

/** Throws ConfigError unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`--${name} must be an integer in ${min}..${max}, got ${value}.`);
}

/** Sampling settings shared by the zero-shot apps (flags --cfg, --iterations, --gumbel, --budget). */
export function appSettings(cfg: { cfg: number; iterations: number; gumbel: number; budget?: string }): Partial<SamplingSettings> {
  return {
    cfgScale: cfg.cfg,
    iterations: cfg.iterations,
    gumbelTemperature: cfg.gumbel,
    ...(cfg.budget !== undefined ? { budget: cfg.budget as SamplingSettings['budget'] } : {}),
  };
}

/** Adds the options every image command has: --config, --model. */
export function modelOptions(cmd: Command, what = 'BiGR model directory (default: bundled fashion-mnist model)'): Command {
  return cmd.option('--config <file>', 'JSON file with any of the settings below').option('--model <dir>', what);
}

/** Adds --seed, --cfg, --iterations, --gumbel, --diffusion-steps (and --budget when `budget`). */
export function samplingOptions(cmd: Command, budget: boolean): Command {
  cmd
    .option('--seed <n>', 'random seed (same seed, same bits)')
    .option('--cfg <s>', 'classifier-free guidance scale (no effect for the unconditional apps)')
    .option('--iterations <n>', 'unmasking iterations')
    .option('--gumbel <t>', 'Gumbel temperature of the unmasking order');
  if (budget) cmd.option('--budget <mode>', "schedule budget: 'known' (official; may re-sample some known tokens) or 'masked' (keeps every known token)");
  return cmd.option('--diffusion-steps <n>', 'transcoder diffusion steps');
}

/**
 * Adds the generation flags of `generate` and `eval --model`: --cfg, --cfg-schedule, --iterations, --gumbel,
 * --gumbel-schedule, --order, --confidence, --diffusion-steps.
 */
export function generationOptions(cmd: Command): Command {
  return cmd
    .option('--cfg <s>', 'classifier-free guidance scale')
    .option('--cfg-schedule <kind>', 'constant | linear')
    .option('--iterations <n>', 'unmasking iterations')
    .option('--gumbel <t>', 'Gumbel temperature for the unmasking order')
    .option('--gumbel-schedule <kind>', 'constant | down | up')
    .option('--order <kind>', 'entropy | random | raster')
    .option('--confidence <kind>', 'margin (released 2|p-0.5|) | entropy (paper Eq. 8)')
    .option('--diffusion-steps <n>', 'transcoder diffusion steps');
}

/** Commander parser that joins repeated --box flags with ';'. */
export function collectBoxes(value: string, previous?: string): string {
  return previous ? `${previous};${value}` : value;
}

// ---------------------------------------------------------------------------------------------------------------
// Files and models

/** Throws NotFoundError (exit 3) naming `what` when `path` does not exist. */
export async function requireFile(path: string, what: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new NotFoundError(`${what} ${path} does not exist. Check the path.`);
  }
}

/** The model directory to use: `--model` or the bundled Fashion-MNIST model (with a clear error when it is absent). */
export async function modelDirectory(flag: string): Promise<string> {
  const dir = flag || bundledModelDir();
  try {
    await stat(join(dir, 'config.json'));
  } catch {
    throw new NotFoundError(
      flag
        ? `Model directory ${dir} has no config.json. Pass a directory written by \`bigr train\` (or a tokenizer directory for encode/decode/hash/search).`
        : `The bundled model is not installed at ${dir}. Pass --model <dir> (a directory written by \`bigr train\`).`,
    );
  }
  return dir;
}

/** Hex SHA-256 of a model directory's weights file (identifies the model in sidecars and code files). */
export function weightsHash(dir: string): Promise<string> {
  return sha256OfFile(join(dir, 'model.safetensors'));
}

/** A tokenizer loaded from a BiGR model directory (its `tokenizer/`) or from a tokenizer model directory. */
export interface LoadedTokenizer {
  readonly tokenizer: BaeTokenizer;
  readonly config: TokenizerModelConfig;
  /** The tokenizer model directory. */
  readonly dir: string;
  /** SHA-256 of its weights. */
  readonly hash: string;
}

/** Loads the tokenizer of `dir`, which may be a BiGR model directory or a tokenizer model directory. */
export async function loadTokenizerFrom(dir: string, engine: Engine): Promise<LoadedTokenizer> {
  let config: { format?: unknown; tokenizer?: unknown };
  try {
    const text = await readFile(join(dir, 'config.json'), 'utf8');
    if (text.length > 16 * 1024 * 1024) throw new FormatError(`${dir}/config.json is larger than 16 MB; it is not a model config.`);
    config = parseJsonBounded(text, { source: join(dir, 'config.json') }) as typeof config;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new FormatError(`${dir}/config.json holds ${JSON.stringify(config)}, not a model config object.`);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`Model directory ${dir} has no config.json. Check --model.`);
    throw new FormatError(`${dir}/config.json is not valid JSON (${(err as Error).message}).`);
  }
  const tokDir = config.format === BIGR_FORMAT ? join(dir, confinedSubdirectory(dir, config.tokenizer, 'tokenizer')) : dir;
  const { tokenizer, config: tokCfg } = await loadTokenizer(tokDir, engine);
  return { tokenizer, config: tokCfg, dir: tokDir, hash: await weightsHash(tokDir) };
}

// ---------------------------------------------------------------------------------------------------------------
// Images and masks

/**
 * How files are brought to the tokenizer's input: `channels` (1 = grayscale), the size the file is center-cropped
 * and resized to (`inner`), then `pad` pixels of zero padding on each side (`size` = inner + 2·pad, e.g. 28 → 32 for
 * Fashion-MNIST).
 */
export interface ImageGeometry {
  readonly channels: 1 | 3;
  readonly size: number;
  readonly pad: number;
  readonly inner: number;
}

/** The input geometry of a tokenizer. */
export function imageGeometry(tokenizer: BaeTokenizer, config: TokenizerModelConfig): ImageGeometry {
  const [c, h, w] = tokenizer.imageShape;
  if (h !== w) throw new ConfigError(`The tokenizer takes ${h}×${w} images; only square inputs are supported by the CLI.`);
  const pad = config.pad ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || 2 * pad >= h) throw new ConfigError(`Tokenizer pad ${pad} is invalid for ${h}×${w} inputs.`);
  return { channels: c === 1 ? 1 : 3, size: h, pad, inner: h - 2 * pad };
}

/** One input image: its path and, for files inside a sub-folder of a directory argument, that sub-folder's name. */
export interface ImageInput {
  readonly path: string;
  readonly label: string | null;
}

async function walkImages(dir: string, out: string[], depth: number): Promise<void> {
  if (depth > 16) return;
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const s = await stat(p);
    if (s.isDirectory()) await walkImages(p, out, depth + 1);
    else if (s.isFile() && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase())) out.push(p);
  }
}

/**
 * Expands image arguments: files are taken as given; directories are walked recursively (sorted, hidden entries
 * skipped) for PNG/JPEG files, whose label is the first-level sub-folder they are in (class folders), or null.
 */
export async function listImageInputs(args: readonly string[]): Promise<ImageInput[]> {
  const out: ImageInput[] = [];
  for (const arg of args) {
    let s;
    try {
      s = await stat(arg);
    } catch {
      throw new NotFoundError(`Image or directory ${arg} does not exist. Check the path.`);
    }
    if (!s.isDirectory()) {
      out.push({ path: arg, label: null });
      continue;
    }
    const files: string[] = [];
    await walkImages(arg, files, 0);
    for (const f of files) {
      const parts = relative(arg, f).split(sep);
      out.push({ path: f, label: parts.length > 1 ? parts[0]! : null });
    }
  }
  if (out.length === 0) throw new ConfigError(`No ${IMAGE_EXTENSIONS.join('/')} images found in ${args.join(', ')}.`);
  return out;
}

/** Reads an image file as a raster (PNG/JPEG) with the geometry's channels; NotFoundError when missing. */
export async function readRaster(path: string, channels: 1 | 3, what = 'Image'): Promise<RasterImage> {
  await requireFile(path, what);
  return loadRaster(path, { channels });
}

function fit(raster: RasterImage, side: number): RasterImage {
  return raster.width === side && raster.height === side ? raster : centerCropResize(raster, side);
}

/** An image file as [1, C, size, size] in [0, 1]: center-crop-resized to `inner`, then zero-padded. */
export async function loadModelImage(path: string, geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  const t = rasterToTensor(fit(await readRaster(path, geom.channels), geom.inner));
  const one = new CpuTensor<'float32'>(t.data, [1, ...t.shape]);
  return geom.pad > 0 ? padImages(one, geom.pad) : one;
}

/** Several image files as [B, C, size, size]. */
export async function loadModelImages(paths: readonly string[], geom: ImageGeometry): Promise<CpuTensor<'float32'>> {
  const list: CpuTensor<'float32'>[] = [];
  for (const p of paths) {
    const t = await loadModelImage(p, geom);
    list.push(new CpuTensor<'float32'>(t.data, t.shape.slice(1)));
  }
  return stackImages(list);
}

/**
 * Parses `--box x0,y0,x1,y1[;x0,y0,x1,y1...]` (pixels of the input image; x1, y1 exclusive) into boxes.
 * Throws ConfigError naming the bad box.
 */
export function parseBoxes(text: string): Box[] {
  const boxes: Box[] = [];
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const v = part.split(',').map((s) => Number(s.trim()));
    if (v.length !== 4 || v.some((x) => !Number.isFinite(x))) throw new ConfigError(`--box "${part}" must be four numbers x0,y0,x1,y1 (pixels, x1 and y1 exclusive), e.g. 4,4,20,20.`);
    const [x0, y0, x1, y1] = v as [number, number, number, number];
    if (x1 <= x0 || y1 <= y0) throw new ConfigError(`--box "${part}" is empty: x1 must exceed x0 and y1 must exceed y0.`);
    boxes.push({ x0, y0, x1, y1 });
  }
  if (boxes.length === 0) throw new ConfigError('--box is empty; pass x0,y0,x1,y1 in pixels of the input image.');
  return boxes;
}

/** Rasterises boxes into a white-on-black mask of `width`×`height`. */
export function boxMaskRaster(boxes: readonly Box[], width: number, height: number): RasterImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (boxes.some((b) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1)) data[y * width + x] = 255;
  return { width, height, channels: 1, data };
}

/**
 * A mask raster (white = inside) brought through the image's geometry: center-crop-resized to `inner`, thresholded
 * at 128, then padded by replicating the edge (so a region touching the image border also covers the padding).
 * Returns [1, 1, size, size] uint8 0/1, ready for the sampler's `{ kind: 'image' }` region.
 */
export function maskToModel(mask: RasterImage, geom: ImageGeometry): CpuTensor<'uint8'> {
  const m = fit(mask, geom.inner);
  const { size, pad, inner } = geom;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(inner - 1, Math.max(0, y - pad));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(inner - 1, Math.max(0, x - pad));
      out[y * size + x] = m.data[sy * inner + sx]! >= 128 ? 1 : 0;
    }
  }
  return new CpuTensor(out, [1, 1, size, size]);
}

/** The region of `--mask <file>` or `--box <boxes>` (exactly one) for `imagePath`, at the tokenizer's input size. */
export async function loadRegion(options: { mask: string; box: string; imagePath: string }, geom: ImageGeometry): Promise<CpuTensor<'uint8'>> {
  if ((options.mask === '') === (options.box === '')) throw new ConfigError('Pass exactly one of --mask <mask.png> or --box x0,y0,x1,y1 to choose the region.');
  if (options.mask !== '') {
    const mask = await readRaster(options.mask, 1, 'Mask image');
    return maskToModel(mask, geom);
  }
  const boxes = parseBoxes(options.box);
  const image = await readRaster(options.imagePath, geom.channels);
  return maskToModel(boxMaskRaster(boxes, image.width, image.height), geom);
}

/** A token mask [B, N] as one string of 0/1 per grid row of the first sample (for sidecars). */
export function maskRows(mask: Tensor<'uint8'>, grid: readonly [number, number]): string[] {
  const rows: string[] = [];
  for (let r = 0; r < grid[0]; r++) rows.push(Array.from(mask.data.subarray(r * grid[1], (r + 1) * grid[1]), (v) => (v ? '1' : '0')).join(''));
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs

/** Concatenates image batches [Bi, C, H, W] along the batch axis. */
export function concatImages(parts: readonly Tensor<'float32'>[]): CpuTensor<'float32'> {
  const shape = parts[0]!.shape.slice(1);
  const per = shape.reduce((a, b) => a * b, 1);
  const total = parts.reduce((s, p) => s + p.shape[0]!, 0);
  const out = new Float32Array(total * per);
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return new CpuTensor(out, [total, ...shape]);
}

/** Writes images (at the tokenizer's size; the padding is removed) as a grid PNG and its JSON sidecar. */
export async function writeImageOutput(
  path: string,
  images: Tensor<'float32'>,
  geom: ImageGeometry,
  cols: number,
  sidecar: { command: string; seed?: number; config: unknown; modelHash?: string; extra?: Record<string, unknown> },
): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeGrid(path, unpad(images, geom.pad), Math.max(1, Math.min(cols, images.shape[0]!)));
  return writeSidecar(path, sidecar);
}

/** Default grid columns for `count` images. */
export function gridCols(count: number, cols: number): number {
  return cols > 0 ? cols : Math.ceil(Math.sqrt(count));
}

/** `a.png` + suffix → `a<suffix>.png`. */
export function withSuffix(path: string, suffix: string): string {
  const m = /\.[a-z0-9]+$/i.exec(path);
  return m ? `${path.slice(0, m.index)}${suffix}${m[0]}` : `${path}${suffix}`;
}

/** Runs a long task with a progress display on stderr. */
export async function withProgress<T>(ctx: CliContext, label: string, run: (onProgress: ProgressCallback) => Promise<T>): Promise<T> {
  const progress = ctx.progress(label);
  try {
    return await run(progress.update);
  } finally {
    progress.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Codes container

/** Format tag of a codes file. */
export const CODES_FORMAT = 'bigr-codes';

/** Largest accepted codes-file header (1 MiB: a few thousand source names). */
const MAX_CODES_HEADER = 1024 * 1024;

/**
 * A codes file (`.bigr`): a safetensors file with
 * - tensor `codes`: U8 [B, N·ceil(K/8)], each row one image's bits packed with `packBits` (@bigr/core: bit k of a
 *   token at byte ⌊k/8⌋, bit k mod 8, LSB first; padding bits zero);
 * - optional tensors `source` (same layout: the codes an edit started from) and `regenerated` (U8 [B, N], 1 = token
 *   regenerated);
 * - `__metadata__` (all strings): `format` = "bigr-codes", `version` = "1", `bitsPerToken` K, `tokens` N, `gridRows`,
 *   `gridCols`, `tokenizerHash` (SHA-256 of the tokenizer's model.safetensors), `imageShape` (JSON [C, H, W]),
 *   `pad`, `codeMode` (threshold | bernoulli | sampled) and `sources` (JSON array of the input names, or []).
 * Any safetensors reader opens it; `bigr decode` checks the geometry against the tokenizer.
 */
export interface CodesFile {
  /** Bits [B, N, K]. */
  readonly bits: CpuTensor<'uint8'>;
  /** Latent grid. */
  readonly grid: readonly [number, number];
  /** SHA-256 of the tokenizer weights the codes belong to. */
  readonly tokenizerHash: string;
  /** Tokenizer input [C, H, W]. */
  readonly imageShape: readonly number[];
  /** Padding of the inputs. */
  readonly pad: number;
  /** How the bits were made. */
  readonly codeMode: string;
  /** Input names, one per row (may be empty). */
  readonly sources: readonly string[];
  /** Optional extra bit tensors [B, N, K] or masks, by name. */
  readonly extra?: { readonly source?: CpuTensor<'uint8'>; readonly regenerated?: CpuTensor<'uint8'> };
}

function packedRows(bits: Tensor<'uint8'>): CpuTensor<'uint8'> {
  const p = packBits(bits);
  return new CpuTensor(p.bytes, [p.batch, p.bytes.length / Math.max(1, p.batch)]);
}

/** Writes a codes file atomically. */
export async function writeCodesFile(path: string, codes: CodesFile): Promise<void> {
  const [B, N, K] = codes.bits.shape as [number, number, number];
  const tensors: NamedTensors = new Map();
  tensors.set('codes', packedRows(codes.bits));
  if (codes.extra?.source) tensors.set('source', packedRows(codes.extra.source));
  if (codes.extra?.regenerated) tensors.set('regenerated', codes.extra.regenerated);
  await mkdir(dirname(path), { recursive: true });
  await writeSafetensors(path, tensors, {
    format: CODES_FORMAT,
    version: '1',
    bitsPerToken: String(K),
    tokens: String(N),
    gridRows: String(codes.grid[0]),
    gridCols: String(codes.grid[1]),
    tokenizerHash: codes.tokenizerHash,
    imageShape: JSON.stringify(codes.imageShape),
    pad: String(codes.pad),
    codeMode: codes.codeMode,
    sources: JSON.stringify(codes.sources.length === B ? codes.sources : []),
  });
}

function metaInt(meta: Record<string, string>, key: string, path: string): number {
  const v = Number(meta[key]);
  if (!Number.isSafeInteger(v) || v < 0) throw new FormatError(`${path}: metadata "${key}" is ${JSON.stringify(meta[key])}; expected a non-negative integer. The file is not a valid codes file.`);
  return v;
}

/** Reads and validates a codes file (see {@link CodesFile}). */
export async function readCodesFile(path: string): Promise<CodesFile> {
  await requireFile(path, 'Codes file');
  const { tensors, metadata } = await readSafetensors(path, { maxHeaderBytes: MAX_CODES_HEADER });
  if (metadata['format'] !== CODES_FORMAT) throw new FormatError(`${path} is not a BiGR codes file (metadata format ${JSON.stringify(metadata['format'])}, expected "${CODES_FORMAT}"). Write one with \`bigr encode\`.`);
  if (metadata['version'] !== '1') throw new FormatError(`${path}: codes file version ${JSON.stringify(metadata['version'])} is not supported (expected "1").`);
  const K = metaInt(metadata, 'bitsPerToken', path);
  const N = metaInt(metadata, 'tokens', path);
  const grid = [metaInt(metadata, 'gridRows', path), metaInt(metadata, 'gridCols', path)] as const;
  if (K < 1 || N < 1 || grid[0] * grid[1] !== N) throw new FormatError(`${path}: geometry ${N} tokens (grid ${grid.join('×')}) × ${K} bits is inconsistent.`);
  const unpack = (name: string): CpuTensor<'uint8'> => {
    const t = tensors.get(name);
    if (!t || t.dtype !== 'uint8' || t.shape.length !== 2) throw new FormatError(`${path}: tensor "${name}" must be U8 [B, bytes]; found ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'none'}.`);
    const B = t.shape[0]!;
    return unpackBits({ bytes: t.data as Uint8Array, batch: B, tokens: N, bitsPerToken: K });
  };
  const bits = unpack('codes');
  const parseJson = (key: string): unknown => {
    // Both values are flat arrays (of paths / of numbers): anything nested is corrupt, and is refused before
    // String()/Number() walk it.
    try {
      return parseJsonBounded(metadata[key] ?? 'null', { maxDepth: 1, source: `${path}: metadata "${key}"` });
    } catch (err) {
      throw new FormatError(`${path}: metadata "${key}" is not a flat JSON array (${(err as Error).message}). The codes file is corrupt; re-create it with \`bigr encode\`.`);
    }
  };
  const sourcesRaw = parseJson('sources');
  const sources = Array.isArray(sourcesRaw) ? sourcesRaw.map(String) : [];
  const shapeRaw = parseJson('imageShape');
  const imageShape = Array.isArray(shapeRaw) ? shapeRaw.map(Number) : [];
  const extra: { source?: CpuTensor<'uint8'>; regenerated?: CpuTensor<'uint8'> } = {};
  if (tensors.has('source')) extra.source = unpack('source');
  const reg = tensors.get('regenerated');
  if (reg) {
    if (reg.dtype !== 'uint8' || reg.shape.length !== 2 || reg.shape[1] !== N) throw new FormatError(`${path}: tensor "regenerated" must be U8 [B, ${N}].`);
    extra.regenerated = new CpuTensor(reg.data as Uint8Array, reg.shape);
  }
  return {
    bits,
    grid,
    tokenizerHash: metadata['tokenizerHash'] ?? '',
    imageShape,
    pad: metaInt(metadata, 'pad', path),
    codeMode: metadata['codeMode'] ?? '',
    sources,
    extra,
  };
}
