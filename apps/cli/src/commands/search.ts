import type { Command } from 'commander';
import { NotFoundError, required } from '@bigr/core';
import { HashIndex } from '@bigr/tokenizer';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';
import { inferenceEngine } from '../engines.js';
import { checkInt, imageGeometry, loadModelImages, loadTokenizerFrom, modelOptions, requireFile } from './imageApps.js';
import { indexSidecarPath, readIndexMetadata } from './hash.js';
import { modelDirectory } from '../modelPaths.js';

/** Settings of `bigr search`. */
export const SEARCH_DEFAULTS = {
  model: '',
  index: 'index.bhx',
  k: 5,
};

/** Flags of `bigr search` as given on the command line. */
export type SearchFlags = GivenFlags<typeof SEARCH_DEFAULTS>;

/** One neighbour in the output of `bigr search`. */
export interface SearchHit {
  readonly rank: number;
  readonly id: number;
  readonly distance: number;
  readonly path: string | null;
  readonly label: string | null;
}

/**
 * `bigr search <image...> --index index.bhx --k 5`: the k nearest indexed images of each query by Hamming distance
 * between their threshold hash codes, with paths and labels from the index's sidecar.
 */
export async function searchCommand(ctx: CliContext, paths: readonly string[], flags: SearchFlags): Promise<void> {
  const cfg = await resolveConfig({
    command: 'search',
    defaults: SEARCH_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    flags: flags.settings,
  });
  checkInt('k', cfg.k, 1, 100000);
  for (const p of paths) await requireFile(p, 'Query image');
  try {
    await requireFile(cfg.index, 'Index');
  } catch {
    throw new NotFoundError(`Index ${cfg.index} does not exist. Build it with \`bigr hash <images|dir> --index ${cfg.index}\`.`);
  }
  const index = await HashIndex.load(cfg.index);
  const meta = await readIndexMetadata(cfg.index);
  if (!meta) ctx.warn(`${indexSidecarPath(cfg.index)} is missing; neighbours are shown by id only.`);
  const modelDir = await modelDirectory(cfg.model);
  const engine = await inferenceEngine();
  const tok = await loadTokenizerFrom(modelDir, engine);
  if (meta?.tokenizerHash && meta.tokenizerHash !== tok.hash)
    ctx.warn(
      `${cfg.index} was built with another tokenizer (hash ${meta.tokenizerHash.slice(0, 12)}, this one ${tok.hash.slice(0, 12)}); ` +
        `distances will be meaningless. Pass the --model used by bigr hash.`,
    );
  const geom = imageGeometry(tok.tokenizer, tok.config);
  const images = await loadModelImages(paths, geom);
  const codes = await tok.tokenizer.hash(images);
  const byId = new Map((meta?.entries ?? []).map((e) => [e.id, e]));
  const queries = index.searchBatch(codes, cfg.k).map((nb, q) => {
    const hits: SearchHit[] = Array.from(nb.ids, (id, j) => ({
      rank: j + 1,
      id,
      distance: required(nb.distances[j], 'neighbour distance'),
      path: byId.get(id)?.path ?? null,
      label: byId.get(id)?.label ?? null,
    }));
    return { image: required(paths[q], 'query path'), neighbours: hits };
  });
  const bits = index.tokens * index.bitsPerToken;
  for (const q of queries) {
    ctx.out(`${q.image}:`);
    for (const h of q.neighbours)
      ctx.out(
        `  ${String(h.rank).padStart(3)}. distance ${String(h.distance).padStart(5)}/${bits}  ${h.path ?? `id ${h.id}`}` +
          `${h.label !== null ? `  [${h.label}]` : ''}`,
      );
  }
  ctx.result({ ok: true, command: 'search', index: cfg.index, size: index.size, bits, k: cfg.k, queries });
}

/** Registers `bigr search`. */
export function registerSearch(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('search')
    .description('find the nearest indexed images by Hamming distance of their hash codes')
    .argument('<images...>', 'query PNG/JPEG files');
  modelOptions(cmd, 'BiGR model or tokenizer directory used to build the index (default: bundled fashion-mnist model)')
    .option('--index <file.bhx>', 'index built by bigr hash')
    .option('--k <n>', 'neighbours per query')
    .action(async (images: string[], _flags: unknown, cmd: Command) => searchCommand(ctx(), images, givenFlags(cmd, SEARCH_DEFAULTS)));
}
