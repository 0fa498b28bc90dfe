import { ConfigError, FormatError } from '@bigr/core';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPickleObject, isPickleTuple, PickleDict, unpickle, type PickleValue, type UnpickleOptions } from './pickle.js';
import { OP, Pk } from './test/craft.js';
import { TORCH_PICKLE_GLOBALS, torchPersistentLoad } from './torchGlobals.js';
import { TorchStorageRef, TorchTensorRef } from './torchTypes.js';

function load(p: Pk | Uint8Array, options: Partial<UnpickleOptions> = {}): PickleValue {
  return unpickle(p instanceof Pk ? p.bytes() : p, {
    globals: TORCH_PICKLE_GLOBALS,
    persistentLoad: torchPersistentLoad(new Map()),
    source: 'test.pkl',
    ...options,
  });
}

function expectError(p: Pk | Uint8Array, pattern: RegExp, options: Partial<UnpickleOptions> = {}): FormatError {
  let caught: unknown;
  try {
    load(p, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as Error).message).toMatch(pattern);
  return caught as FormatError;
}

describe('unpickle: values', () => {
  it('decodes integers of every width, floats, booleans and None', () => {
    const p = new Pk().proto().op('MARK');
    p.int(7).int(300).int(-5).int(70000);
    p.long1([]).long1([0xff]).long1([0x00, 0x01]).long1([0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.raw(OP.LONG4).u32(2).raw(0x34, 0x12);
    p.float(-2.5).op('NEWTRUE', 'NEWFALSE', 'NONE', 'LIST', 'STOP');
    expect(load(p)).toEqual([7, 300, -5, 70000, 0, -1, 256, 2n ** 64n, 0x1234, -2.5, true, false, null]);
  });

  it('decodes strings and bytes of every opcode', () => {
    const p = new Pk().proto(4).op('MARK').str('héllo').sstr('short');
    p.raw(OP.BINUNICODE8).u64(2).raw(0x6f, 0x6b);
    p.raw(OP.SHORT_BINSTRING, 2, 0x68, 0x69).raw(OP.BINSTRING).u32(1).raw(0x21);
    p.raw(OP.SHORT_BINBYTES, 3, 1, 2, 3).raw(OP.BINBYTES).u32(1).raw(9).raw(OP.BINBYTES8).u64(0);
    p.op('LIST', 'STOP');
    expect(load(p)).toEqual(['héllo', 'short', 'ok', 'hi', '!', Uint8Array.of(1, 2, 3), Uint8Array.of(9), new Uint8Array(0)]);
  });

  it('builds tuples (frozen), lists, dicts, sets and honours the memo', () => {
    const p = new Pk().proto(4);
    p.raw(OP.FRAME).u64(0);
    p.op('EMPTY_DICT', 'MEMOIZE', 'MARK');
    p.str('t').int(1).int(2).op('TUPLE2').raw(OP.BINPUT, 5);
    p.str('t1').int(9).op('TUPLE1');
    p.str('t3').int(1).int(2).int(3).op('TUPLE3');
    p.str('t0').op('EMPTY_TUPLE');
    p.str('big').ints([1, 2, 3, 4]);
    p.str('list').op('EMPTY_LIST').int(1).op('APPEND', 'MARK').int(2).int(3).op('APPENDS');
    p.str('again').raw(OP.BINGET, 5);
    p.str('long_memo').str('x').raw(OP.LONG_BINPUT).u32(70000).op('POP').raw(OP.LONG_BINGET).u32(70000);
    p.str('set').op('EMPTY_SET', 'MARK').int(1).int(2).op('ADDITEMS');
    p.str('frozen').op('MARK').str('a').op('FROZENSET');
    p.str('dict').op('MARK').str('k').op('NONE', 'DICT');
    p.str('dup').int(4).op('DUP', 'TUPLE2');
    p.str('popmark').op('MARK').int(1).int(2).op('POP_MARK').op('NONE');
    p.op('SETITEMS').str('self').raw(OP.BINGET, 0).op('SETITEM', 'STOP');
    const v = load(p) as PickleDict;
    expect(v).toBeInstanceOf(PickleDict);
    expect(v.get('t')).toEqual([1, 2]);
    expect(isPickleTuple(v.get('t'))).toBe(true);
    expect(v.get('t1')).toEqual([9]);
    expect(v.get('t3')).toEqual([1, 2, 3]);
    expect(v.get('t0')).toEqual([]);
    expect(v.get('big')).toEqual([1, 2, 3, 4]);
    expect(v.get('list')).toEqual([1, 2, 3]);
    expect(isPickleTuple(v.get('list'))).toBe(false);
    expect(v.get('again')).toBe(v.get('t'));
    expect(v.get('long_memo')).toBe('x');
    expect(v.get('set')).toEqual(new Set([1, 2]));
    expect(v.get('frozen')).toEqual(new Set(['a']));
    expect((v.get('dict') as PickleDict).get('k')).toBeNull();
    expect(v.get('dup')).toEqual([4, 4]);
    expect(v.get('popmark')).toBeNull();
    expect(v.get('self')).toBe(v); // cycles are data, not a problem for the decoder
  });

  it('maps protocol-2 bytes (_codecs.encode), sets (__builtin__.set) and OrderedDict(list of pairs)', () => {
    const p = new Pk().proto().op('MARK');
    p.global('_codecs', 'encode').str('\u00ff\u0001').str('latin1').op('TUPLE2', 'REDUCE');
    p.global('__builtin__', 'set').op('EMPTY_LIST').int(3).op('APPEND', 'TUPLE1', 'REDUCE');
    p.global('collections', 'OrderedDict').op('MARK', 'EMPTY_LIST').str('a').int(1).op('TUPLE2', 'APPEND', 'TUPLE', 'REDUCE');
    p.op('LIST', 'STOP');
    const [b, s, d] = load(p) as PickleValue[];
    expect(b).toEqual(Uint8Array.of(255, 1));
    expect(s).toEqual(new Set([3]));
    expect(d).toBeInstanceOf(PickleDict);
    expect([...(d as PickleDict)]).toEqual([['a', 1]]);
    expect((d as PickleDict).pythonClass).toBe('collections.OrderedDict');
  });

  it('turns argparse.Namespace (NEWOBJ + BUILD) into a plain object and keeps OrderedDict attributes', () => {
    const p = new Pk().proto().op('MARK');
    p.global('argparse', 'Namespace').op('EMPTY_TUPLE', 'NEWOBJ', 'EMPTY_DICT', 'MARK').str('lr').float(1e-4).str('name').str('bigr').op('SETITEMS', 'BUILD');
    p.orderedDict().op('EMPTY_DICT').str('_metadata').op('EMPTY_DICT', 'SETITEM', 'BUILD');
    p.op('LIST', 'STOP');
    const [ns, od] = load(p) as PickleValue[];
    expect(isPickleObject(ns)).toBe(true);
    expect({ ...(ns as object) }).toEqual({ lr: 1e-4, name: 'bigr' });
    expect((od as PickleDict).attributes.get('_metadata')).toBeInstanceOf(PickleDict);
  });

  it('decodes trivial numpy scalars and refuses numpy arrays', () => {
    const scalar = (descr: string, bytes: number[]): Pk => {
      const p = new Pk().proto().global('numpy.core.multiarray', 'scalar');
      p.global('numpy', 'dtype').str(descr).op('NEWFALSE', 'NEWTRUE', 'TUPLE3', 'REDUCE');
      p.op('MARK').int(3).str('<').op('NONE', 'NONE', 'NONE').raw(OP.BININT).u32(0xffffffff).raw(OP.BININT).u32(0xffffffff).int(0).op('TUPLE', 'BUILD');
      p.raw(OP.SHORT_BINBYTES, bytes.length, ...bytes).op('TUPLE2', 'REDUCE', 'STOP');
      return p;
    };
    expect(load(scalar('f8', [...new Uint8Array(Float64Array.of(0.25).buffer)]))).toBe(0.25);
    expect(load(scalar('i8', [5, 0, 0, 0, 0, 0, 0, 0]))).toBe(5);
    expectError(scalar('c16', [0]), /numpy scalar of dtype c16 .* not supported/);
    expectError(new Pk().proto().global('numpy.core.multiarray', '_reconstruct'), /numpy\.core\.multiarray\._reconstruct is not supported: numpy arrays/);
  });

  it('returns torch tensor references for _rebuild_tensor_v2 and _rebuild_parameter', () => {
    const p = new Pk().proto().global('torch._utils', '_rebuild_parameter').op('MARK');
    p.tensor('FloatStorage', '0', 6, 0, [2, 3], [3, 1]).op('NEWTRUE').orderedDict().op('TUPLE', 'REDUCE', 'STOP');
    const t = load(p) as TorchTensorRef;
    expect(t).toBeInstanceOf(TorchTensorRef);
    expect(t.storage).toBeInstanceOf(TorchStorageRef);
    expect(t).toMatchObject({ offset: 0, shape: [2, 3], stride: [3, 1], requiresGrad: true, isParameter: true });
    expect(t.storage).toMatchObject({ key: '0', storageType: 'FloatStorage', dtype: 'float32', numel: 6, location: 'cpu' });
  });
});

describe('unpickle: safety and malformed input', () => {
  it('refuses os.system (GLOBAL and STACK_GLOBAL) before anything could run', () => {
    const marker = join(tmpdir(), `bigr-pickle-pwned-${process.pid}`);
    const evil = new Pk().proto().global('os', 'system').str(`touch ${marker}`).op('TUPLE1', 'REDUCE', 'STOP');
    const err = expectError(evil, /global os\.system is not allowed.*nothing from the file is ever executed/);
    expect(err.message).toContain('byte 2');
    expect(existsSync(marker)).toBe(false);
    expectError(new Pk().proto(4).sstr('posix').sstr('system').op('STACK_GLOBAL'), /global posix\.system is not allowed/);
    expectError(new Pk().proto().global('__builtin__', 'eval'), /global builtins\.eval is not allowed/);
    expectError(new Pk().proto().global('torch', 'load'), /global torch\.load is not allowed/);
    expectError(new Pk().proto().global('torch.storage', '_load_from_bytes'), /_load_from_bytes is not supported/);
  });

  it('refuses to call globals that are allowed only as values', () => {
    expectError(new Pk().proto().global('torch', 'FloatStorage').op('EMPTY_TUPLE', 'REDUCE', 'STOP'), /torch\.FloatStorage is allowed only as a value/);
    expectError(new Pk().proto().int(1).op('EMPTY_TUPLE', 'REDUCE', 'STOP'), /can only call an allowed global/);
  });

  it('rejects unknown and text-mode opcodes', () => {
    expectError(new Pk().proto().raw(0xff), /unknown opcode 0xff/);
    expectError(new Pk().proto().raw(OP.INT, 0x31, 0x0a), /opcode INT is not supported/);
    expectError(new Pk().proto(1), /protocol 1 is not supported/);
    expectError(new Pk().proto(6), /protocol 6 is not supported/);
  });

  it('reports stack underflow, missing MARKs and bad memo keys', () => {
    expectError(new Pk().proto().op('STOP'), /STOP at byte 2: stack underflow/);
    expectError(new Pk().proto().int(1).op('TUPLE2'), /TUPLE2 .*stack underflow/);
    expectError(new Pk().proto().int(1).op('TUPLE'), /no MARK to pop to/);
    expectError(new Pk().proto().op('EMPTY_DICT').int(1).op('SETITEM'), /stack underflow/);
    expectError(new Pk().proto().op('EMPTY_DICT', 'MARK').int(1).op('SETITEMS'), /odd number/);
    expectError(new Pk().proto().op('EMPTY_TUPLE').int(1).op('APPEND'), /APPEND\(S\) needs a list/);
    expectError(new Pk().proto().raw(OP.BINGET, 3), /memo entry 3 was never stored/);
    expectError(new Pk().proto().raw(OP.BINPUT, 3), /stack underflow/);
  });

  it('reports truncation', () => {
    expectError(new Pk().proto().int(1), /ended without a STOP/);
    expectError(new Pk().proto().raw(OP.BINUNICODE).u32(100).raw(0x61), /needs 100 more bytes .* truncated/);
    expectError(new Pk().proto(4).raw(OP.FRAME).u64(1000), /frame of 1000 bytes runs past the end/);
    expectError(new Pk().proto().raw(OP.GLOBAL, 0x61, 0x62), /newline-terminated/);
    expectError(new Pk().proto().raw(OP.BINUNICODE8).u32(0).u32(0xffffffff), /impossibly large/);
  });

  it('enforces size, depth and item limits', () => {
    const p = new Pk().proto().str('x'.repeat(100)).op('STOP');
    expectError(p, /the pickle is \d+ bytes, above the limit of 50/, { maxBytes: 50 });
    const deep = new Pk().proto();
    for (let i = 0; i < 20; i++) deep.op('MARK');
    expectError(deep, /MARK nesting exceeds 10/, { maxDepth: 10 });
    const many = new Pk().proto().op('EMPTY_LIST', 'MARK');
    for (let i = 0; i < 50; i++) many.int(1);
    many.op('APPENDS', 'STOP');
    expectError(many, /more than 20 values/, { maxItems: 20 });
    expect(() => load(p, { maxItems: -1 })).toThrow(ConfigError);
  });

  it('validates persistent ids and tensor views', () => {
    const pid = (key: PickleValue): Pk => {
      const p = new Pk().proto().op('MARK').str('storage').global('torch', 'FloatStorage');
      if (typeof key === 'string') p.str(key);
      else p.int(key as number);
      return p.str('cpu').int(4).op('TUPLE', 'BINPERSID', 'STOP');
    };
    expect(load(pid('0'))).toBeInstanceOf(TorchStorageRef);
    expectError(pid('../etc/passwd'), /storage key .* not a plain entry name/);
    expectError(pid(3), /storage key .* not a plain entry name/);
    expectError(new Pk().proto().str('x').op('BINPERSID'), /persistent id .* is not a \('storage'/);
    expectError(pid('0'), /persistent ids are not supported/, { persistentLoad: undefined });
    const outOfBounds = new Pk().proto().tensor('FloatStorage', '0', 6, 2, [2, 3], [3, 1]).op('STOP');
    expectError(outOfBounds, /reaches element 7, but storage "0" has only 6 elements/);
    const rank = new Pk().proto().tensor('FloatStorage', '0', 6, 0, [2, 3], [1]).op('STOP');
    expectError(rank, /size has 2 dimensions but its stride has 1/);
    const twice = new Pk().proto().op('MARK');
    twice.storage('FloatStorage', '0', 4).storage('HalfStorage', '0', 4).op('LIST', 'STOP');
    expectError(twice, /storage "0" is referenced as FloatStorage\[4\] and as HalfStorage\[4\]/);
  });
});
