import {
  ConfigError,
  CpuTensor,
  FormatError,
  getOrThrow,
  NotFoundError,
  openForRead,
  readExactly,
  required,
  throwIfAborted,
  type DType,
  type DataTypeMap,
  type LongRunningOptions,
  type NamedTensors,
} from '@bigr/core';
import { DEFAULT_PICKLE_LIMITS, describePickleValue, PickleDict, unpickle, type PickleValue } from './pickle.js';
import { TORCH_PICKLE_GLOBALS, torchPersistentLoad } from './torchGlobals.js';
import { byteSwapInPlace, decodeTorchView } from './torchMaterialize.js';
import { TorchTensorRef, type TorchStorageRef } from './torchTypes.js';
import { ZipArchive, type ZipReadOptions } from './zipArchive.js';

/**
 * Reading PyTorch checkpoints (`torch.save` files, e.g. BiGR `bigr_*.pt` and B-AE `binaryae_ema_*.th`,
 * docs/algorithm.md §10) without Python and without executing anything from the file. The supported layout variants are
 * documented on {@link readTorchCheckpoint}.
 */

/** Options for {@link readTorchCheckpoint}. */
export interface TorchCheckpointOptions extends ZipReadOptions {
  /** Largest accepted `data.pkl`, in bytes. Default 256 MB. */
  maxPickleBytes?: number;
  /** Deepest MARK / dict nesting accepted. Default 1000. */
  maxDepth?: number;
  /** Most pickle values accepted in total. Default 20 million. */
  maxItems?: number;
  /** Check CRC-32 of every entry read. Default true. */
  verifyCrc?: boolean;
}

/** Options for {@link TorchCheckpoint.tensors}. */
export interface TorchTensorsOptions extends LongRunningOptions {
  /** Read only tensors whose (prefix-stripped) name passes; the others are never read. */
  select?: (name: string) => boolean;
}

/** A parsed checkpoint: its pickle as data, and tensors read on demand. */
export interface TorchCheckpoint {
  /** Path the checkpoint was read from. */
  readonly path: string;
  /** The archive's top-level folder (e.g. 'archive' or the file stem). */
  readonly archiveName: string;
  /** The integer in `<archive>/version`, when present. */
  readonly formatVersion: number | undefined;
  /** The unpickled object (dicts are {@link PickleDict}s, tensors {@link TorchTensorRef}s). */
  readonly root: PickleValue;
  /** Every storage the pickle references, by key. */
  readonly storages: ReadonlyMap<string, TorchStorageRef>;
  /**
   * Tensor references by '.'-joined name (no data is read). With `prefix` (e.g. 'ema' or 'ae'), only names equal to
   * it or starting with `prefix + '.'` are kept, with the prefix stripped; a prefix matching nothing is a
   * {@link NotFoundError}.
   */
  tensorRefs(prefix?: string): Map<string, TorchTensorRef>;
  /** Reads the tensors of {@link TorchCheckpoint.tensorRefs} (reopening the file), each storage once. */
  tensors(prefix?: string, options?: TorchTensorsOptions): Promise<NamedTensors>;
  /**
   * Reads the given references (from this checkpoint's {@link TorchCheckpoint.tensorRefs} or root), keyed by the
   * names to give them. The file is reopened and must not have changed since it was parsed.
   */
  readTensors(refs: ReadonlyMap<string, TorchTensorRef>, options?: TorchTensorsOptions): Promise<NamedTensors>;
}

/** Options for {@link readTorchStateDict}. */
export interface ReadTorchStateDictOptions extends TorchCheckpointOptions, TorchTensorsOptions {
  /** Top-level key of a dict root holding the state dict, e.g. 'ema' (BiGR) or 'model'. Default: the whole root. */
  subkey?: string;
}

const LEGACY_MAGIC = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19);
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const CONVERT_HINT =
  'Convert it with torch >= 1.6: torch.save(torch.load(old_path, map_location="cpu"), new_path) writes the zip format, ' +
  'or export the tensors as safetensors (safetensors.torch.save_file(state_dict, path)).';

/** Explains files that are not zip archives (legacy torch formats, safetensors, other data). */
async function sniff(path: string, source: string): Promise<void> {
  const fh = await openForRead(path, `Checkpoint ${path} does not exist. Check the path or download the checkpoint first.`);
  try {
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, 512));
    await readExactly(fh, head, 0, source);
    const starts = (sig: ArrayLike<number>): boolean => head.length >= sig.length && Array.from(sig).every((b, i) => head[i] === b);
    if (starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06])) return;
    if (starts(LEGACY_MAGIC)) {
      throw new FormatError(
        `${source} uses the legacy (pre-1.6) torch.save format (a pickle starting with torch's magic number), which is not supported. ${CONVERT_HINT}`,
      );
    }
    if (head.length >= 262 && new TextDecoder('latin1').decode(head.subarray(257, 262)) === 'ustar') {
      throw new FormatError(`${source} is a tar archive: the legacy (torch <= 0.3) torch.save format, which is not supported. ${CONVERT_HINT}`);
    }
    if (head.length > 0 && head[0] === 0x80) {
      throw new FormatError(`${source} is a bare pickle, not a torch.save zip archive (legacy torch format or pickle.dump). ${CONVERT_HINT}`);
    }
    if (head.length >= 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0) {
      throw new FormatError(`${source} looks like a safetensors file, not a torch checkpoint. Read it with readSafetensors instead.`);
    }
    throw new FormatError(
      `${source} is not a torch checkpoint: it does not start with a ZIP header ("PK\\x03\\x04"). The file is corrupt, truncated or of another kind.`,
    );
  } finally {
    await fh.close();
  }
}

function findArchiveName(zip: ZipArchive): string {
  const names = [...zip.entries.keys()];
  const candidates = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n)).map((n) => n.slice(0, -'/data.pkl'.length));
  const [only, ...rest] = candidates;
  if (only !== undefined && rest.length === 0) return only;
  if (candidates.length > 1) {
    throw new FormatError(
      `${zip.source} holds ${candidates.length} pickles (${candidates.map((c) => `${c}/data.pkl`).join(', ')}); a torch checkpoint has exactly one. ` +
        `The archive is not a torch.save file.`,
    );
  }
  if (names.some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n))) {
    throw new FormatError(
      `${zip.source} is a TorchScript archive (torch.jit.save), not a torch.save checkpoint. ` +
        `In Python, load it with torch.jit.load and save model.state_dict() with torch.save (or safetensors).`,
    );
  }
  throw new FormatError(
    `${zip.source} is a ZIP archive without an "<archive>/data.pkl" entry, ` +
      `so it is not a torch.save checkpoint (entries: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}).`,
  );
}

async function readSmallText(zip: ZipArchive, name: string, verifyCrc: boolean): Promise<string | undefined> {
  const e = zip.get(name);
  if (!e) return undefined;
  const bytes = await zip.read(e, { maxBytes: 64, verifyCrc });
  return new TextDecoder('latin1').decode(bytes).trim();
}

interface Parsed {
  archiveName: string;
  formatVersion: number | undefined;
  root: PickleValue;
  storages: Map<string, TorchStorageRef>;
  pickleCrc: number;
}

async function parseArchive(zip: ZipArchive, options: TorchCheckpointOptions): Promise<Parsed> {
  const verifyCrc = options.verifyCrc ?? true;
  const archiveName = findArchiveName(zip);
  const versionText = (await readSmallText(zip, `${archiveName}/.data/version`, verifyCrc)) ?? (await readSmallText(zip, `${archiveName}/version`, verifyCrc));
  let formatVersion: number | undefined;
  if (versionText !== undefined) {
    if (!/^\d{1,6}$/.test(versionText))
      throw new FormatError(
        `${zip.source}: ${archiveName}/version holds ${JSON.stringify(versionText)}; expected a small integer such as "3". The archive is corrupt.`,
      );
    formatVersion = Number(versionText);
  }
  const byteorder = await readSmallText(zip, `${archiveName}/byteorder`, verifyCrc);
  if (byteorder !== undefined && byteorder !== 'little') {
    throw new FormatError(
      `${zip.source}: ${archiveName}/byteorder is ${JSON.stringify(byteorder)}; only little-endian checkpoints are supported. ` +
        `Re-save it on a little-endian machine.`,
    );
  }
  // findArchiveName picked archiveName from this very entry.
  const pklEntry = required(zip.get(`${archiveName}/data.pkl`), `${archiveName}/data.pkl`);
  const maxPickle = options.maxPickleBytes ?? DEFAULT_PICKLE_LIMITS.maxBytes;
  if (pklEntry.size > maxPickle) {
    throw new FormatError(
      `${zip.source}: ${archiveName}/data.pkl is ${pklEntry.size} bytes, above the limit of ${maxPickle}. ` +
        `The file is corrupt or hostile; raise maxPickleBytes if it is genuine.`,
    );
  }
  const pkl = await zip.read(pklEntry, { verifyCrc });
  const storages = new Map<string, TorchStorageRef>();
  const root = unpickle(pkl, {
    globals: TORCH_PICKLE_GLOBALS,
    persistentLoad: torchPersistentLoad(storages),
    maxBytes: maxPickle,
    maxDepth: options.maxDepth,
    maxItems: options.maxItems,
    source: `${zip.source}: ${archiveName}/data.pkl`,
  });
  for (const s of storages.values()) {
    const name = `${archiveName}/data/${s.key}`;
    const e = zip.get(name);
    if (!e) {
      throw new FormatError(
        `${zip.source}: storage "${s.key}" (${s.storageType}, ${s.numel} elements) is referenced by data.pkl but the entry ${name} is missing. ` +
          `The checkpoint is incomplete; re-download or re-save it.`,
      );
    }
    if (e.size !== s.byteLength) {
      throw new FormatError(
        `${zip.source}: entry ${name} holds ${e.size} bytes but storage "${s.key}" needs ${s.numel} × ${s.itemSize} = ${s.byteLength} (${s.storageType}). ` +
          `The checkpoint is corrupt.`,
      );
    }
  }
  return { archiveName, formatVersion, root, storages, pickleCrc: pklEntry.crc32 };
}

function keyName(k: PickleValue): string | undefined {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' && Number.isInteger(k)) return String(k);
  if (typeof k === 'bigint') return k.toString();
  return undefined;
}

/**
 * Flattens nested dicts into '.'-joined names of their tensors. Non-tensor leaves (and lists, Namespace objects,
 * ...) are skipped. Throws a {@link FormatError} on cycles, nesting deeper than `maxDepth`, two tensors with the
 * same flattened name, or a tensor/dict under a key that is not a string or integer.
 */
export function flattenTorchTensors(value: PickleValue, maxDepth: number = DEFAULT_PICKLE_LIMITS.maxDepth, source = 'checkpoint'): Map<string, TorchTensorRef> {
  const out = new Map<string, TorchTensorRef>();
  const ancestors = new Set<PickleDict>();
  const walk = (v: PickleValue, name: string, depth: number): void => {
    if (v instanceof TorchTensorRef) {
      if (out.has(name))
        throw new FormatError(`${source}: two tensors flatten to the same name "${name}" (a flat "a.b" key and a nested a → b). Rename one before saving.`);
      out.set(name, v);
      return;
    }
    if (!(v instanceof PickleDict)) return;
    if (depth > maxDepth)
      throw new FormatError(
        `${source}: dicts nest deeper than ${maxDepth} levels at "${name}". The checkpoint is corrupt or hostile; raise maxDepth if it is genuine.`,
      );
    if (ancestors.has(v)) throw new FormatError(`${source}: the dict at "${name}" contains itself (a cycle). The checkpoint is corrupt or hostile.`);
    ancestors.add(v);
    for (const [k, child] of v) {
      const key = keyName(k);
      if (key === undefined) {
        if (child instanceof TorchTensorRef || child instanceof PickleDict) {
          throw new FormatError(
            `${source}: a tensor or dict under "${name}" has the key ${describePickleValue(k)}; only string and integer keys can form tensor names.`,
          );
        }
        continue;
      }
      walk(child, name === '' ? key : `${name}.${key}`, depth + 1);
    }
    ancestors.delete(v);
  };
  walk(value, '', 0);
  return out;
}

function selectPrefix(all: Map<string, TorchTensorRef>, prefix: string | undefined, source: string): Map<string, TorchTensorRef> {
  if (prefix === undefined || prefix === '') return all;
  const out = new Map<string, TorchTensorRef>();
  for (const [name, ref] of all) {
    if (name === prefix) out.set('', ref);
    else if (name.startsWith(`${prefix}.`)) out.set(name.slice(prefix.length + 1), ref);
  }
  if (out.size === 0) {
    const tops = [...new Set([...all.keys()].map((n) => n.split('.')[0]))];
    throw new NotFoundError(
      `${source} has no tensors under "${prefix}". Top-level names: ` +
        `${tops.slice(0, 10).join(', ')}${tops.length > 10 ? ', ...' : ''}${tops.length === 0 ? '(none)' : ''}. Use one of them.`,
    );
  }
  return out;
}

/**
 * Reads the tensors `refs` from an open archive: storages are read once each (in file order), decoded per view,
 * and identical views of one storage share one typed array.
 */
async function materialize(
  zip: ZipArchive,
  archiveName: string,
  refs: ReadonlyMap<string, TorchTensorRef>,
  verifyCrc: boolean,
  options: TorchTensorsOptions,
): Promise<NamedTensors> {
  const byStorage = new Map<TorchStorageRef, Array<[string, TorchTensorRef]>>();
  for (const [name, ref] of refs) {
    let list = byStorage.get(ref.storage);
    if (!list) {
      list = [];
      byStorage.set(ref.storage, list);
    }
    list.push([name, ref]);
  }
  // parseArchive checked that every storage's entry exists.
  const order = [...byStorage].map(([s, list]) => ({ s, list, e: required(zip.get(`${archiveName}/data/${s.key}`), `${archiveName}/data/${s.key}`) }));
  order.sort((a, b) => a.e.localHeaderOffset - b.e.localHeaderOffset);
  const total = order.reduce((acc, o) => acc + o.e.size, 0);
  const decoded = new Map<string, CpuTensor>();
  let done = 0;
  for (const { s, list, e } of order) {
    throwIfAborted(options.signal, 'checkpoint read');
    const raw = await zip.read(e, { verifyCrc });
    if (!LITTLE_ENDIAN_HOST) byteSwapInPlace(raw, s.itemSize);
    const views = new Map<string, DataTypeMap[DType]>();
    for (const [name, ref] of list) {
      const sig = `${ref.offset}|${ref.shape.join(',')}|${ref.stride.join(',')}`;
      let data = views.get(sig);
      if (!data) {
        data = decodeTorchView(raw, ref, name, zip.source);
        views.set(sig, data);
      }
      decoded.set(name, new CpuTensor(data, ref.shape));
    }
    done += e.size;
    options.onProgress?.({ task: 'torch-load', current: done, total, message: s.key });
  }
  const out: NamedTensors = new Map();
  for (const name of refs.keys()) out.set(name, getOrThrow(decoded, name, 'decoded tensor'));
  return out;
}

/**
 * Opens a `torch.save` checkpoint: validates the ZIP structure, decodes `data.pkl` with the data-only unpickler,
 * and checks that every referenced storage entry exists with the right size. Tensor data is read later by
 * {@link TorchCheckpoint.tensors}. Nothing from the file is ever executed. Throws {@link NotFoundError} for a
 * missing file and {@link FormatError} for anything malformed, legacy or disallowed.
 *
 * ## Supported layout variants
 * - **Container**: the zip format written by `torch.save` since torch 1.6 (`_use_new_zipfile_serialization=True`,
 *   the default): `<archive>/data.pkl`, `<archive>/data/<key>` (one entry per storage), `<archive>/version`
 *   (or `<archive>/.data/version`), optionally `<archive>/byteorder` (must be `little`) and other entries, which
 *   are ignored. `<archive>` is any single top-level folder name (torch uses the file stem or `archive`). Entries
 *   may be stored (what torch writes, 64-byte aligned) or deflated (re-zipped files); ZIP64 is supported.
 * - **Pickle**: protocol 2 (torch's default) to 5, decoded by a data-only unpickler with an allow-list of globals
 *   (see {@link TORCH_PICKLE_GLOBALS}); storages are persistent ids `('storage', torch.<Type>Storage, key, location, numel)`.
 * - **Tensors**: `torch._utils._rebuild_tensor_v2` (with or without the trailing metadata argument), the older
 *   `_rebuild_tensor`, `_rebuild_parameter`, `_rebuild_parameter_with_state` and `torch._tensor._rebuild_from_type_v2`
 *   for plain Tensor/Parameter; any storage offset and non-negative strides (non-contiguous views are gathered);
 *   views sharing a storage (e.g. BiGR's `denoise_mlp.*` and `diffusion_processor._denoise_fn.*`) read it once,
 *   and identical views of one storage share one typed array.
 * - **dtypes**: float32, float16, bfloat16 → float32; float64 → float64; int64 (each value range-checked), int32,
 *   int16, int8 → int32; uint8 → uint8; bool → uint8 (0/1). Complex and quantized storages are refused when read.
 * - **Roots**: a state dict (OrderedDict or dict of tensors, like B-AE `.th` files, flat `ae.*` keys), or a dict
 *   of state dicts and other values, like BiGR `.pt` files: `{"ema": state dict, "model": ..., "opt": ...,
 *   "args": argparse.Namespace, "steps": int}`. Nested dicts flatten to '.'-joined names; non-tensor leaves (numbers,
 *   strings, Namespace, lists) are kept in {@link TorchCheckpoint.root} but are not tensors.
 *
 * ## Not supported (each a {@link FormatError} explaining the way out)
 * - the legacy pre-1.6 formats (a pickle starting with torch's magic number, or the older tar archive): re-save
 *   with torch >= 1.6 (`torch.save(torch.load(old), new)`) or export safetensors;
 * - TorchScript archives (`torch.jit.save`), numpy arrays, sparse/quantized/meta tensors, big-endian files,
 *   and any Python global outside the allow-list (nothing is ever executed).
 */
export async function readTorchCheckpoint(path: string, options: TorchCheckpointOptions = {}): Promise<TorchCheckpoint> {
  const source = options.source ?? path;
  await sniff(path, source);
  const zipOptions = { ...options, source };
  const verifyCrc = options.verifyCrc ?? true;
  const zip = await ZipArchive.open(path, zipOptions);
  let parsed: Parsed;
  let fileSize: number;
  try {
    parsed = await parseArchive(zip, options);
    fileSize = zip.fileSize;
  } finally {
    await zip.close();
  }
  const maxDepth = options.maxDepth ?? DEFAULT_PICKLE_LIMITS.maxDepth;
  let flat: Map<string, TorchTensorRef> | undefined;
  const tensorRefs = (prefix?: string): Map<string, TorchTensorRef> => {
    flat ??= flattenTorchTensors(parsed.root, maxDepth, source);
    return new Map(selectPrefix(flat, prefix, source));
  };
  return {
    path,
    archiveName: parsed.archiveName,
    formatVersion: parsed.formatVersion,
    root: parsed.root,
    storages: parsed.storages,
    tensorRefs,
    async tensors(prefix?: string, tOptions: TorchTensorsOptions = {}): Promise<NamedTensors> {
      const refs = tensorRefs(prefix);
      if (tOptions.select) {
        const select = tOptions.select;
        for (const name of [...refs.keys()]) if (!select(name)) refs.delete(name);
      }
      return readRefs(path, zipOptions, parsed, fileSize, refs, verifyCrc, tOptions);
    },
    async readTensors(refs: ReadonlyMap<string, TorchTensorRef>, tOptions: TorchTensorsOptions = {}): Promise<NamedTensors> {
      for (const [name, ref] of refs) {
        if (!(ref instanceof TorchTensorRef) || parsed.storages.get(ref.storage.key) !== ref.storage) {
          throw new ConfigError(`readTensors: "${name}" is not a tensor reference of ${source}. Pass references obtained from this checkpoint.`);
        }
      }
      return readRefs(path, zipOptions, parsed, fileSize, new Map(refs), verifyCrc, tOptions);
    },
  };
}

async function readRefs(
  path: string,
  zipOptions: ZipReadOptions,
  parsed: Parsed,
  fileSize: number,
  refs: ReadonlyMap<string, TorchTensorRef>,
  verifyCrc: boolean,
  options: TorchTensorsOptions,
): Promise<NamedTensors> {
  const zip = await ZipArchive.open(path, zipOptions);
  try {
    const pkl = zip.get(`${parsed.archiveName}/data.pkl`);
    if (zip.fileSize !== fileSize || !pkl || pkl.crc32 !== parsed.pickleCrc) {
      throw new FormatError(`${zip.source} changed since it was opened (size or data.pkl differ). Open it again with readTorchCheckpoint.`);
    }
    for (const s of new Set([...refs.values()].map((r) => r.storage))) {
      const e = zip.get(`${parsed.archiveName}/data/${s.key}`);
      if (!e || e.size !== s.byteLength)
        throw new FormatError(`${zip.source} changed since it was opened (storage "${s.key}" differs). Open it again with readTorchCheckpoint.`);
    }
    return await materialize(zip, parsed.archiveName, refs, verifyCrc, options);
  } finally {
    await zip.close();
  }
}

/**
 * Reads a state dict from a `torch.save` checkpoint as {@link NamedTensors} with '.'-joined names.
 * `subkey` picks a top-level entry of a dict root (BiGR: 'ema'); `select` filters names (after `subkey`), and
 * unselected tensors are never read. Example (B-AE, docs/algorithm.md §10.2): `readTorchStateDict(path, { select: (k) =>
 * k.startsWith('ae.') })`, then strip the `ae.` prefix; or `(await readTorchCheckpoint(path)).tensors('ae')`.
 */
export async function readTorchStateDict(path: string, options: ReadTorchStateDictOptions = {}): Promise<NamedTensors> {
  const ckpt = await readTorchCheckpoint(path, options);
  const source = options.source ?? path;
  let refs: Map<string, TorchTensorRef>;
  if (options.subkey !== undefined) {
    if (typeof options.subkey !== 'string' || options.subkey === '')
      throw new ConfigError(`subkey is ${JSON.stringify(options.subkey)}; expected a non-empty top-level key such as 'ema' or 'model'.`);
    const root = ckpt.root;
    if (!(root instanceof PickleDict)) {
      throw new NotFoundError(
        `${source}: subkey "${options.subkey}" was asked for, but the checkpoint root is a ${describePickleValue(root)}, not a dict. Omit subkey.`,
      );
    }
    if (!root.has(options.subkey)) {
      const keys = [...root.keys()].map((k) => (typeof k === 'string' ? k : describePickleValue(k)));
      throw new NotFoundError(
        `${source} has no top-level key "${options.subkey}". Available keys: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}. ` +
          `Pass one of them as subkey, or omit it.`,
      );
    }
    const sub = getOrThrow(root, options.subkey, 'checkpoint key');
    if (!(sub instanceof PickleDict) && !(sub instanceof TorchTensorRef)) {
      throw new FormatError(`${source}: "${options.subkey}" holds a ${describePickleValue(sub)}, not a state dict. Pick another subkey.`);
    }
    refs = flattenTorchTensors(sub, options.maxDepth ?? DEFAULT_PICKLE_LIMITS.maxDepth, source);
    if (sub instanceof TorchTensorRef) refs = new Map([[options.subkey, sub]]);
  } else {
    refs = ckpt.tensorRefs();
  }
  if (options.select) {
    const select = options.select;
    for (const name of [...refs.keys()]) if (!select(name)) refs.delete(name);
  }
  return ckpt.readTensors(refs, options);
}
