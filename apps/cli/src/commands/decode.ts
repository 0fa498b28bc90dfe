import type { Command } from 'commander';
import { ConfigError, CpuTensor, getOrThrow, type ProgressCallback, type Tensor } from '@bigr/core';
import { concatBatches, createTokenizerPool, decodeOnPool } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { guardOutputsWithSidecars, modelInputFiles, sidecarPath } from '../outputs.js';
import { inferenceEngine } from '../engines.js';
import { checkInt, gridCols, imageGeometry, loadTokenizerFrom, modelOptions, readCodesFile, withProgress, writeImageOutput } from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr decode`. */
export const DECODE_DEFAULTS = {
  model: '',
  out: 'decoded.png',
  cols: 0,
};

/** Codes per tokenizer worker call. */
const DECODE_CHUNK = 64;

/** Decodes more than one chunk of codes on tokenizer workers (every core), two chunks per worker in flight, in order. */
async function decodeOnWorkers(modelDir: string, bits: Tensor<'uint8'>, signal: AbortSignal, onProgress: ProgressCallback): Promise<CpuTensor<'float32'>> {
  const [B, N, K] = bits.shape as [number, number, number];
  const pool = await createTokenizerPool(modelDir);
  const parts: CpuTensor<'float32'>[] = [];
  const inFlight = new Map<number, Promise<CpuTensor<'float32'>>>();
  const start = (s: number): void => {
    const b = Math.min(DECODE_CHUNK, B - s);
    const chunk = new CpuTensor<'uint8'>(bits.data.slice(s * N * K, (s + b) * N * K), [b, N, K]);
    const p = decodeOnPool(pool, chunk, { unpad: false, clamp: false }, signal);
    p.catch(() => undefined); // awaited in order below
    inFlight.set(s, p);
  };
  try {
    let next = 0;
    for (; next < B && inFlight.size < 2 * pool.size; next += DECODE_CHUNK) start(next);
    for (let s = 0; s < B; s += DECODE_CHUNK) {
      parts.push(await getOrThrow(inFlight, s, 'started chunk'));
      inFlight.delete(s);
      if (next < B) {
        start(next);
        next += DECODE_CHUNK;
      }
      onProgress({ task: 'decode', current: Math.min(B, s + DECODE_CHUNK), total: B });
    }
  } finally {
    await Promise.allSettled(inFlight.values());
    await pool.dispose();
  }
  return concatBatches(parts);
}

/** Flags of `bigr decode` as given on the command line. */
export type DecodeFlags = GivenFlags<typeof DECODE_DEFAULTS>;

/** `bigr decode <codes.bigr>`: decodes a codes file with the tokenizer and writes the images as one grid PNG. */
export async function decodeCommand(ctx: CliContext, codesPath: string, flags: DecodeFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'decode',
    defaults: DECODE_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  checkInt('cols', cfg.cols, 0, 4096);
  const modelDir = await modelDirectory(cfg.model);
  await guardOutputsWithSidecars('decode', ctx.force, [cfg.out], [flags.config, codesPath, sidecarPath(codesPath), ...modelInputFiles(modelDir)]);
  const codes = await readCodesFile(codesPath);
  const engine = await inferenceEngine();
  const tok = await loadTokenizerFrom(modelDir, engine);
  const [B, N, K] = codes.bits.shape as [number, number, number];
  if (N !== tok.tokenizer.tokens || K !== tok.tokenizer.bitsPerToken) {
    throw new ConfigError(
      `${codesPath} holds codes of ${codes.grid.join('×')} tokens × ${K} bits but the tokenizer in ${tok.dir} uses ${tok.tokenizer.grid.join('×')} × ` +
        `${tok.tokenizer.bitsPerToken}. Decode with the model the codes were encoded with (--model).`,
    );
  }
  if (codes.tokenizerHash && codes.tokenizerHash !== tok.hash)
    ctx.warn(
      `${codesPath} was encoded with another tokenizer (hash ${codes.tokenizerHash.slice(0, 12)}, this one ${tok.hash.slice(0, 12)}); ` +
        `the images will not match.`,
    );
  const geom = imageGeometry(tok.tokenizer, tok.config);
  const images = await withProgress(ctx, 'decode', async (onProgress) => {
    if (B > DECODE_CHUNK) return decodeOnWorkers(modelDir, codes.bits, ctx.signal, onProgress);
    const out = await tok.decode(codes.bits, { unpad: false, clamp: false });
    onProgress({ task: 'decode', current: B, total: B });
    return out;
  });
  const sidecar = await writeImageOutput(cfg.out, images, geom, gridCols(B, cfg.cols), {
    command: 'decode',
    config: cfg,
    modelHash: tok.hash,
    extra: { codes: codesPath, tokenizer: tok.dir, engine: engine.name, images: B, codeMode: codes.codeMode, sources: codes.sources },
  });
  ctx.out(`wrote ${cfg.out} (${B} images) and ${sidecar}`);
  ctx.result({ ok: true, command: 'decode', outputs: [cfg.out, sidecar], images: B, grid: codes.grid, bitsPerToken: K, config: cfg });
}

/** Registers `bigr decode`. */
export function registerDecode(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('decode')
    .description('decode a .bigr codes file to images (one grid PNG)')
    .argument('<codes>', 'codes file written by bigr encode');
  modelOptions(cmd, 'BiGR model or tokenizer directory the codes belong to (default: bundled fashion-mnist model)')
    .option('--out <file.png>', 'output grid PNG (a .json sidecar is written beside it)')
    .option('--cols <n>', 'grid columns (default: square)')
    .action(async (codes: string, _flags: unknown, cmd: Command) => decodeCommand(ctx(), codes, givenFlags(cmd, DECODE_DEFAULTS)));
}
