import { at, FormatError, f16BitsToNumber } from '@bigr/core';
import {
  describePickleValue,
  isPickleTuple,
  PickleDict,
  PickleGlobal,
  PickleInstance,
  type PickleCallContext,
  type PickleGlobalHandler,
  type PickleValue,
} from './pickle.js';
import { TORCH_STORAGE_TYPES, TorchStorageRef, TorchTensorRef } from './torchTypes.js';

/**
 * The allow-list of Python globals a torch checkpoint pickle may name, each represented as data (see
 * {@link TORCH_PICKLE_GLOBALS}), and the persistent-id resolver for storages.
 */

/** Most dimensions accepted for a tensor. */
const MAX_DIMS = 64;

function fail(ctx: PickleCallContext, message: string): never {
  throw new FormatError(`${ctx.where}: ${message}`);
}

function tupleArg(ctx: PickleCallContext, fn: string, v: PickleValue | undefined, what: string): readonly PickleValue[] {
  if (!Array.isArray(v)) fail(ctx, `${fn}: ${what} must be a tuple, not ${describePickleValue(v)}. The checkpoint is corrupt.`);
  return v as readonly PickleValue[];
}

function nonNegativeInt(ctx: PickleCallContext, fn: string, v: PickleValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(ctx, `${fn}: ${what} is ${describePickleValue(v)}; expected a non-negative integer. The checkpoint is corrupt.`);
  }
  return v;
}

function intList(ctx: PickleCallContext, fn: string, v: PickleValue | undefined, what: string): number[] {
  const items = tupleArg(ctx, fn, v, what);
  if (items.length > MAX_DIMS) fail(ctx, `${fn}: ${what} has ${items.length} dimensions, more than the ${MAX_DIMS} accepted. The checkpoint is corrupt.`);
  return items.map((x, i) => nonNegativeInt(ctx, fn, x, `${what}[${i}]`));
}

/**
 * Validates a strided view against its storage: equal ranks, and every reachable element
 * `offset + Σ (shape[d]-1)·stride[d]` inside the storage. Returns the view's element count.
 */
export function checkTensorView(storage: TorchStorageRef, offset: number, shape: readonly number[], stride: readonly number[], where: string): number {
  if (shape.length !== stride.length) {
    throw new FormatError(`${where}: tensor size has ${shape.length} dimensions but its stride has ${stride.length}. The checkpoint is corrupt.`);
  }
  let numel = 1;
  let last = offset;
  for (const [d, n] of shape.entries()) {
    if (n !== 0 && numel > Number.MAX_SAFE_INTEGER / n) {
      throw new FormatError(`${where}: tensor size [${shape.join(', ')}] overflows. The checkpoint is corrupt.`);
    }
    numel *= n;
    if (n > 0) last += (n - 1) * at(stride, d, 'view stride');
  }
  if (numel > 0 && (!Number.isSafeInteger(last) || last >= storage.numel)) {
    throw new FormatError(
      `${where}: tensor view (offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches element ${last}, ` +
        `but storage "${storage.key}" has only ${storage.numel} elements. The checkpoint is corrupt.`,
    );
  }
  return numel;
}

/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(fn: string, minArgs: number, args: readonly PickleValue[], ctx: PickleCallContext): TorchTensorRef {
  if (args.length < minArgs || args.length > 7) fail(ctx, `${fn} got ${args.length} arguments; expected ${minArgs} to 7. The checkpoint is corrupt.`);
  const storage = args[0];
  if (!(storage instanceof TorchStorageRef)) {
    fail(ctx, `${fn}: the first argument must be a storage (persistent id), not ${describePickleValue(storage)}. The checkpoint is corrupt.`);
  }
  const offset = nonNegativeInt(ctx, fn, args[1], 'storage_offset');
  const shape = intList(ctx, fn, args[2], 'size');
  const stride = intList(ctx, fn, args[3], 'stride');
  const requiresGrad = args[4] ?? false;
  if (typeof requiresGrad !== 'boolean') fail(ctx, `${fn}: requires_grad is ${describePickleValue(requiresGrad)}; expected a bool. The checkpoint is corrupt.`);
  checkTensorView(storage, offset, shape, stride, ctx.where);
  return new TorchTensorRef(storage, offset, shape, stride, requiresGrad);
}

function rebuildParameter(fn: string, args: readonly PickleValue[], ctx: PickleCallContext): TorchTensorRef {
  if (args.length < 3 || args.length > 4) fail(ctx, `${fn} got ${args.length} arguments; expected 3 or 4. The checkpoint is corrupt.`);
  const data = args[0];
  if (!(data instanceof TorchTensorRef)) fail(ctx, `${fn}: data must be a tensor, not ${describePickleValue(data)}. The checkpoint is corrupt.`);
  const requiresGrad = args[1];
  if (typeof requiresGrad !== 'boolean') fail(ctx, `${fn}: requires_grad is ${describePickleValue(requiresGrad)}; expected a bool. The checkpoint is corrupt.`);
  return data.asParameter(requiresGrad);
}

function orderedDict(args: readonly PickleValue[], ctx: PickleCallContext, pythonClass: string): PickleDict {
  const d = new PickleDict(pythonClass);
  if (args.length === 0) return d;
  if (args.length !== 1) fail(ctx, `${pythonClass}() got ${args.length} arguments; expected at most 1.`);
  const src = args[0];
  if (src instanceof PickleDict) {
    for (const [k, v] of src) d.set(k, v);
    return d;
  }
  if (!Array.isArray(src)) fail(ctx, `${pythonClass}() argument must be a dict or a list of pairs, not ${describePickleValue(src)}.`);
  for (const pair of src as readonly PickleValue[]) {
    const entry: readonly PickleValue[] = Array.isArray(pair) ? pair : [];
    const [k, v] = entry;
    if (entry.length !== 2 || k === undefined || v === undefined)
      fail(ctx, `${pythonClass}() items must be (key, value) pairs, not ${describePickleValue(pair)}.`);
    d.set(k, v);
  }
  return d;
}

function makeSet(args: readonly PickleValue[], ctx: PickleCallContext): Set<PickleValue> {
  if (args.length === 0) return new Set();
  const src = args[0];
  if (args.length !== 1 || !Array.isArray(src)) fail(ctx, `set() expects one list argument, got ${args.length} arguments.`);
  return new Set(src as readonly PickleValue[]);
}

/** numpy dtype descriptors accepted by `numpy.core.multiarray.scalar`: item size and decoder. */
const NUMPY_SCALARS: Readonly<Record<string, [number, (dv: DataView) => PickleValue]>> = {
  f2: [2, (dv) => f16BitsToNumber(dv.getUint16(0, true))],
  f4: [4, (dv) => dv.getFloat32(0, true)],
  f8: [8, (dv) => dv.getFloat64(0, true)],
  i1: [1, (dv) => dv.getInt8(0)],
  i2: [2, (dv) => dv.getInt16(0, true)],
  i4: [4, (dv) => dv.getInt32(0, true)],
  i8: [8, (dv) => safeBig(dv.getBigInt64(0, true))],
  u1: [1, (dv) => dv.getUint8(0)],
  u2: [2, (dv) => dv.getUint16(0, true)],
  u4: [4, (dv) => dv.getUint32(0, true)],
  u8: [8, (dv) => safeBig(dv.getBigUint64(0, true))],
  b1: [1, (dv) => dv.getUint8(0) !== 0],
};

function safeBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** `numpy.core.multiarray.scalar(dtype, bytes)` for plain little-endian numeric dtypes → number/bigint/boolean. */
function numpyScalar(args: readonly PickleValue[], ctx: PickleCallContext): PickleValue {
  const [dtype, raw] = args;
  const descr = dtype instanceof PickleInstance && dtype.className === 'numpy.dtype' ? dtype.args[0] : undefined;
  const state = dtype instanceof PickleInstance && isPickleTuple(dtype.state) ? dtype.state : undefined;
  const order = state?.[1];
  const spec = typeof descr === 'string' ? NUMPY_SCALARS[descr] : undefined;
  if (!spec || !(raw instanceof Uint8Array) || (order !== undefined && order !== '<' && order !== '|')) {
    fail(
      ctx,
      `numpy scalar of dtype ${typeof descr === 'string' ? descr : describePickleValue(descr)} (byte order ${String(order)}) is not supported; ` +
        `only little-endian ${Object.keys(NUMPY_SCALARS).join('/')} scalars are. Convert numpy values to Python numbers (float(x), int(x)) before torch.save.`,
    );
  }
  if (raw.length !== spec[0]) fail(ctx, `numpy scalar of dtype ${descr} needs ${spec[0]} bytes but has ${raw.length}. The checkpoint is corrupt.`);
  return spec[1](new DataView(raw.buffer, raw.byteOffset, raw.byteLength));
}

const REJECT_NUMPY_ARRAY =
  'numpy arrays cannot be read without executing numpy code. Convert them to torch tensors (torch.from_numpy) or Python lists before torch.save.';

function buildGlobals(): Map<string, PickleGlobalHandler> {
  const g = new Map<string, PickleGlobalHandler>();
  g.set('collections.OrderedDict', { call: (a, c) => orderedDict(a, c, 'collections.OrderedDict') });
  g.set('builtins.dict', { call: (a, c) => orderedDict(a, c, 'builtins.dict') });
  g.set('builtins.set', { call: makeSet });
  g.set('builtins.frozenset', { call: makeSet });
  g.set('_codecs.encode', {
    // protocol 2 pickles bytes as _codecs.encode(latin1 text, 'latin1')
    call: (a, c) => {
      const [text, enc] = a;
      if (typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) {
        fail(c, `_codecs.encode is accepted only as encode(str, 'latin1') (how protocol 2 stores bytes), not with ${describePickleValue(enc)}.`);
      }
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code > 255) fail(c, `_codecs.encode(..., 'latin1') got a character outside latin-1 (U+${code.toString(16)}). The checkpoint is corrupt.`);
        out[i] = code;
      }
      return out;
    },
  });
  g.set('argparse.Namespace', {
    call: (a, c) => {
      if (a.length !== 0) fail(c, `argparse.Namespace is accepted only with no positional arguments (fields come from BUILD).`);
      return Object.create(null) as PickleValue;
    },
  });
  g.set('torch._utils._rebuild_tensor_v2', { call: (a, c) => rebuildTensor('torch._utils._rebuild_tensor_v2', 6, a, c) });
  g.set('torch._utils._rebuild_tensor', { call: (a, c) => rebuildTensor('torch._utils._rebuild_tensor', 4, a, c) });
  g.set('torch._utils._rebuild_parameter', { call: (a, c) => rebuildParameter('torch._utils._rebuild_parameter', a, c) });
  g.set('torch._utils._rebuild_parameter_with_state', { call: (a, c) => rebuildParameter('torch._utils._rebuild_parameter_with_state', a, c) });
  g.set('torch._tensor._rebuild_from_type_v2', {
    // (func, new_type, args, state): a tensor subclass wrapper; only plain Tensor/Parameter types are accepted.
    call: (a, c) => {
      const [func, type, args] = a;
      if (!(type instanceof PickleGlobal) || (type.qualifiedName !== 'torch.Tensor' && type.qualifiedName !== 'torch.nn.parameter.Parameter')) {
        fail(
          c,
          `_rebuild_from_type_v2 for type ${describePickleValue(type)} is not supported; only torch.Tensor and torch.nn.Parameter are. ` +
            `Save plain tensors (state_dict()).`,
        );
      }
      const t = c.callGlobal(func ?? null, tupleArg(c, '_rebuild_from_type_v2', args, 'args'));
      if (!(t instanceof TorchTensorRef)) fail(c, `_rebuild_from_type_v2 must rebuild a tensor, got ${describePickleValue(t)}.`);
      return type.qualifiedName === 'torch.nn.parameter.Parameter' ? t.asParameter(t.requiresGrad) : t;
    },
  });
  g.set('torch.Tensor', {});
  g.set('torch.nn.parameter.Parameter', {});
  for (const name of Object.keys(TORCH_STORAGE_TYPES)) g.set(`torch.${name}`, {});
  g.set('torch.device', {
    call: (a, c) => {
      if (typeof a[0] !== 'string') fail(c, `torch.device expects a device string, not ${describePickleValue(a[0])}.`);
      return a.length > 1 && typeof a[1] === 'number' ? `${a[0]}:${a[1]}` : a[0];
    },
  });
  for (const dt of [
    'float32',
    'float64',
    'float16',
    'bfloat16',
    'int64',
    'int32',
    'int16',
    'int8',
    'uint8',
    'bool',
    'float',
    'double',
    'half',
    'long',
    'int',
  ]) {
    g.set(`torch.${dt}`, {});
  }
  for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    g.set(`${mod}.scalar`, { call: numpyScalar });
    g.set(`${mod}._reconstruct`, { reject: REJECT_NUMPY_ARRAY });
  }
  g.set('numpy.dtype', { call: (a) => new PickleInstance('numpy.dtype', a) });
  g.set('numpy.ndarray', { reject: REJECT_NUMPY_ARRAY });
  g.set('torch.storage._load_from_bytes', {
    reject:
      'it embeds a legacy nested torch.save blob that can only be loaded by running torch. Re-save the checkpoint with torch >= 1.6 (torch.save(obj, path)).',
  });
  g.set('torch._utils._rebuild_sparse_tensor', { reject: 'sparse tensors are not supported. Convert them with .to_dense() before saving.' });
  g.set('torch._utils._rebuild_qtensor', { reject: 'quantized tensors are not supported. Dequantize them with .dequantize() before saving.' });
  g.set('torch._utils._rebuild_meta_tensor_no_storage', { reject: 'meta tensors hold no data. Save real (CPU) tensors.' });
  g.set('torch._utils._rebuild_device_tensor_from_numpy', { reject: REJECT_NUMPY_ARRAY });
  return g;
}

/**
 * Allow-list of globals for torch checkpoints, each represented as data:
 * `collections.OrderedDict`, `builtins.dict/set/frozenset`, `_codecs.encode` (protocol-2 bytes),
 * `argparse.Namespace` (→ plain object), `torch._utils._rebuild_tensor_v2`/`_rebuild_tensor`/`_rebuild_parameter`/
 * `_rebuild_parameter_with_state`, `torch._tensor._rebuild_from_type_v2` (plain Tensor/Parameter only), the legacy
 * storage classes (`torch.FloatStorage`, ... as values), `torch.device`, torch dtypes (as values), and
 * `numpy.core.multiarray.scalar` for plain numeric scalars. numpy arrays, `torch.storage._load_from_bytes`,
 * sparse/quantized/meta tensors are recognised and refused with an explanation; anything else is refused by name.
 */
export const TORCH_PICKLE_GLOBALS: ReadonlyMap<string, PickleGlobalHandler> = buildGlobals();

/** Characters allowed in a storage key (entry names under `<archive>/data/`). */
const KEY_PATTERN = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * Returns a `persistent_load` for torch pickles: each `('storage', torch.<Type>Storage, key, location, numel)` id
 * becomes a {@link TorchStorageRef}; the same key always yields the same object (so shared storages are detected),
 * and a key reused with another type or size is an error. `storages` receives every storage seen.
 */
export function torchPersistentLoad(storages: Map<string, TorchStorageRef>): (pid: PickleValue, ctx: PickleCallContext) => PickleValue {
  return (pid, ctx) => {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      fail(
        ctx,
        `persistent id ${describePickleValue(pid)} is not a ('storage', type, key, location, numel) tuple. ` +
          `The checkpoint is corrupt or from an unsupported torch version.`,
      );
    }
    const [, type, key, location, numel] = pid as readonly PickleValue[];
    if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !TORCH_STORAGE_TYPES[type.name]) {
      fail(
        ctx,
        `persistent id names storage type ${describePickleValue(type)}; expected one of ${Object.keys(TORCH_STORAGE_TYPES)
          .map((n) => `torch.${n}`)
          .join(', ')}.`,
      );
    }
    if (typeof key !== 'string' || !KEY_PATTERN.test(key) || key === '.' || key === '..') {
      fail(ctx, `storage key ${describePickleValue(key)} is not a plain entry name (letters, digits, '_', '.', '-'). The checkpoint is corrupt or hostile.`);
    }
    if (typeof location !== 'string') fail(ctx, `storage location ${describePickleValue(location)} is not a string. The checkpoint is corrupt.`);
    const n = nonNegativeInt(ctx, 'persistent id', numel, 'numel');
    const prev = storages.get(key);
    if (prev) {
      if (prev.storageType !== type.name || prev.numel !== n) {
        fail(ctx, `storage "${key}" is referenced as ${prev.storageType}[${prev.numel}] and as ${type.name}[${n}]. The checkpoint is corrupt.`);
      }
      return prev;
    }
    const ref = new TorchStorageRef(key, type.name, n, location);
    storages.set(key, ref);
    return ref;
  };
}
