/**
 * The `.bigr` codes container: packed binary codes of a batch of images plus the geometry and the hash of the
 * tokenizer they belong to (a safetensors file any reader opens).
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  CpuTensor,
  dims2,
  FormatError,
  NotFoundError,
  packBits,
  parseJsonBounded,
  readSafetensors,
  unpackBits,
  writeSafetensors,
  type NamedTensors,
  type Tensor,
} from '@bigr/core';

async function requireFile(path: string, what: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new NotFoundError(`${what} ${path} does not exist. Check the path.`);
  }
}

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
  if (!Number.isSafeInteger(v) || v < 0)
    throw new FormatError(`${path}: metadata "${key}" is ${JSON.stringify(meta[key])}; expected a non-negative integer. The file is not a valid codes file.`);
  return v;
}

/** Reads and validates a codes file (see {@link CodesFile}). */
export async function readCodesFile(path: string): Promise<CodesFile> {
  await requireFile(path, 'Codes file');
  const { tensors, metadata } = await readSafetensors(path, { maxHeaderBytes: MAX_CODES_HEADER });
  if (metadata['format'] !== CODES_FORMAT)
    throw new FormatError(
      `${path} is not a BiGR codes file (metadata format ${JSON.stringify(metadata['format'])}, expected "${CODES_FORMAT}"). Write one with \`bigr encode\`.`,
    );
  if (metadata['version'] !== '1') throw new FormatError(`${path}: codes file version ${JSON.stringify(metadata['version'])} is not supported (expected "1").`);
  const K = metaInt(metadata, 'bitsPerToken', path);
  const N = metaInt(metadata, 'tokens', path);
  const grid = [metaInt(metadata, 'gridRows', path), metaInt(metadata, 'gridCols', path)] as const;
  if (K < 1 || N < 1 || grid[0] * grid[1] !== N) throw new FormatError(`${path}: geometry ${N} tokens (grid ${grid.join('×')}) × ${K} bits is inconsistent.`);
  const unpack = (name: string): CpuTensor<'uint8'> => {
    const t = tensors.get(name);
    if (t?.dtype !== 'uint8' || t.shape.length !== 2)
      throw new FormatError(`${path}: tensor "${name}" must be U8 [B, bytes]; found ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'none'}.`);
    const [B] = dims2(t.shape, `${path}: tensor "${name}"`);
    return unpackBits({ bytes: t.data as Uint8Array, batch: B, tokens: N, bitsPerToken: K });
  };
  const bits = unpack('codes');
  const parseJson = (key: string): unknown => {
    // Both values are flat arrays (of paths / of numbers): anything nested is corrupt, and is refused before
    // String()/Number() walk it.
    try {
      return parseJsonBounded(metadata[key] ?? 'null', { maxDepth: 1, source: `${path}: metadata "${key}"` });
    } catch (err) {
      throw new FormatError(
        `${path}: metadata "${key}" is not a flat JSON array (${(err as Error).message}). The codes file is corrupt; re-create it with \`bigr encode\`.`,
      );
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
