/**
 * Shared pieces of the image commands (inpaint, outpaint, edit, interpolate, enrich, encode, decode, hash, search):
 * model/tokenizer loading, bringing image and mask files to the tokenizer's input, the `.bigr` codes
 * container, and grid outputs with their JSON sidecars.
 */
import type { Stats } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { ConfigError, CpuTensor, dims4, NotFoundError, required, sha256OfFile, type Engine, type ProgressCallback, type Tensor } from '@bigr/core';
import type { Command } from 'commander';
import type { Box, SamplingSettings } from '@bigr/sampler';
import { IMAGE_EXTENSIONS, loadRaster, type RasterImage } from '@bigr/tokenizer';
import type { CliContext } from '../context.js';
import { writeGrid } from '../images.js';
import { fitRaster, TokenizerPipeline, type ImageGeometry, unpadImages } from '@bigr/pipeline';
import { writeSidecar } from '../sidecar.js';
import { diffusionStepsOption } from '../diffusionSteps.js';

// ---------------------------------------------------------------------------------------------------------------
// Flags

/** Throws ConfigError unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`--${name} must be an integer in ${min}..${max}, got ${value}.`);
}

/**
 * The request fields every zero-shot app passes to the pipeline: the sampling settings (flags --cfg, --iterations,
 * --gumbel, --budget), --seed, --diffusion-steps, cancellation and progress, and raw decoder output at the tokenizer's
 * size (writeImageOutput removes the padding and clamps).
 */
export function appRequest(
  ctx: Pick<CliContext, 'signal'>,
  cfg: { cfg: number; iterations: number; gumbel: number; budget?: string; seed: number; diffusionSteps: number },
  onProgress: ProgressCallback,
) {
  return {
    cfgScale: cfg.cfg,
    iterations: cfg.iterations,
    gumbelTemperature: cfg.gumbel,
    ...(cfg.budget !== undefined ? { budget: cfg.budget as SamplingSettings['budget'] } : {}),
    seed: cfg.seed,
    // 0: the model's own steps (the pipeline's default; the categorical head has none).
    ...diffusionStepsOption(cfg.diffusionSteps),
    unpad: false,
    clamp: false,
    signal: ctx.signal,
    onProgress,
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
  return cmd.option('--diffusion-steps <n>', "transcoder diffusion steps (default: the model's transcoder.inferenceSteps)");
}

/**
 * Adds the generation flags of `generate` and `eval --model`: --cfg, --cfg-schedule, --iterations, --gumbel,
 * --gumbel-schedule, --order, --confidence, --diffusion-steps.
 */
export function generationOptions(cmd: Command): Command {
  return cmd
    .option('--cfg <s>', 'classifier-free guidance scale')
    .option('--cfg-schedule <kind>', 'guidance scale over the iterations')
    .option('--iterations <n>', 'unmasking iterations')
    .option('--gumbel <t>', 'Gumbel temperature for the unmasking order')
    .option('--gumbel-schedule <kind>', 'Gumbel temperature over the iterations')
    .option('--order <kind>', 'unmasking order')
    .option('--confidence <kind>', 'token confidence: margin (released 2|p-0.5|) or entropy (paper Eq. 8)')
    .option('--diffusion-steps <n>', "transcoder diffusion steps (default: the model's transcoder.inferenceSteps)");
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

/** Hex SHA-256 of a model directory's weights file (identifies the model in sidecars and code files). */
export function weightsHash(dir: string): Promise<string> {
  return sha256OfFile(join(dir, 'model.safetensors'));
}

/** A tokenizer loaded from a BiGR model directory (its `tokenizer/`) or from a tokenizer model directory. */
export type LoadedTokenizer = TokenizerPipeline;

/** Loads the tokenizer of `dir`, which may be a BiGR model directory or a tokenizer model directory. */
export function loadTokenizerFrom(dir: string, engine: Engine): Promise<LoadedTokenizer> {
  return TokenizerPipeline.fromDirectory(dir, engine);
}

// ---------------------------------------------------------------------------------------------------------------
// Images and masks

export { imageGeometry, loadModelImage, loadModelImages, fitRaster, type ImageGeometry } from '@bigr/pipeline';

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
    let s: Stats;
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
      out.push({ path: f, label: parts.length > 1 ? required(parts[0], 'top folder') : null });
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

/**
 * Parses `--box x0,y0,x1,y1[;x0,y0,x1,y1...]` (pixels of the input image; x1, y1 exclusive) into boxes.
 * Throws ConfigError naming the bad box.
 */
export function parseBoxes(text: string): Box[] {
  const boxes: Box[] = [];
  for (const part of text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const v = part.split(',').map((s) => Number(s.trim()));
    if (v.length !== 4 || v.some((x) => !Number.isFinite(x)))
      throw new ConfigError(`--box "${part}" must be four numbers x0,y0,x1,y1 (pixels, x1 and y1 exclusive), e.g. 4,4,20,20.`);
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
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) if (boxes.some((b) => x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1)) data[y * width + x] = 255;
  return { width, height, channels: 1, data };
}

/**
 * A mask raster (white = inside) brought through the image's geometry: center-crop-resized to `inner`, thresholded
 * at 128, then padded by replicating the edge (so a region touching the image border also covers the padding).
 * Returns [1, 1, size, size] uint8 0/1, ready for the sampler's `{ kind: 'image' }` region.
 */
export function maskToModel(mask: RasterImage, geom: ImageGeometry): CpuTensor<'uint8'> {
  const m = fitRaster(mask, geom.inner);
  const { size, pad, inner } = geom;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(inner - 1, Math.max(0, y - pad));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(inner - 1, Math.max(0, x - pad));
      out[y * size + x] = required(m.data[sy * inner + sx], 'mask pixel') >= 128 ? 1 : 0;
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
  const shape = required(parts[0], 'first image batch').shape.slice(1);
  const per = shape.reduce((a, b) => a * b, 1);
  const total = parts.reduce((s, p) => s + dims4(p.shape, 'image batch')[0], 0);
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
  await writeGrid(path, unpadImages(images, geom.pad), Math.max(1, Math.min(cols, dims4(images.shape, 'images')[0])));
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
// Codes container (moved to @bigr/pipeline)

export { CODES_FORMAT, writeCodesFile, readCodesFile, type CodesFile } from '@bigr/pipeline';
