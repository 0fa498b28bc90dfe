import { AbortError, FormatError, getOrThrow, NotFoundError } from '@bigr/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PickleDict, isPickleObject, isPickleTuple } from './pickle.js';
import { buildZip, f32, i64, Pk, torchZip, u16 } from './test/craft.js';
import { fixtureBytes, P4_PT, TORCH_SAVED_PARAM, TORCH_SAVED_PT } from './test/torchSavedFixtures.js';
import { readTorchCheckpoint, readTorchStateDict } from './torchCheckpoint.js';
import { ZipArchive } from './zipArchive.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-torch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  jest.restoreAllMocks();
});

async function file(bytes: Uint8Array, ext = 'pt'): Promise<string> {
  const p = join(dir, `c${n++}.${ext}`);
  await writeFile(p, bytes);
  return p;
}

/** Counts full reads per entry name while `fn` runs. */
async function countReads<T>(fn: () => Promise<T>): Promise<{ result: T; reads: Map<string, number> }> {
  const reads = new Map<string, number>();
  const orig = ZipArchive.prototype.read;
  jest.spyOn(ZipArchive.prototype, 'read').mockImplementation(function (this: ZipArchive, e, o) {
    const name = typeof e === 'string' ? e : e.name;
    reads.set(name, (reads.get(name) ?? 0) + 1);
    return orig.call(this, e, o);
  });
  const result = await fn();
  return { result, reads };
}

async function expectFormatError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(pattern);
}

const range = (k: number): number[] => Array.from({ length: k }, (_, i) => i);

describe('readTorchCheckpoint on files written by PyTorch 1.13', () => {
  it('reads every dtype, views, parameters, nested dicts and the args Namespace', async () => {
    const path = await file(fixtureBytes(TORCH_SAVED_PT));
    const ckpt = await readTorchCheckpoint(path);
    expect(ckpt.archiveName).toBe('torch_saved');
    expect(ckpt.formatVersion).toBe(3);
    const root = ckpt.root as PickleDict;
    expect(root.get('steps')).toBe(10);
    const args = root.get('args');
    expect(isPickleObject(args)).toBe(true);
    const a = args as Record<string, unknown>;
    expect(a['lr']).toBe(1e-4);
    expect(a['tags']).toEqual(new Set(['a']));
    expect(isPickleTuple(a['t'] as never)).toBe(true);
    expect(a['t']).toEqual([1, 2]);
    expect((root.get('ema') as PickleDict).pythonClass).toBe('collections.OrderedDict');

    const { result: t, reads } = await countReads(() => ckpt.tensors());
    const get = (k: string): { dtype: string; shape: readonly number[]; data: number[] } => {
      const x = getOrThrow(t, k);
      return { dtype: x.dtype, shape: x.shape, data: Array.from(x.data) };
    };
    expect(get('ema.w')).toEqual({ dtype: 'float32', shape: [3, 4], data: range(12) });
    // base.t(): element [i][j] = base[j][i] = 4j + i
    expect(get('ema.wt')).toEqual({ dtype: 'float32', shape: [4, 3], data: range(12).map((k) => 4 * (k % 3) + Math.floor(k / 3)) });
    // base[1:, ::2] = [[4, 6], [8, 10]] (offset 4, stride [4, 2])
    expect(get('ema.slice')).toEqual({ dtype: 'float32', shape: [2, 2], data: [4, 6, 8, 10] });
    expect(get('ema.half')).toEqual({ dtype: 'float32', shape: [3], data: [0.5, -2, 65504] });
    expect(get('ema.bf16')).toEqual({ dtype: 'float32', shape: [2], data: [1.5, -3] });
    expect(get('ema.long')).toEqual({ dtype: 'int32', shape: [2, 2], data: [1, -2, 3, 2 ** 31 - 1] });
    expect(get('ema.int')).toEqual({ dtype: 'int32', shape: [1], data: [7] });
    expect(get('ema.bool')).toEqual({ dtype: 'uint8', shape: [2], data: [1, 0] });
    expect(get('ema.u8')).toEqual({ dtype: 'uint8', shape: [2], data: [0, 200] });
    expect(get('ema.i8')).toEqual({ dtype: 'int32', shape: [2], data: [-100, 5] });
    expect(get('ema.i16')).toEqual({ dtype: 'int32', shape: [1], data: [-30000] });
    expect(get('ema.f64')).toEqual({ dtype: 'float64', shape: [], data: [2.5] });
    expect(get('ema.param').data).toEqual(TORCH_SAVED_PARAM.map((v) => Math.fround(v)));
    expect(get('ema.nested.x')).toEqual({ dtype: 'float32', shape: [2], data: [1, 1] });
    expect(get('dup')).toEqual(get('ema.w'));
    // 'dup', 'ema.w', 'ema.wt' and 'ema.slice' share storage 0: it is read once, and identical views share data.
    expect(reads.get('torch_saved/data/0')).toBe(1);
    expect(getOrThrow(t, 'dup').data).toBe(getOrThrow(t, 'ema.w').data);
    expect(getOrThrow(t, 'ema.param').dtype).toBe('float32');
    expect(getOrThrow(ckpt.tensorRefs('ema'), 'param').isParameter).toBe(true);
  });

  it('reads a protocol-4 pickle (FRAME, MEMOIZE, STACK_GLOBAL) with subkey selection', async () => {
    const path = await file(fixtureBytes(P4_PT));
    const t = await readTorchStateDict(path, { subkey: 'model' });
    expect([...t.keys()]).toEqual(['a', 'b']);
    expect(getOrThrow(t, 'a').shape).toEqual([3, 2]);
    expect(Array.from(getOrThrow(t, 'a').data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(getOrThrow(t, 'b').data)).toEqual([1, 2]);
    await expect(readTorchStateDict(path, { subkey: 'ema' })).rejects.toThrow(/no top-level key "ema". Available keys: model, epoch, name/);
    await expect(readTorchStateDict(path, { subkey: 'ema' })).rejects.toThrow(NotFoundError);
    await expectFormatError(readTorchStateDict(path, { subkey: 'epoch' }), /"epoch" holds a int\/float 3, not a state dict/);
  });
});

/** A hand-made BiGR-like checkpoint: {"ema": {...}, "args": Namespace(...), "steps": 7}, with a shared denoiser. */
function bigrLike(): Uint8Array {
  const p = new Pk().proto().op('EMPTY_DICT', 'MARK').str('ema').orderedDict().op('MARK');
  p.str('norm.weight').tensor('FloatStorage', '0', 4, 0, [4], [1]);
  p.str('denoise_mlp.w').tensor('FloatStorage', '1', 6, 0, [2, 3], [3, 1]);
  p.str('diffusion_processor._denoise_fn.w').tensor('FloatStorage', '1', 6, 0, [2, 3], [3, 1]);
  p.str('wT').tensor('FloatStorage', '1', 6, 0, [3, 2], [1, 3]); // a transposed view of the same storage
  p.str('row1').tensor('FloatStorage', '1', 6, 3, [3], [1]); // offset view
  p.str('h').tensor('HalfStorage', '2', 4, 0, [2, 2], [1, 2]); // transposed float16
  p.str('ids').tensor('LongStorage', '3', 3, 0, [3], [1]);
  p.str('every_other').tensor('LongStorage', '3', 3, 0, [2], [2]);
  p.op('SETITEMS');
  p.str('args').global('argparse', 'Namespace').op('EMPTY_TUPLE', 'NEWOBJ', 'EMPTY_DICT').str('model').str('BiGR-L').op('SETITEM', 'BUILD');
  p.str('steps').int(7).op('SETITEMS', 'STOP');
  return torchZip(p.bytes(), {
    '0': f32([1, 2, 3, 4]),
    '1': f32([10, 11, 12, 13, 14, 15]),
    '2': u16([0x3c00, 0x4000, 0xc200, 0x3800]), // 1, 2, -3, 0.5
    '3': i64([5n, -6n, 7n]),
  });
}

describe('readTorchStateDict on hand-made checkpoints', () => {
  it('selects "ema", gathers non-contiguous views and reads each shared storage once', async () => {
    const path = await file(bigrLike());
    const { result: t, reads } = await countReads(() => readTorchStateDict(path, { subkey: 'ema' }));
    expect([...t.keys()]).toEqual(['norm.weight', 'denoise_mlp.w', 'diffusion_processor._denoise_fn.w', 'wT', 'row1', 'h', 'ids', 'every_other']);
    expect(Array.from(getOrThrow(t, 'wT').data)).toEqual([10, 13, 11, 14, 12, 15]);
    expect(Array.from(getOrThrow(t, 'row1').data)).toEqual([13, 14, 15]);
    expect(Array.from(getOrThrow(t, 'h').data)).toEqual([1, -3, 2, 0.5]);
    expect(Array.from(getOrThrow(t, 'ids').data)).toEqual([5, -6, 7]);
    expect(Array.from(getOrThrow(t, 'every_other').data)).toEqual([5, 7]);
    expect(getOrThrow(t, 'denoise_mlp.w').data).toBe(getOrThrow(t, 'diffusion_processor._denoise_fn.w').data);
    expect(t.get('denoise_mlp.w')).not.toBe(t.get('diffusion_processor._denoise_fn.w'));
    expect(reads.get('archive/data/1')).toBe(1);
    expect(reads.get('archive/data/3')).toBe(1);
  });

  it('never reads storages of unselected tensors; prefixes strip names', async () => {
    const path = await file(bigrLike());
    const { result: t, reads } = await countReads(() => readTorchStateDict(path, { subkey: 'ema', select: (k) => k.startsWith('denoise_mlp.') }));
    expect([...t.keys()]).toEqual(['denoise_mlp.w']);
    expect(reads.has('archive/data/0')).toBe(false);
    expect(reads.has('archive/data/2')).toBe(false);
    const ckpt = await readTorchCheckpoint(path);
    expect([...(await ckpt.tensors('ema.denoise_mlp')).keys()]).toEqual(['w']);
    expect([...ckpt.tensorRefs().keys()]).toContain('ema.norm.weight');
    expect(() => ckpt.tensorRefs('model')).toThrow(/no tensors under "model". Top-level names: ema/);
    const all = await readTorchStateDict(path);
    expect(all.size).toBe(8);
    expect(all.has('ema.h')).toBe(true);
  });

  it('reads deflated (re-zipped) archives and any archive folder name', async () => {
    const p = new Pk().proto().orderedDict().op('MARK').str('w').tensor('FloatStorage', 'k0', 3, 0, [3], [1]).op('SETITEMS', 'STOP');
    const path = await file(torchZip(p.bytes(), { k0: f32([1, 2, 3]) }, { archive: 'my_model', method: 'deflate' }));
    const t = await readTorchStateDict(path);
    expect(Array.from(getOrThrow(t, 'w').data)).toEqual([1, 2, 3]);
  });

  it('honours AbortSignal and reports progress', async () => {
    const path = await file(bigrLike());
    const events: number[] = [];
    await readTorchStateDict(path, { onProgress: (e) => events.push(e.current) });
    expect(events.length).toBe(4);
    expect(events[3]).toBe(16 + 24 + 8 + 24);
    const ac = new AbortController();
    ac.abort();
    await expect(readTorchStateDict(path, { signal: ac.signal })).rejects.toThrow(AbortError);
  });

  it('detects a file that changed between parsing and reading', async () => {
    const path = await file(bigrLike());
    const ckpt = await readTorchCheckpoint(path);
    await writeFile(path, torchZip(new Pk().proto().op('EMPTY_DICT', 'STOP').bytes(), {}));
    await expectFormatError(ckpt.tensors(), /changed since it was opened/);
  });
});

describe('malformed and unsupported checkpoints', () => {
  const simple = (storages: Record<string, Uint8Array>, type = 'FloatStorage', numel = 3): Uint8Array => {
    const p = new Pk().proto().orderedDict().op('MARK').str('w').tensor(type, '0', numel, 0, [numel], [1]).op('SETITEMS', 'STOP');
    return torchZip(p.bytes(), storages);
  };

  it('reports a missing storage entry and a storage of the wrong size', async () => {
    await expectFormatError(readTorchCheckpoint(await file(simple({}))), /storage "0" \(FloatStorage, 3 elements\) .* entry archive\/data\/0 is missing/);
    await expectFormatError(
      readTorchCheckpoint(await file(simple({ '0': f32([1, 2]) }))),
      /entry archive\/data\/0 holds 8 bytes but storage "0" needs 3 × 4 = 12/,
    );
  });

  it('refuses an oversized pickle, a disallowed global and a truncated archive', async () => {
    const ok = simple({ '0': f32([1, 2, 3]) });
    await expectFormatError(readTorchCheckpoint(await file(ok), { maxPickleBytes: 10 }), /data\.pkl is \d+ bytes, above the limit of 10/);
    const evil = new Pk().proto().global('os', 'system').str('echo pwned').op('TUPLE1', 'REDUCE', 'STOP');
    await expectFormatError(
      readTorchCheckpoint(await file(torchZip(evil.bytes(), {}))),
      /archive\/data\.pkl: pickle opcode GLOBAL at byte 2: global os\.system is not allowed/,
    );
    await expectFormatError(readTorchCheckpoint(await file(ok.subarray(0, ok.length - 30))), /no ZIP end-of-central-directory record/);
    const underflow = new Pk().proto().op('TUPLE3', 'STOP');
    await expectFormatError(readTorchCheckpoint(await file(torchZip(underflow.bytes(), {}))), /TUPLE3 at byte 2: stack underflow/);
  });

  it('refuses int64 values outside int32, non-0/1 bools and complex storages when read', async () => {
    const long = await readTorchCheckpoint(await file(simple({ '0': i64([1n, 2n ** 40n, 3n]) }, 'LongStorage')));
    await expectFormatError(long.tensors(), /tensor "w" \(LongStorage "0"\) \(int64\) holds 1099511627776 at storage element 1, outside the int32 range/);
    const bool = await readTorchCheckpoint(await file(simple({ '0': Uint8Array.of(0, 2, 1) }, 'BoolStorage')));
    await expectFormatError(bool.tensors(), /holds byte 2 .* bool elements must be 0 or 1/);
    const cplx = await readTorchCheckpoint(await file(simple({ '0': new Uint8Array(24) }, 'ComplexFloatStorage')));
    await expectFormatError(cplx.tensors(), /dtype complex64, which cannot be converted/);
  });

  it('explains legacy, TorchScript, safetensors and foreign files', async () => {
    const legacy = Uint8Array.of(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e);
    await expectFormatError(readTorchCheckpoint(await file(legacy)), /legacy \(pre-1\.6\) torch\.save format.*torch\.save\(torch\.load\(old_path.*safetensors/);
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    await expectFormatError(readTorchCheckpoint(await file(tar)), /tar archive: the legacy .* torch\.save format/);
    await expectFormatError(readTorchCheckpoint(await file(new Pk().proto().op('NONE', 'STOP').bytes())), /bare pickle/);
    const st = new Uint8Array(16);
    st[0] = 2;
    st.set(new TextEncoder().encode('{}'), 8);
    await expectFormatError(readTorchCheckpoint(await file(st)), /looks like a safetensors file/);
    await expectFormatError(readTorchCheckpoint(await file(new TextEncoder().encode('hello world'))), /not a torch checkpoint/);
    const ts = buildZip([
      { name: 'm/constants.pkl', data: new Uint8Array(1) },
      { name: 'm/code/m.py', data: new Uint8Array(1) },
    ]);
    await expectFormatError(readTorchCheckpoint(await file(ts)), /TorchScript archive/);
    await expectFormatError(readTorchCheckpoint(await file(buildZip([{ name: 'x.txt', data: new Uint8Array(1) }]))), /without an "<archive>\/data\.pkl" entry/);
    await expect(readTorchCheckpoint(join(dir, 'missing.pt'))).rejects.toThrow(NotFoundError);
  });

  it('rejects dict cycles, name clashes and big-endian byteorder', async () => {
    const cyc = new Pk().proto().op('EMPTY_DICT').raw(0x71, 0).str('self').raw(0x68, 0).op('SETITEM', 'STOP');
    const ck = await readTorchCheckpoint(await file(torchZip(cyc.bytes(), {})));
    expect(() => ck.tensorRefs()).toThrow(/contains itself \(a cycle\)/);
    const clash = new Pk().proto().op('EMPTY_DICT', 'MARK').str('a.b').tensor('FloatStorage', '0', 1, 0, [1], [1]);
    clash.str('a').op('EMPTY_DICT').str('b').tensor('FloatStorage', '0', 1, 0, [1], [1]).op('SETITEM', 'SETITEMS', 'STOP');
    const ck2 = await readTorchCheckpoint(await file(torchZip(clash.bytes(), { '0': f32([1]) })));
    expect(() => ck2.tensorRefs()).toThrow(/two tensors flatten to the same name "a\.b"/);
    const be = buildZip([
      { name: 'archive/data.pkl', data: new Pk().proto().op('NONE', 'STOP').bytes() },
      { name: 'archive/byteorder', data: new TextEncoder().encode('big') },
    ]);
    await expectFormatError(readTorchCheckpoint(await file(be)), /byteorder is "big"; only little-endian/);
  });
});
