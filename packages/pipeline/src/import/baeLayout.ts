import { at, ConfigError, dims2, FormatError, required } from '@bigr/core';
import { baeParameterShapes, validateConfig, type BaeConfig, type BlockKind } from '@bigr/tokenizer';
import { assertKeysMatch, compareKeys, type ShapeMap } from './keyCheck.js';

/**
 * Inferring a B-AE architecture (docs/algorithm.md §1) from the names and shapes of a state dict (official names without
 * the `ae.` prefix, §10.2), and checking that the state dict is exactly that architecture's.
 */

/** Which released layout a B-AE matches (§1.3/§1.5), or `'custom'`. */
export type BaeVariant = 'released-256' | 'released-512' | 'custom';

/** How the nominal image size of the B-AE was decided. */
export type BaeResolutionSource = 'bigr-grid' | 'option' | 'released-convention';

/** What {@link inferBaeLayout} found. */
export interface InferredBae {
  /** The architecture (validated). */
  readonly config: BaeConfig;
  /** Released 256 px layout, released 512 px layout, or something else. */
  readonly variant: BaeVariant;
  /** Where `config.resolution` comes from. */
  readonly resolutionSource: BaeResolutionSource;
  /** 0-based resolution levels whose ResBlocks are followed by an AttnBlock (the middle block always has one). */
  readonly attentionLevels: readonly number[];
  /** Number of tensors in the state dict that the forward pass never uses (ResBlock `conv_out` with in = out, `generator.logsigma`). */
  readonly unusedTensors: number;
  /** Things the user should know (e.g. a B-AE whose layout suggests another image size than the BiGR grid). */
  readonly notes: readonly string[];
}

/** Options of {@link inferBaeLayout}. */
export interface InferBaeOptions {
  /** Latent grid side the B-AE must produce (√N of the BiGR model it is imported with); fixes the resolution. */
  readonly gridSide?: number;
  /** Nominal image size (`img_size`), when known; otherwise the released convention (attention at 16×16) is assumed. */
  readonly resolution?: number;
  /** Label of the checkpoint for messages. */
  readonly source?: string;
  /** GroupNorm groups (not recorded in the weights). Default 32, as released. */
  readonly normGroups?: number;
}

interface Block {
  readonly index: number;
  readonly kind: BlockKind;
  readonly inChannels: number;
  readonly outChannels: number;
}

/** Classifies `${list}.${i}` blocks by the parameter names they own (§10.2). */
function readBlocks(shapes: ShapeMap, list: 'encoder.blocks' | 'generator.blocks', source: string): Block[] {
  const indices = new Set<number>();
  const re = new RegExp(`^${list.replace('.', '\\.')}\\.(\\d+)\\.`);
  for (const name of shapes.keys()) {
    const m = re.exec(name);
    if (m) indices.add(Number(m[1]));
  }
  const sorted = [...indices].sort((a, b) => a - b);
  if (sorted.length === 0) throw new FormatError(`${source} has no "${list}.*" tensors, so it is not a B-AE state dict (docs/algorithm.md §10.2).`);
  const gaps = sorted.filter((v, i) => v !== i);
  if (gaps.length > 0) {
    const missing = Array.from({ length: Math.max(...sorted) + 1 }, (_, i) => i).filter((i) => !indices.has(i));
    throw new FormatError(
      `${source}: ${list} has no tensors for block(s) ${missing.join(', ')}, so the block list is incomplete. Pass the full B-AE state dict.`,
    );
  }
  const get = (n: string): readonly number[] | undefined => shapes.get(n);
  const dimOf = (shape: readonly number[], d: number, name: string): number => {
    const v = shape[d];
    if (v === undefined) throw new FormatError(`${source}: ${name} has shape [${shape.join(', ')}], without a dimension ${d}. It is not a B-AE state dict.`);
    return v;
  };
  return sorted.map((i) => {
    const p = `${list}.${i}`;
    const w = get(`${p}.weight`);
    const norm1 = get(`${p}.norm1.weight`);
    const conv1 = get(`${p}.conv1.weight`);
    const q = get(`${p}.q.weight`);
    const conv = get(`${p}.conv.weight`);
    if (norm1 && conv1)
      return { index: i, kind: 'ResBlock', inChannels: dimOf(norm1, 0, `${p}.norm1.weight`), outChannels: dimOf(conv1, 0, `${p}.conv1.weight`) };
    if (q) {
      const channels = dimOf(q, 0, `${p}.q.weight`);
      return { index: i, kind: 'AttnBlock', inChannels: channels, outChannels: channels };
    }
    if (conv) {
      const name = `${p}.conv.weight`;
      return { index: i, kind: list === 'encoder.blocks' ? 'Downsample' : 'Upsample', inChannels: dimOf(conv, 1, name), outChannels: dimOf(conv, 0, name) };
    }
    if (w && w.length === 4) return { index: i, kind: 'Conv2d', inChannels: dimOf(w, 1, `${p}.weight`), outChannels: dimOf(w, 0, `${p}.weight`) };
    if (w && w.length === 1) {
      const channels = dimOf(w, 0, `${p}.weight`);
      return { index: i, kind: 'GroupNorm', inChannels: channels, outChannels: channels };
    }
    const names = [...shapes.keys()].filter((n) => n.startsWith(`${p}.`));
    throw new FormatError(
      `${source}: block ${p} (tensors ${names.join(', ')}) is none of Conv2d, ResBlock, AttnBlock, Downsample, Upsample or GroupNorm. ` +
        `It is not a B-AE state dict.`,
    );
  });
}

function fail(source: string, detail: string): never {
  throw new FormatError(
    `${source}: the encoder block list does not follow the B-AE layout of docs/algorithm.md §1.3 (${detail}). ` +
      `Only the official BinaryAutoEncoder architecture can be imported.`,
  );
}

/**
 * Infers `nf`, `ch_mult`, `res_blocks`, the attention levels, `emb_dim`, K, the input channels and `norm_first` from
 * the block structure, then the nominal resolution: from `gridSide` (× the downsampling factor) when given, else
 * `resolution`, else the released convention (the first attention level runs at 16×16; without attention inside
 * the levels, the 512 px convention of a 32×32 latent). `attn_resolutions` is `[16]` when that reproduces the
 * attention levels at this resolution (as in the released hparams), otherwise the levels' own resolutions.
 * Finally every tensor is checked against the inferred architecture ({@link assertKeysMatch}).
 */
export function inferBaeLayout(shapes: ShapeMap, options: InferBaeOptions = {}): InferredBae {
  const source = options.source ?? 'B-AE state dict';
  const enc = readBlocks(shapes, 'encoder.blocks', source);
  const dec = readBlocks(shapes, 'generator.blocks', source);
  const [first] = enc;
  if (enc.length < 6 || first?.kind !== 'Conv2d') fail(source, 'block 0 must be the input conv');
  const tail = enc
    .slice(-5)
    .map((b) => b.kind)
    .join(',');
  if (tail !== 'ResBlock,AttnBlock,ResBlock,GroupNorm,Conv2d')
    fail(source, `the last five blocks are ${tail}, expected ResBlock, AttnBlock, ResBlock, GroupNorm, Conv2d`);
  const inChannels = first.inChannels;
  const nf = first.outChannels;
  const embDim = at(enc, enc.length - 1, 'last encoder block').outChannels;
  // Split the blocks between the input conv and the middle block into levels at each Downsample.
  let level: Block[] = [];
  const levels: Block[][] = [level];
  for (const b of enc.slice(1, -5)) {
    if (b.kind === 'Downsample') {
      level = [];
      levels.push(level);
    } else if (b.kind === 'ResBlock' || b.kind === 'AttnBlock') level.push(b);
    else fail(source, `block ${b.index} is a ${b.kind} inside the resolution levels`);
  }
  const resCounts = levels.map((l) => l.filter((b) => b.kind === 'ResBlock').length);
  const resBlocks = at(resCounts, 0, 'ResBlocks of level 0');
  if (resBlocks < 1 || resCounts.some((c) => c !== resBlocks))
    fail(source, `ResBlocks per level are [${resCounts.join(', ')}], expected the same positive count in every level`);
  const chMult = levels.map((l, i) => {
    // Every level has resBlocks ≥ 1 ResBlocks (checked above).
    const lastRes = required(
      [...l].reverse().find((b) => b.kind === 'ResBlock'),
      `last ResBlock of level ${i}`,
    );
    if (lastRes.outChannels % nf !== 0) fail(source, `level ${i} has ${lastRes.outChannels} channels, not a multiple of nf = ${nf}`);
    return lastRes.outChannels / nf;
  });
  const attentionLevels = levels.flatMap((l, i) => (l.some((b) => b.kind === 'AttnBlock') ? [i] : []));
  const factor = 2 ** (levels.length - 1);
  const embed = shapes.get('quantize.embed.weight');
  if (embed?.length !== 2)
    throw new FormatError(
      `${source} has no quantize.embed.weight of shape (K, emb_dim), so the code width K cannot be inferred. ` +
        `Pass the full B-AE state dict (docs/algorithm.md §10.2).`,
    );
  const [codeDim] = dims2(embed, 'quantize.embed.weight');
  const normFirst = dec[0]?.kind === 'GroupNorm';

  let resolution: number;
  let resolutionSource: BaeResolutionSource;
  if (options.gridSide !== undefined) {
    resolution = options.gridSide * factor;
    resolutionSource = 'bigr-grid';
  } else if (options.resolution !== undefined) {
    if (!Number.isInteger(options.resolution) || options.resolution < factor || options.resolution % factor !== 0) {
      throw new ConfigError(
        `B-AE resolution ${options.resolution} must be a positive multiple of the downsampling factor ${factor} of this B-AE (e.g. ${16 * factor}).`,
      );
    }
    resolution = options.resolution;
    resolutionSource = 'option';
  } else {
    const [firstAttention] = attentionLevels;
    resolution = firstAttention !== undefined ? 16 * 2 ** firstAttention : 32 * factor;
    resolutionSource = 'released-convention';
  }
  const levelRes = levels.map((_, i) => Math.floor(resolution / 2 ** i));
  const sameLevels = (attn: readonly number[]): boolean => {
    const got = levelRes.flatMap((r, i) => (attn.includes(r) ? [i] : []));
    return got.length === attentionLevels.length && got.every((v, i) => v === attentionLevels[i]);
  };
  const attnResolutions = sameLevels([16]) ? [16] : attentionLevels.map((i) => at(levelRes, i, 'level resolution'));
  if (!sameLevels(attnResolutions)) fail(source, `attention at levels [${attentionLevels.join(', ')}] cannot be expressed at resolution ${resolution}`);

  let config: BaeConfig;
  try {
    config = validateConfig({
      nf,
      chMult,
      resBlocks,
      attnResolutions,
      embDim,
      codeDim,
      inChannels,
      resolution,
      normFirst,
      normGroups: options.normGroups ?? 32,
      normEps: 1e-6,
    });
  } catch (err) {
    throw new FormatError(`${source}: the inferred B-AE architecture is invalid (${(err as Error).message}).`, { cause: err });
  }
  const used = baeParameterShapes(config);
  const all = baeParameterShapes(config, { includeUnused: true });
  const optional = new Map([...all].filter(([k]) => !used.has(k)));
  assertKeysMatch(
    compareKeys(shapes, used, optional),
    source,
    `the B-AE inferred from it (nf ${nf}, ch_mult [${chMult.join(', ')}], res_blocks ${resBlocks}, attention at levels [${attentionLevels.join(', ')}], ` +
      `emb_dim ${embDim}, K ${codeDim})`,
  );
  const unusedTensors = [...shapes.keys()].filter((k) => optional.has(k)).length;

  const releasedShape = nf === 128 && chMult.join(',') === '1,1,2,2,4' && resBlocks === 2 && embDim === 256 && inChannels === 3 && normFirst;
  const at16 = attentionLevels.length === 1 && attentionLevels[0] === 4;
  const variant: BaeVariant = releasedShape && at16 ? 'released-256' : releasedShape && attentionLevels.length === 0 ? 'released-512' : 'custom';
  const notes: string[] = [];
  if (variant === 'released-256' && resolution !== 256) {
    notes.push(
      `This B-AE has the released 256 px layout (attention at the 16×16 level) but will run at ${resolution} px to match the BiGR grid; ` +
        `check that the B-AE and BiGR files belong together.`,
    );
  }
  if (variant === 'released-512' && resolution !== 512) {
    notes.push(
      `This B-AE has the released 512 px layout (no attention inside the levels) but will run at ${resolution} px to match the BiGR grid; ` +
        `check that the B-AE and BiGR files belong together.`,
    );
  }
  if (resolutionSource === 'released-convention' && variant === 'custom') {
    notes.push(
      `The image size ${resolution} px was assumed from the released convention (attention at 16×16, or a 32×32 latent without attention); ` +
        `pass the B-AE's img_size (--resolution) if it differs. ` +
        `It sets the image size the tokenizer encodes and decodes; the weights and the graph are the same at any size.`,
    );
  }
  return { config, variant, resolutionSource, attentionLevels, unusedTensors, notes };
}
