import { open, stat } from 'node:fs/promises';
import {
  type CpuTensor,
  FormatError,
  getOrThrow,
  NotFoundError,
  readSafetensors,
  readSafetensorsHeader,
  throwIfAborted,
  type LongRunningOptions,
  type NamedTensors,
} from '@bigr/core';
import { PickleDict, flattenTorchTensors, isPickleObject, readTorchCheckpoint, type PickleValue, type TorchTensorRef } from '@bigr/torch';
import type { ShapeMap } from './keyCheck.js';

/**
 * Opening a released checkpoint as a flat state dict without reading tensor data: the PyTorch zip format
 * (`torch.save`, e.g. `bigr_*.pt`, `binaryae_ema_*.th`) through core's safe reader, or a safetensors export of the
 * same state dict. Shapes come from the pickle / header; data is read later, only for the names asked for.
 */

/** Container of a checkpoint file. */
export type CheckpointLayout = 'torch-zip' | 'safetensors';

/** Where the state dict sits in the file: under `ema` or `model` of a training checkpoint, or at the root. */
export type StateDictEntry = 'ema' | 'model' | 'root';

/** A primitive value of the checkpoint's `args` (argparse.Namespace), kept for provenance. */
export type CheckpointArgValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

/** A checkpoint opened for import: names and shapes now, data on demand. */
export interface CheckpointSource {
  /** Path of the file. */
  readonly path: string;
  /** Size of the file in bytes. */
  readonly fileBytes: number;
  /** Container format. */
  readonly layout: CheckpointLayout;
  /** Where the state dict was found. */
  readonly entry: StateDictEntry;
  /** Shapes of every tensor of the state dict (names relative to `entry`). */
  readonly shapes: ShapeMap;
  /** Primitive fields of a stored `args` Namespace (BiGR training checkpoints), if any. */
  readonly args?: Readonly<Record<string, CheckpointArgValue>>;
  /** Reads the named tensors (names as in {@link CheckpointSource.shapes}); nothing else is read. */
  read(names: Iterable<string>, options?: LongRunningOptions): Promise<NamedTensors>;
}

/** How to pick the state dict inside a file. */
export type StateDictSelection = 'training-checkpoint' | 'root';

const PK = [0x50, 0x4b];

async function head(path: string, what: string): Promise<{ bytes: Uint8Array; size: number }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(
        `The ${what} ${path} does not exist. Check the path, or download the released file first (see docs/importing-official-models.md).`,
        { cause: err },
      );
    }
    throw err;
  }
  const fh = await open(path, 'r');
  try {
    const bytes = new Uint8Array(Math.min(size, 16));
    await fh.read(bytes, 0, bytes.length, 0);
    return { bytes, size };
  } finally {
    await fh.close();
  }
}

/** True when the first bytes look like a safetensors file: a small u64 header length followed by '{'. */
function looksLikeSafetensors(bytes: Uint8Array, size: number): boolean {
  if (bytes.length < 9 || bytes[8] !== 0x7b) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  return n > 0 && n <= size - 8;
}

function argsOf(root: PickleValue): Record<string, CheckpointArgValue> | undefined {
  if (!(root instanceof PickleDict)) return undefined;
  const a = root.get('args');
  if (!isPickleObject(a)) return undefined;
  const out: Record<string, CheckpointArgValue> = {};
  const prim = (v: unknown): v is string | number | boolean | null => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
    if (prim(v)) out[k] = v;
    else if (Array.isArray(v) && v.every(prim)) out[k] = v as (string | number | boolean | null)[];
  }
  return out;
}

async function openTorch(path: string, what: string, fileBytes: number, selection: StateDictSelection): Promise<CheckpointSource> {
  const ckpt = await readTorchCheckpoint(path);
  const root = ckpt.root;
  let entry: StateDictEntry = 'root';
  let refs: Map<string, TorchTensorRef>;
  const sub = (key: 'ema' | 'model'): PickleDict | undefined => {
    if (!(root instanceof PickleDict)) return undefined;
    const v = root.get(key);
    return v instanceof PickleDict ? v : undefined;
  };
  const ema = selection === 'training-checkpoint' ? sub('ema') : undefined;
  const model = selection === 'training-checkpoint' && !ema ? sub('model') : undefined;
  if (ema) {
    entry = 'ema';
    refs = flattenTorchTensors(ema, undefined, path);
  } else if (model) {
    entry = 'model';
    refs = flattenTorchTensors(model, undefined, path);
  } else {
    refs = ckpt.tensorRefs();
  }
  if (refs.size === 0) {
    throw new FormatError(
      `The ${what} ${path} holds no tensors${entry === 'root' ? '' : ` under "${entry}"`}. Pass the released checkpoint file (docs/algorithm.md §10).`,
    );
  }
  const shapes = new Map<string, readonly number[]>();
  for (const [name, ref] of refs) shapes.set(name, ref.shape);
  const args = argsOf(root);
  return {
    path,
    fileBytes,
    layout: 'torch-zip',
    entry,
    shapes,
    ...(args ? { args } : {}),
    async read(names, options = {}) {
      const want = new Map<string, TorchTensorRef>();
      for (const n of names) {
        const r = refs.get(n);
        if (!r) throw new NotFoundError(`${path} has no tensor "${n}".`);
        want.set(n, r);
      }
      return ckpt.readTensors(want, options);
    },
  };
}

async function openSafetensors(path: string, what: string, fileBytes: number, selection: StateDictSelection): Promise<CheckpointSource> {
  const header = await readSafetensorsHeader(path);
  const all = header.tensors;
  let entry: StateDictEntry = 'root';
  if (selection === 'training-checkpoint') {
    if (all.some((t) => t.name.startsWith('ema.'))) entry = 'ema';
    else if (all.length > 0 && all.every((t) => t.name.startsWith('model.'))) entry = 'model';
  }
  const prefix = entry === 'root' ? '' : `${entry}.`;
  const shapes = new Map<string, readonly number[]>();
  const fileName = new Map<string, string>();
  for (const t of all) {
    if (!t.name.startsWith(prefix)) continue;
    const n = t.name.slice(prefix.length);
    shapes.set(n, t.shape);
    fileName.set(n, t.name);
  }
  if (shapes.size === 0) throw new FormatError(`The ${what} ${path} holds no tensors. Pass the released checkpoint or a safetensors export of its state dict.`);
  return {
    path,
    fileBytes,
    layout: 'safetensors',
    entry,
    shapes,
    async read(names, options = {}) {
      const wanted = new Map<string, string>();
      for (const n of names) {
        const f = fileName.get(n);
        if (!f) throw new NotFoundError(`${path} has no tensor "${n}".`);
        wanted.set(f, n);
      }
      throwIfAborted(options.signal, 'checkpoint read');
      const content = await readSafetensors(path, { filter: (name) => wanted.has(name) });
      const out: NamedTensors = new Map();
      for (const [f, t] of content.tensors) out.set(getOrThrow(wanted, f, 'requested tensor'), t as CpuTensor);
      options.onProgress?.({ task: 'safetensors-load', current: 1, total: 1, message: path });
      return out;
    },
  };
}

/**
 * Opens a checkpoint for import. The container is detected from the file's first bytes (a ZIP signature means
 * `torch.save`; a safetensors header means safetensors); anything else is passed to the torch reader, whose
 * errors explain legacy and foreign formats. With `'training-checkpoint'` the state dict is `ckpt["ema"]`, else
 * `ckpt["model"]`, else the root (for safetensors: names under `ema.` / all under `model.` / all names).
 * Throws {@link NotFoundError} for a missing file and {@link FormatError} for malformed ones.
 */
export async function openCheckpoint(path: string, what: string, selection: StateDictSelection): Promise<CheckpointSource> {
  const { bytes, size } = await head(path, what);
  const isZip = bytes.length >= 2 && bytes[0] === PK[0] && bytes[1] === PK[1];
  if (!isZip && looksLikeSafetensors(bytes, size)) return openSafetensors(path, what, size, selection);
  return openTorch(path, what, size, selection);
}
