import type { Command } from 'commander';
import { ConfigError, type CpuTensor, getOrThrow, type ProgressCallback } from '@bigr/core';
import { concatBatches, createTokenizerPool, encodeFilesOnPool } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { inferenceEngine } from '../engines.js';
import { writeSidecar } from '../sidecar.js';
import { guardOutputsWithSidecars, modelInputFiles } from '../outputs.js';
import { listImageInputs, loadTokenizerFrom, modelOptions, writeCodesFile } from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr encode`. */
export const ENCODE_DEFAULTS = {
  model: '',
  out: 'codes.bigr',
  codeMode: 'threshold',
  seed: 0,
};

/** Images per tokenizer worker call of `bigr encode`. */
const ENCODE_CHUNK = 64;

/** Threshold codes of image files on a pool of tokenizer workers, two chunks per worker in flight, in input order. */
async function encodeOnPool(modelDir: string, paths: readonly string[], ctx: CliContext, onProgress: ProgressCallback): Promise<CpuTensor<'uint8'>> {
  const pool = await createTokenizerPool(modelDir);
  const parts: CpuTensor<'uint8'>[] = [];
  const inFlight = new Map<number, Promise<CpuTensor<'uint8'>>>();
  const start = (s: number): void => {
    const p = encodeFilesOnPool(pool, { paths: paths.slice(s, s + ENCODE_CHUNK), mode: 'threshold' }, ctx.signal).then((r) => r.bits);
    p.catch(() => undefined); // awaited in order below
    inFlight.set(s, p);
  };
  try {
    let next = 0;
    for (; next < paths.length && inFlight.size < 2 * pool.size; next += ENCODE_CHUNK) start(next);
    for (let s = 0; s < paths.length; s += ENCODE_CHUNK) {
      parts.push(await getOrThrow(inFlight, s, 'started chunk'));
      inFlight.delete(s);
      if (next < paths.length) {
        start(next);
        next += ENCODE_CHUNK;
      }
      onProgress({ task: 'encode', current: Math.min(paths.length, s + ENCODE_CHUNK), total: paths.length });
    }
  } finally {
    await Promise.allSettled(inFlight.values());
    await pool.dispose();
  }
  return concatBatches(parts);
}

/** Flags of `bigr encode` as given on the command line. */
export type EncodeFlags = GivenFlags<typeof ENCODE_DEFAULTS>;

/**
 * `bigr encode <images...>`: encodes images with the tokenizer (B-AE) to binary codes and writes them packed in a
 * `.bigr` codes file (a safetensors file, see {@link writeCodesFile}); threshold codes by default (deterministic),
 * or Bernoulli codes (`--code-mode bernoulli`, seeded) as the official pipeline draws them.
 */
export async function encodeCommand(ctx: CliContext, paths: readonly string[], flags: EncodeFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'encode',
    defaults: ENCODE_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  if (cfg.codeMode !== 'threshold' && cfg.codeMode !== 'bernoulli')
    throw new ConfigError(`--code-mode must be 'threshold' (deterministic) or 'bernoulli' (official sampling), got "${cfg.codeMode}".`);
  const inputs = await listImageInputs(paths);
  const modelDir = await modelDirectory(cfg.model);
  await guardOutputsWithSidecars('encode', ctx.force, [cfg.out], [flags.config, ...inputs.map((i) => i.path), ...modelInputFiles(modelDir)]);
  const engine = await inferenceEngine();
  const tok = await loadTokenizerFrom(modelDir, engine);
  const N = tok.tokens;
  const K = tok.bitsPerToken;
  const progress = ctx.progress('encode');
  let bits: CpuTensor<'uint8'>;
  try {
    if (cfg.codeMode === 'threshold' && inputs.length > ENCODE_CHUNK) {
      // Threshold codes do not depend on batching: read, decode and encode 64-image chunks on tokenizer workers
      // (every core). Bernoulli codes draw from one stream in image order and stay on this thread.
      bits = await encodeOnPool(
        modelDir,
        inputs.map((i) => i.path),
        ctx,
        progress.update,
      );
    } else {
      ({ bits } = await tok.encode(
        inputs.map((i) => i.path),
        { mode: cfg.codeMode as 'threshold' | 'bernoulli', seed: cfg.seed, signal: ctx.signal, onProgress: progress.update },
      ));
    }
  } finally {
    progress.stop();
  }
  await writeCodesFile(cfg.out, tok.codesFile(bits, { codeMode: cfg.codeMode, sources: inputs.map((i) => i.path) }));
  const sidecar = await writeSidecar(cfg.out, {
    command: 'encode',
    seed: cfg.seed,
    config: cfg,
    modelHash: tok.hash,
    extra: { tokenizer: tok.dir, engine: engine.name, images: inputs.length, grid: tok.tokenizer.grid, bitsPerToken: K },
  });
  const bytes = inputs.length * N * Math.ceil(K / 8);
  ctx.out(`wrote ${cfg.out} (${inputs.length} images × ${tok.tokenizer.grid.join('×')} tokens × ${K} bits, ${bytes} code bytes) and ${sidecar}`);
  ctx.result({
    ok: true,
    command: 'encode',
    outputs: [cfg.out, sidecar],
    images: inputs.length,
    grid: tok.tokenizer.grid,
    tokens: N,
    bitsPerToken: K,
    tokenizerHash: tok.hash,
    codeMode: cfg.codeMode,
    config: cfg,
  });
}

/** Registers `bigr encode`. */
export function registerEncode(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('encode')
    .description('encode images to packed binary codes (.bigr: safetensors of packed bits + geometry and tokenizer hash)')
    .argument('<images...>', 'PNG/JPEG files or directories');
  modelOptions(cmd, 'BiGR model or tokenizer directory (default: bundled fashion-mnist model)')
    .option('--out <file.bigr>', 'codes file to write')
    .option('--code-mode <mode>', "'threshold' (deterministic, default) or 'bernoulli' (official sampling, uses --seed)")
    .option('--seed <n>', 'random seed for bernoulli codes')
    .action(async (images: string[], _flags: unknown, cmd: Command) => encodeCommand(ctx(), images, givenFlags(cmd, ENCODE_DEFAULTS)));
}
