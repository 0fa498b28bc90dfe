import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, createRng, FormatError, getOrThrow, packBits, parseJsonBounded, type PackedCodes, pathExists } from '@bigr/core';
import { HashIndex, type BaeTokenizer } from '@bigr/tokenizer';
import { createTokenizerPool, encodeFilesOnPool } from '@bigr/pipeline';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { inferenceEngine } from '../engines.js';
import { writeSidecar } from '../sidecar.js';
import { checkOutputs, legacySidecarPath, modelInputFiles, sidecarPath, writtenByCommand } from '../outputs.js';
import { listImageInputs, loadTokenizerFrom, modelOptions } from './imageApps.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr hash`. */
export const HASH_DEFAULTS = {
  model: '',
  index: 'index.bhx',
  codeMode: 'threshold',
  seed: 0,
  workers: 0,
};

/** Flags of `bigr hash` as given on the command line. */
export type HashFlags = GivenFlags<typeof HASH_DEFAULTS>;

/** One indexed image, stored in the index's JSON sidecar (the index file itself holds codes and ids only). */
export interface IndexEntry {
  /** Id stored in the index (= position). */
  readonly id: number;
  /** Image path as given when it was hashed (null when unknown). */
  readonly path: string | null;
  /** Class folder name, or null. */
  readonly label: string | null;
}

/** What the JSON sidecar of an index holds besides the usual provenance. */
export interface IndexMetadata {
  readonly entries: readonly IndexEntry[];
  readonly tokenizerHash: string | null;
  readonly codeMode: string | null;
}

/** Path of the JSON sidecar of `indexPath` (`index.bhx` → `index.bhx.json`, as {@link writeSidecar} names it). */
export function indexSidecarPath(indexPath: string): string {
  return sidecarPath(indexPath);
}

/**
 * Reads the entries and tokenizer hash of an index from its sidecar (`index.bhx.json`, or `index.json` as written
 * before 0.2 when it names this index); null when the sidecar is missing.
 */
export async function readIndexMetadata(indexPath: string): Promise<IndexMetadata | null> {
  let path = indexSidecarPath(indexPath);
  if (!(await pathExists(path)) && (await writtenByCommand(legacySidecarPath(indexPath), 'hash', indexPath))) path = legacySidecarPath(indexPath);
  let text: string;
  try {
    if ((await stat(path)).size > 512 * 1024 * 1024) throw new FormatError(`${path} is larger than 512 MB; it is not an index sidecar.`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof FormatError) throw err;
    return null;
  }
  let raw: { entries?: unknown; tokenizerHash?: unknown; codeMode?: unknown };
  try {
    raw = parseJsonBounded(text, { source: path }) as typeof raw;
  } catch (err) {
    throw new FormatError(`${path} is not valid JSON (${(err as Error).message}); it should be the sidecar \`bigr hash\` wrote beside ${indexPath}.`);
  }
  if (typeof raw !== 'object' || raw === null)
    throw new FormatError(
      `${path} is ${JSON.stringify(raw)}, not the JSON object \`bigr hash\` writes beside ${indexPath}. Rebuild the index with \`bigr hash\`.`,
    );
  if (!Array.isArray(raw.entries))
    throw new FormatError(`${path} has no "entries" list; it is not the sidecar of a hash index. Rebuild the index with \`bigr hash\`.`);
  const entries = (raw.entries as Partial<IndexEntry>[]).map((e, i) => ({
    id: typeof e.id === 'number' ? e.id : i,
    path: typeof e.path === 'string' ? e.path : null,
    label: typeof e.label === 'string' ? e.label : null,
  }));
  return {
    entries,
    tokenizerHash: typeof raw.tokenizerHash === 'string' ? raw.tokenizerHash : null,
    codeMode: typeof raw.codeMode === 'string' ? raw.codeMode : null,
  };
}

/** Hash codes of images with `codeMode` ('threshold': deterministic `tokenizer.hash`; 'bernoulli': seeded draws). */
export async function hashImages(tokenizer: BaeTokenizer, images: Parameters<BaeTokenizer['hash']>[0], codeMode: string, seed: number): Promise<PackedCodes> {
  if (codeMode === 'threshold') return tokenizer.hash(images);
  const { bits } = await tokenizer.encode(images, { mode: 'bernoulli', rng: createRng(seed) });
  return packBits(bits);
}

/** Images per tokenizer batch. */
const CHUNK = 64;

/**
 * `bigr hash <images...|dir> --index index.bhx`: hashes images with the tokenizer only (threshold codes by default,
 * so equal images always get equal hashes) into a Hamming {@link HashIndex}, creating it or appending to it.
 * Paths and class-folder labels go to the index's JSON sidecar (`index.json`), ids are positions.
 */
export async function hashCommand(ctx: CliContext, paths: readonly string[], flags: HashFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'hash',
    defaults: HASH_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  if (cfg.codeMode !== 'threshold' && cfg.codeMode !== 'bernoulli')
    throw new ConfigError(`--code-mode must be 'threshold' (stable hashes, default) or 'bernoulli', got "${cfg.codeMode}".`);
  const inputs = await listImageInputs(paths);
  const modelDir = await modelDirectory(cfg.model);
  await checkOutputs({
    command: 'hash',
    force: ctx.force,
    inputs: [flags.config, ...inputs.map((i) => i.path), ...modelInputFiles(modelDir)],
    outputs: [
      { path: cfg.index, appends: true },
      { path: indexSidecarPath(cfg.index), output: cfg.index },
    ],
  });
  const engine = await inferenceEngine();
  const tok = await loadTokenizerFrom(modelDir, engine);

  let index: HashIndex;
  let entries: IndexEntry[] = [];
  const existed = await pathExists(cfg.index);
  if (existed) {
    index = await HashIndex.load(cfg.index);
    const meta = await readIndexMetadata(cfg.index);
    if (meta?.tokenizerHash && meta.tokenizerHash !== tok.hash) {
      throw new ConfigError(
        `${cfg.index} was built with another tokenizer (hash ${meta.tokenizerHash.slice(0, 12)}, this one ${tok.hash.slice(0, 12)}); ` +
          `its Hamming distances would be meaningless. Use the same --model or a new --index.`,
      );
    }
    if (meta?.codeMode && meta.codeMode !== cfg.codeMode) ctx.warn(`${cfg.index} holds ${meta.codeMode} codes; appending ${cfg.codeMode} codes.`);
    if (!meta) ctx.warn(`${indexSidecarPath(cfg.index)} is missing; the ${index.size} existing entries will have no paths.`);
    entries = meta ? [...meta.entries] : [];
    for (let i = entries.length; i < index.size; i++) entries.push({ id: index.id(i), path: null, label: null });
    entries = entries.slice(0, index.size);
  } else {
    index = new HashIndex(tok.tokenizer.tokens, tok.tokenizer.bitsPerToken, inputs.length);
  }
  const known = new Set(entries.flatMap((e) => (e.path !== null ? [resolve(e.path)] : [])));
  const fresh = inputs.filter((i) => !known.has(resolve(i.path)));
  if (fresh.length < inputs.length) ctx.info(`skipping ${inputs.length - fresh.length} image(s) already in ${cfg.index}`);

  if (!Number.isInteger(cfg.workers) || cfg.workers < 0 || cfg.workers > 1024)
    throw new ConfigError(`--workers must be an integer in 0..1024 (0 = every core), got ${cfg.workers}.`);
  const progress = ctx.progress('hash');
  // More than one chunk: read, decode and encode the chunks on a pool of tokenizer workers (every core), several in
  // flight; chunk s has seed --seed + s either way, so the codes are the same as on one thread.
  const chunks = Math.ceil(fresh.length / CHUNK);
  const pool = chunks > 1 && cfg.workers !== 1 ? await createTokenizerPool(modelDir, cfg.workers > 0 ? { workers: cfg.workers } : {}) : null;
  const encodeChunk = (s: number): Promise<PackedCodes> => {
    const args = { mode: cfg.codeMode as 'threshold' | 'bernoulli', seed: cfg.seed + s };
    const paths = fresh.slice(s, s + CHUNK).map((i) => i.path);
    return pool
      ? encodeFilesOnPool(pool, { paths, ...args }, ctx.signal).then((r) => r.packed)
      : tok.encode(paths, { ...args, signal: ctx.signal }).then((r) => r.packed);
  };
  const inFlight = new Map<number, Promise<PackedCodes>>();
  const start = (s: number): void => {
    const p = encodeChunk(s);
    p.catch(() => undefined); // awaited in order below
    inFlight.set(s, p);
  };
  try {
    let next = 0;
    for (; next < fresh.length && inFlight.size < (pool ? 2 * pool.size : 1); next += CHUNK) start(next);
    for (let s = 0; s < fresh.length; s += CHUNK) {
      const chunk = fresh.slice(s, s + CHUNK);
      const codes = await getOrThrow(inFlight, s, 'started chunk');
      inFlight.delete(s);
      if (next < fresh.length) {
        start(next);
        next += CHUNK;
      }
      const first = index.size;
      index.add(
        codes,
        chunk.map((_, j) => first + j),
      );
      chunk.forEach((inp, j) => {
        entries.push({ id: first + j, path: inp.path, label: inp.label });
      });
      progress.update({ task: 'hash', current: s + chunk.length, total: fresh.length });
    }
  } finally {
    progress.stop();
    await Promise.allSettled(inFlight.values());
    await pool?.dispose();
  }
  await mkdir(dirname(cfg.index), { recursive: true });
  await index.save(cfg.index);
  const sidecar = await writeSidecar(cfg.index, {
    command: 'hash',
    seed: cfg.seed,
    config: cfg,
    modelHash: tok.hash,
    extra: {
      tokenizer: tok.dir,
      tokenizerHash: tok.hash,
      codeMode: cfg.codeMode,
      tokens: index.tokens,
      bitsPerToken: index.bitsPerToken,
      size: index.size,
      entries,
    },
  });
  ctx.out(
    `${existed ? 'appended' : 'indexed'} ${fresh.length} image(s); ` +
      `${cfg.index} now holds ${index.size} codes of ${index.tokens}×${index.bitsPerToken} bits (${sidecar})`,
  );
  ctx.result({
    ok: true,
    command: 'hash',
    outputs: [cfg.index, sidecar],
    added: fresh.length,
    size: index.size,
    tokens: index.tokens,
    bitsPerToken: index.bitsPerToken,
    codeMode: cfg.codeMode,
    config: cfg,
  });
}

/** Registers `bigr hash`. */
export function registerHash(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('hash')
    .description('hash images to binary codes (tokenizer only) and build or append a Hamming k-NN index')
    .argument('<images...>', 'PNG/JPEG files or directories (sub-folder names become labels)');
  modelOptions(cmd, 'BiGR model or tokenizer directory (default: bundled fashion-mnist model)')
    .option('--index <file.bhx>', 'index file to create or append to (paths and labels go to its .json sidecar)')
    .option('--code-mode <mode>', "'threshold' (stable hashes, default) or 'bernoulli'")
    .option('--seed <n>', 'random seed for bernoulli codes')
    .option('--workers <n>', 'tokenizer worker threads for more than 64 images (0 = every core)')
    .action(async (images: string[], _flags: unknown, cmd: Command) => hashCommand(ctx(), images, givenFlags(cmd, HASH_DEFAULTS)));
}
