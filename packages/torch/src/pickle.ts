import { at, ConfigError, FormatError } from '@bigr/core';
import type { TorchStorageRef, TorchTensorRef } from './torchTypes.js';

/**
 * A data-only unpickler for Python pickle protocols 2–5, as written by `torch.save`.
 *
 * Nothing is ever executed: `GLOBAL`/`STACK_GLOBAL` are looked up in an allow-list of {@link PickleGlobalHandler}s
 * that turn `REDUCE`/`NEWOBJ` into plain data, and any other global is a {@link FormatError} naming it. Supported
 * opcodes: PROTO, FRAME, STOP, MARK, POP, POP_MARK, DUP; NONE, NEWTRUE, NEWFALSE; BININT, BININT1, BININT2,
 * LONG1, LONG4 (≤ 1 KiB); BINFLOAT; BINUNICODE, SHORT_BINUNICODE, BINUNICODE8; BINSTRING, SHORT_BINSTRING
 * (decoded as UTF-8); BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8; EMPTY_TUPLE, TUPLE, TUPLE1–3; EMPTY_LIST,
 * LIST, APPEND, APPENDS; EMPTY_DICT, DICT, SETITEM, SETITEMS; EMPTY_SET, ADDITEMS, FROZENSET; BINPUT,
 * LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET; GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, NEWOBJ_EX, BUILD; BINPERSID.
 * Text-mode (protocol 0/1) opcodes, extension registry codes and out-of-band buffers are rejected.
 *
 * Python values map to {@link PickleValue}: None → null, bool → boolean, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes/bytearray → Uint8Array, list → array, tuple → frozen array,
 * dict/OrderedDict → {@link PickleDict}, set/frozenset → Set, instances allowed as plain records (argparse.Namespace)
 * → null-prototype object ({@link PickleObject}).
 *
 * Bounds ({@link PickleLimits}): input size, MARK nesting depth, and the total number of values created
 * (stack pushes, container items and memo entries).
 */

/** A Python object decoded as data. Lists are mutable arrays; tuples are frozen arrays (`Object.isFrozen`). */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PickleValue[]
  | PickleDict
  | Set<PickleValue>
  | PickleObject
  | PickleGlobal
  | PickleInstance
  | TorchStorageRef
  | TorchTensorRef;

/**
 * A dict or `collections.OrderedDict` (insertion order kept). Keys are primitive values (compared by value) or
 * objects (compared by identity). Attributes set on the object by BUILD (e.g. the `_metadata` of a state dict)
 * are kept in {@link PickleDict.attributes}.
 */
export class PickleDict extends Map<PickleValue, PickleValue> {
  /** Instance attributes set by BUILD (for OrderedDict state dicts: `_metadata`). */
  readonly attributes = new Map<string, PickleValue>();
  /** Python class: 'builtins.dict' or 'collections.OrderedDict'. */
  readonly pythonClass: string;
  /** An empty dict of the given Python class. */
  constructor(pythonClass = 'builtins.dict') {
    super();
    this.pythonClass = pythonClass;
  }
}

/** An instance of an allow-listed plain-record class (argparse.Namespace): a null-prototype object of its fields. */
export interface PickleObject {
  [field: string]: PickleValue;
}

/** A reference to an allow-listed global (class or function), kept as data: `module.name`. */
export class PickleGlobal {
  /** Module, e.g. 'torch._utils'. */
  readonly module: string;
  /** Attribute name, e.g. '_rebuild_tensor_v2'. */
  readonly name: string;
  /** A reference to `module.name`. */
  constructor(module: string, name: string) {
    this.module = module;
    this.name = name;
  }
  /** 'module.name'. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An allow-listed class instantiated as data: its class, constructor arguments and BUILD state (e.g. numpy.dtype). */
export class PickleInstance {
  /** Qualified class name. */
  readonly className: string;
  /** Constructor (REDUCE/NEWOBJ) arguments. */
  readonly args: readonly PickleValue[];
  /** State set by BUILD, or undefined. */
  state: PickleValue | undefined;
  /** Records an instantiation. */
  constructor(className: string, args: readonly PickleValue[]) {
    this.className = className;
    this.args = args;
  }
}

/** What a handler may use while turning a call into data. */
export interface PickleCallContext {
  /** Location for error messages, e.g. "model.pt: pickle opcode REDUCE at byte 184". */
  readonly where: string;
  /** Applies another allow-listed global (used by wrappers such as `_rebuild_from_type_v2`). */
  callGlobal(callable: PickleValue, args: readonly PickleValue[]): PickleValue;
}

/** How an allow-listed global is represented. */
export interface PickleGlobalHandler {
  /**
   * Turns `REDUCE`/`NEWOBJ` of this global with an argument tuple into data. Absent: the global may appear only
   * as a value (e.g. a storage class inside a persistent id), and calling it is an error.
   */
  readonly call?: (args: readonly PickleValue[], ctx: PickleCallContext) => PickleValue;
  /** When set, the global is recognised but refused with this explanation (a {@link FormatError}). */
  readonly reject?: string;
}

/** Resource bounds of {@link unpickle}. */
export interface PickleLimits {
  /** Largest accepted pickle, in bytes. Default {@link DEFAULT_PICKLE_LIMITS}.maxBytes (256 MB). */
  maxBytes?: number;
  /** Deepest MARK nesting (and container nesting for consumers that walk the result). Default 1000. */
  maxDepth?: number;
  /** Most values created in total (stack pushes, container items, memo entries). Default 20 million. */
  maxItems?: number;
}

/** Default {@link PickleLimits}. */
export const DEFAULT_PICKLE_LIMITS: Readonly<Required<PickleLimits>> = Object.freeze({
  maxBytes: 256 * 1024 * 1024,
  maxDepth: 1000,
  maxItems: 20_000_000,
});

/** Options of {@link unpickle}. */
export interface UnpickleOptions extends PickleLimits {
  /** Allow-list of globals by qualified name ('module.name'); everything else is refused. */
  readonly globals: ReadonlyMap<string, PickleGlobalHandler>;
  /** Resolves `BINPERSID` ids; when absent, persistent ids are refused. */
  readonly persistentLoad?: (pid: PickleValue, ctx: PickleCallContext) => PickleValue;
  /** Name of the source used in error messages. */
  readonly source?: string;
}

/** Python 2 module names that protocol-2 pickles use (`fix_imports`), mapped to their Python 3 names. */
const MODULE_RENAMES: Readonly<Record<string, string>> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/** Opcodes recognised but refused, by byte, with their pickletools names. */
const REFUSED: Readonly<Record<number, string>> = {
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x50: 'PERSID',
  0x67: 'GET',
  0x70: 'PUT',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

function isFrozenArray(v: unknown): v is readonly PickleValue[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function isPlainRecord(v: unknown): v is PickleObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === null;
}

/** Short Python-ish description of a value for error messages. */
export function describePickleValue(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return `int/float ${String(v)}`;
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (v instanceof Uint8Array) return `bytes (${v.length})`;
  if (Array.isArray(v)) return `${Object.isFrozen(v) ? 'tuple' : 'list'} of ${v.length}`;
  if (v instanceof PickleDict) return `${v.pythonClass} of ${v.size}`;
  if (v instanceof Set) return `set of ${v.size}`;
  if (v instanceof PickleGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof PickleInstance) return `${v.className} instance`;
  if (isPlainRecord(v)) return 'object';
  return (v as object).constructor?.name ?? 'object';
}

/** True when `v` is a tuple (frozen array). */
export function isPickleTuple(v: PickleValue | undefined): v is readonly PickleValue[] {
  return isFrozenArray(v);
}

/** True when `v` is an instance decoded as a plain record (argparse.Namespace). */
export function isPickleObject(v: PickleValue | undefined): v is PickleObject {
  return isPlainRecord(v);
}

/**
 * Decodes one pickle. Throws {@link FormatError} on malformed input, refused globals or opcodes, and exceeded
 * limits; never runs code from the pickle.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  readonly #b: Uint8Array;
  readonly #dv: DataView;
  readonly #o: UnpickleOptions;
  readonly #source: string;
  readonly #maxDepth: number;
  readonly #maxItems: number;
  #pos = 0;
  #opAt = 0;
  #opName = '';
  #stack: PickleValue[] = [];
  readonly #metastack: PickleValue[][] = [];
  readonly #memo = new Map<number, PickleValue>();
  #items = 0;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(bytes: Uint8Array, options: UnpickleOptions) {
    this.#b = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#o = options;
    this.#source = options.source ?? 'pickle data';
    const lim = (v: number | undefined, d: number, n: string): number => {
      const x = v ?? d;
      if (!Number.isSafeInteger(x) || x < 0) throw new ConfigError(`${n} is ${String(x)}; expected a non-negative integer.`);
      return x;
    };
    const maxBytes = lim(options.maxBytes, DEFAULT_PICKLE_LIMITS.maxBytes, 'maxBytes');
    this.#maxDepth = lim(options.maxDepth, DEFAULT_PICKLE_LIMITS.maxDepth, 'maxDepth');
    this.#maxItems = lim(options.maxItems, DEFAULT_PICKLE_LIMITS.maxItems, 'maxItems');
    if (bytes.length > maxBytes) {
      throw new FormatError(
        `${this.#source}: the pickle is ${bytes.length} bytes, above the limit of ${maxBytes}. ` +
          `The file is corrupt or hostile; raise maxPickleBytes if it is genuine.`,
      );
    }
  }

  get #where(): string {
    return `${this.#source}: pickle opcode ${this.#opName} at byte ${this.#opAt}`;
  }

  #fail(message: string): never {
    throw new FormatError(`${this.#where}: ${message}`);
  }

  #count(n = 1): void {
    this.#items += n;
    if (this.#items > this.#maxItems) {
      this.#fail(`more than ${this.#maxItems} values were created (the maxItems limit). The pickle is corrupt or hostile; raise maxItems if it is genuine.`);
    }
  }

  #push(v: PickleValue): void {
    this.#count();
    this.#stack.push(v);
  }

  #pop(): PickleValue {
    const v = this.#stack.pop();
    if (v === undefined) this.#fail('stack underflow (the opcode needs a value but the stack is empty or only holds a MARK). The pickle is corrupt.');
    return v;
  }

  #top(): PickleValue {
    const v = this.#stack.at(-1);
    if (v === undefined) this.#fail('stack underflow (the opcode needs a value but the stack is empty). The pickle is corrupt.');
    return v;
  }

  #popMark(): PickleValue[] {
    const items = this.#stack;
    const prev = this.#metastack.pop();
    if (prev === undefined) this.#fail('no MARK to pop to (stack underflow). The pickle is corrupt.');
    this.#stack = prev;
    return items;
  }

  #need(n: number): number {
    const start = this.#pos;
    if (n > this.#b.length - start) {
      this.#fail(`needs ${n} more bytes but the pickle ends after ${this.#b.length - start}. The pickle is truncated.`);
    }
    this.#pos += n;
    return start;
  }

  #u8(): number {
    return at(this.#b, this.#need(1), 'pickle byte');
  }

  #u16(): number {
    return this.#dv.getUint16(this.#need(2), true);
  }

  #u32(): number {
    return this.#dv.getUint32(this.#need(4), true);
  }

  #u64(): number {
    const start = this.#need(8);
    const lo = this.#dv.getUint32(start, true);
    const hi = this.#dv.getUint32(start + 4, true);
    if (hi >= 2 ** 21) this.#fail(`length ${this.#dv.getBigUint64(start, true)} is impossibly large. The pickle is corrupt.`);
    return hi * 2 ** 32 + lo;
  }

  #take(n: number): Uint8Array {
    const start = this.#need(n);
    return this.#b.subarray(start, start + n);
  }

  #text(n: number): string {
    const raw = this.#take(n);
    try {
      return this.#utf8.decode(raw);
    } catch {
      return this.#fail(`the string of ${n} bytes is not valid UTF-8. The pickle is corrupt.`);
    }
  }

  #line(): string {
    const start = this.#pos;
    const limit = Math.min(this.#b.length, start + 1024);
    for (let i = start; i < limit; i++) {
      if (this.#b[i] === 0x0a) {
        this.#pos = i + 1;
        return new TextDecoder('latin1').decode(this.#b.subarray(start, i));
      }
    }
    return this.#fail('expected a newline-terminated name of at most 1024 bytes. The pickle is corrupt or truncated.');
  }

  #long(raw: Uint8Array): number | bigint {
    // Little-endian two's complement: the last byte is the most significant and carries the sign.
    const top = raw.at(-1);
    if (top === undefined) return 0;
    let v = raw.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
    if (top & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  #global(module: string, name: string): PickleGlobal {
    const mod = MODULE_RENAMES[module] ?? module;
    const qualified = `${mod}.${name}`;
    const handler = this.#o.globals.get(qualified);
    if (!handler) {
      this.#fail(
        `global ${qualified} is not allowed. Only data-only torch/collections globals are accepted and nothing from the file is ever executed; ` +
          'if the checkpoint is trusted, re-save just its tensors (e.g. torch.save(model.state_dict(), path) or safetensors).',
      );
    }
    if (handler.reject !== undefined) this.#fail(`global ${qualified} is not supported: ${handler.reject}`);
    return new PickleGlobal(mod, name);
  }

  #context(): PickleCallContext {
    return {
      where: this.#where,
      callGlobal: (callable, args) => this.#call(callable, args),
    };
  }

  #call(callable: PickleValue, args: PickleValue): PickleValue {
    if (!(callable instanceof PickleGlobal)) this.#fail(`can only call an allowed global, not ${describePickleValue(callable)}. The pickle is corrupt.`);
    if (!Array.isArray(args))
      this.#fail(`the arguments of ${callable.qualifiedName} must be a tuple, not ${describePickleValue(args)}. The pickle is corrupt.`);
    const handler = this.#o.globals.get(callable.qualifiedName);
    if (!handler?.call) this.#fail(`${callable.qualifiedName} is allowed only as a value and cannot be called. The pickle is corrupt or unsupported.`);
    try {
      return handler.call(args, this.#context());
    } catch (err) {
      if (err instanceof FormatError) throw err;
      throw new FormatError(`${this.#where}: ${callable.qualifiedName}(...) failed: ${(err as Error).message}`, { cause: err });
    }
  }

  #build(target: PickleValue, state: PickleValue): void {
    let dictState: PickleValue = state;
    if (isFrozenArray(state) && state.length === 2) {
      // (instance __dict__ or None, slot state or None)
      if (state[1] !== null) this.#fail('BUILD with __slots__ state is not supported.');
      dictState = at(state, 0, 'BUILD instance state');
    }
    if (target instanceof PickleInstance) {
      target.state = state;
      return;
    }
    if (dictState === null) return;
    if (!(dictState instanceof PickleDict)) {
      this.#fail(`BUILD state for ${describePickleValue(target)} must be a dict, not ${describePickleValue(dictState)}. The pickle is corrupt or unsupported.`);
    }
    const fields: Array<[string, PickleValue]> = [];
    for (const [k, v] of dictState) {
      if (typeof k !== 'string') this.#fail(`BUILD attribute names must be strings, not ${describePickleValue(k)}.`);
      fields.push([k, v]);
    }
    if (target instanceof PickleDict) {
      for (const [k, v] of fields) target.attributes.set(k, v);
    } else if (isPlainRecord(target)) {
      for (const [k, v] of fields) target[k] = v;
    } else if (fields.length > 0) {
      this.#fail(`BUILD cannot set attributes on ${describePickleValue(target)}. The pickle is corrupt or unsupported.`);
    }
  }

  #setItems(target: PickleValue, items: PickleValue[]): void {
    if (!(target instanceof PickleDict)) this.#fail(`SETITEM(S) needs a dict below the items, not ${describePickleValue(target)}. The pickle is corrupt.`);
    if (items.length % 2 !== 0) this.#fail(`SETITEMS got an odd number (${items.length}) of keys and values. The pickle is corrupt.`);
    this.#count(items.length / 2);
    for (let i = 0; i < items.length; i += 2) target.set(at(items, i, 'SETITEMS key'), at(items, i + 1, 'SETITEMS value'));
  }

  #append(target: PickleValue, items: PickleValue[]): void {
    if (!Array.isArray(target) || Object.isFrozen(target)) {
      this.#fail(`APPEND(S) needs a list below the items, not ${describePickleValue(target)}. The pickle is corrupt.`);
    }
    this.#count(items.length);
    for (const it of items) (target as PickleValue[]).push(it);
  }

  #memoPut(index: number): void {
    if (!this.#memo.has(index)) this.#count();
    this.#memo.set(index, this.#top());
  }

  #memoGet(index: number): void {
    const v = this.#memo.get(index);
    if (v === undefined) this.#fail(`memo entry ${index} was never stored. The pickle is corrupt.`);
    this.#push(v);
  }

  run(): PickleValue {
    const b = this.#b;
    for (;;) {
      if (this.#pos >= b.length) {
        this.#opAt = this.#pos;
        this.#opName = 'STOP';
        this.#fail('the pickle ended without a STOP opcode. The file is truncated.');
      }
      this.#opAt = this.#pos;
      const op = at(b, this.#pos++, 'opcode');
      this.#opName = `0x${op.toString(16).padStart(2, '0')}`;
      switch (op) {
        case 0x80: {
          this.#opName = 'PROTO';
          const v = this.#u8();
          if (v < 2 || v > 5) this.#fail(`protocol ${v} is not supported; expected 2 to 5 (torch.save writes 2).`);
          break;
        }
        case 0x95: {
          this.#opName = 'FRAME';
          const n = this.#u64();
          if (n > b.length - this.#pos) this.#fail(`frame of ${n} bytes runs past the end of the pickle. The pickle is truncated.`);
          break;
        }
        case 0x2e: {
          this.#opName = 'STOP';
          return this.#pop();
        }
        case 0x28:
          this.#opName = 'MARK';
          if (this.#metastack.length >= this.#maxDepth) {
            this.#fail(`MARK nesting exceeds ${this.#maxDepth} (the maxDepth limit). The pickle is corrupt or hostile; raise maxDepth if it is genuine.`);
          }
          this.#metastack.push(this.#stack);
          this.#stack = [];
          break;
        case 0x30:
          this.#opName = 'POP';
          if (this.#stack.length > 0) this.#stack.pop();
          else this.#popMark();
          break;
        case 0x31:
          this.#opName = 'POP_MARK';
          this.#popMark();
          break;
        case 0x32:
          this.#opName = 'DUP';
          this.#push(this.#top());
          break;
        case 0x4e:
          this.#opName = 'NONE';
          this.#push(null);
          break;
        case 0x88:
          this.#opName = 'NEWTRUE';
          this.#push(true);
          break;
        case 0x89:
          this.#opName = 'NEWFALSE';
          this.#push(false);
          break;
        case 0x4a:
          this.#opName = 'BININT';
          this.#push(this.#dv.getInt32(this.#need(4), true));
          break;
        case 0x4b:
          this.#opName = 'BININT1';
          this.#push(this.#u8());
          break;
        case 0x4d:
          this.#opName = 'BININT2';
          this.#push(this.#u16());
          break;
        case 0x8a: {
          this.#opName = 'LONG1';
          this.#push(this.#long(this.#take(this.#u8())));
          break;
        }
        case 0x8b: {
          this.#opName = 'LONG4';
          const n = this.#dv.getInt32(this.#need(4), true);
          if (n < 0 || n > 1024) this.#fail(`integer of ${n} bytes is outside the accepted 0..1024 bytes. The pickle is corrupt or hostile.`);
          this.#push(this.#long(this.#take(n)));
          break;
        }
        case 0x47:
          this.#opName = 'BINFLOAT';
          this.#push(this.#dv.getFloat64(this.#need(8), false));
          break;
        case 0x58:
          this.#opName = 'BINUNICODE';
          this.#push(this.#text(this.#u32()));
          break;
        case 0x8c:
          this.#opName = 'SHORT_BINUNICODE';
          this.#push(this.#text(this.#u8()));
          break;
        case 0x8d:
          this.#opName = 'BINUNICODE8';
          this.#push(this.#text(this.#u64()));
          break;
        case 0x54: {
          this.#opName = 'BINSTRING';
          const n = this.#dv.getInt32(this.#need(4), true);
          if (n < 0) this.#fail(`negative string length ${n}. The pickle is corrupt.`);
          this.#push(this.#text(n));
          break;
        }
        case 0x55:
          this.#opName = 'SHORT_BINSTRING';
          this.#push(this.#text(this.#u8()));
          break;
        case 0x42:
          this.#opName = 'BINBYTES';
          this.#push(this.#take(this.#u32()).slice());
          break;
        case 0x43:
          this.#opName = 'SHORT_BINBYTES';
          this.#push(this.#take(this.#u8()).slice());
          break;
        case 0x8e:
          this.#opName = 'BINBYTES8';
          this.#push(this.#take(this.#u64()).slice());
          break;
        case 0x96:
          this.#opName = 'BYTEARRAY8';
          this.#push(this.#take(this.#u64()).slice());
          break;
        case 0x29:
          this.#opName = 'EMPTY_TUPLE';
          this.#push(Object.freeze([]));
          break;
        case 0x74: {
          this.#opName = 'TUPLE';
          const items = this.#popMark();
          this.#push(Object.freeze(items));
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
          const n = op - 0x84;
          this.#opName = `TUPLE${n}`;
          if (this.#stack.length < n) this.#fail(`stack underflow: needs ${n} values but the stack holds ${this.#stack.length}. The pickle is corrupt.`);
          const items = this.#stack.splice(this.#stack.length - n, n);
          this.#push(Object.freeze(items));
          break;
        }
        case 0x5d:
          this.#opName = 'EMPTY_LIST';
          this.#push([]);
          break;
        case 0x6c: {
          this.#opName = 'LIST';
          this.#push(this.#popMark());
          break;
        }
        case 0x61: {
          this.#opName = 'APPEND';
          const v = this.#pop();
          this.#append(this.#top(), [v]);
          break;
        }
        case 0x65: {
          this.#opName = 'APPENDS';
          const items = this.#popMark();
          this.#append(this.#top(), items);
          break;
        }
        case 0x7d:
          this.#opName = 'EMPTY_DICT';
          this.#push(new PickleDict());
          break;
        case 0x64: {
          this.#opName = 'DICT';
          const items = this.#popMark();
          const d = new PickleDict();
          this.#setItems(d, items);
          this.#push(d);
          break;
        }
        case 0x73: {
          this.#opName = 'SETITEM';
          const v = this.#pop();
          const k = this.#pop();
          this.#setItems(this.#top(), [k, v]);
          break;
        }
        case 0x75: {
          this.#opName = 'SETITEMS';
          const items = this.#popMark();
          this.#setItems(this.#top(), items);
          break;
        }
        case 0x8f:
          this.#opName = 'EMPTY_SET';
          this.#push(new Set());
          break;
        case 0x90: {
          this.#opName = 'ADDITEMS';
          const items = this.#popMark();
          const target = this.#top();
          if (!(target instanceof Set)) this.#fail(`ADDITEMS needs a set below the items, not ${describePickleValue(target)}. The pickle is corrupt.`);
          this.#count(items.length);
          for (const it of items) target.add(it);
          break;
        }
        case 0x91: {
          this.#opName = 'FROZENSET';
          const items = this.#popMark();
          this.#push(new Set(items));
          break;
        }
        case 0x71:
          this.#opName = 'BINPUT';
          this.#memoPut(this.#u8());
          break;
        case 0x72:
          this.#opName = 'LONG_BINPUT';
          this.#memoPut(this.#u32());
          break;
        case 0x94:
          this.#opName = 'MEMOIZE';
          this.#memoPut(this.#memo.size);
          break;
        case 0x68:
          this.#opName = 'BINGET';
          this.#memoGet(this.#u8());
          break;
        case 0x6a:
          this.#opName = 'LONG_BINGET';
          this.#memoGet(this.#u32());
          break;
        case 0x63: {
          this.#opName = 'GLOBAL';
          const module = this.#line();
          const name = this.#line();
          this.#push(this.#global(module, name));
          break;
        }
        case 0x93: {
          this.#opName = 'STACK_GLOBAL';
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            this.#fail(`module and name must be strings, not ${describePickleValue(module)} and ${describePickleValue(name)}. The pickle is corrupt.`);
          }
          this.#push(this.#global(module, name));
          break;
        }
        case 0x52: {
          this.#opName = 'REDUCE';
          const args = this.#pop();
          const callable = this.#pop();
          this.#push(this.#call(callable, args));
          break;
        }
        case 0x81: {
          this.#opName = 'NEWOBJ';
          const args = this.#pop();
          const cls = this.#pop();
          this.#push(this.#call(cls, args));
          break;
        }
        case 0x92: {
          this.#opName = 'NEWOBJ_EX';
          const kwargs = this.#pop();
          const args = this.#pop();
          const cls = this.#pop();
          if (!(kwargs instanceof PickleDict) || kwargs.size > 0) this.#fail('keyword arguments are not supported. The pickle is unsupported.');
          this.#push(this.#call(cls, args));
          break;
        }
        case 0x62: {
          this.#opName = 'BUILD';
          const state = this.#pop();
          this.#build(this.#top(), state);
          break;
        }
        case 0x51: {
          this.#opName = 'BINPERSID';
          const pid = this.#pop();
          if (!this.#o.persistentLoad) this.#fail('persistent ids are not supported for this pickle.');
          this.#push(this.#o.persistentLoad(pid, this.#context()));
          break;
        }
        default: {
          const refused = REFUSED[op];
          if (refused) {
            this.#opName = refused;
            this.#fail(`opcode ${refused} is not supported (only binary protocol 2-5 opcodes that torch.save emits are). Re-save the file with torch.save.`);
          }
          this.#fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}. The pickle is corrupt or not a pickle.`);
        }
      }
    }
  }
}
