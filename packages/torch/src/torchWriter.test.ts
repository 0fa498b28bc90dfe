import { ConfigError, CpuTensor, getOrThrow, type Tensor } from '@bigr/core';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPickleObject, type PickleDict } from './pickle.js';
import { readTorchCheckpoint, readTorchStateDict } from './torchCheckpoint.js';
import { serializeTorchStateDict, writeTorchStateDict } from './torchWriter.js';
import { ZipArchive } from './zipArchive.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-torchw-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const next = (): string => join(dir, `w${n++}.pt`);

/** Nearest binary16 value, computed independently by brute force over the finite half floats. */
function nearestHalf(x: number): number {
  let best = 0;
  for (let e = -14; e <= 15; e++) {
    for (let m = 0; m < 1024; m++) {
      for (const s of [1, -1]) {
        const v = s * (e === -14 ? m / 1024 : 1 + m / 1024) * 2 ** e;
        if (Math.abs(v - x) < Math.abs(best - x)) best = v;
      }
    }
  }
  return best;
}

describe('writeTorchStateDict → readTorchStateDict round trip', () => {
  it('round-trips every stored dtype exactly', async () => {
    const third = 1 / 3;
    const tensors = new Map<string, Tensor>([
      ['f32', new CpuTensor(Float32Array.of(1.5, -0, 3e38, -1e-40), [2, 2])],
      ['f64', new CpuTensor(Float64Array.of(Math.PI, -1e300), [2])],
      ['f32_as_f64', new CpuTensor(Float32Array.of(0.1), [1])],
      ['f16', new CpuTensor(Float32Array.of(0.5, -2, 65504, third), [4])],
      ['bf16', new CpuTensor(Float32Array.of(1.5, -3, 2 ** -126), [3])],
      ['i64', new CpuTensor(Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0), [3])],
      ['i32', new CpuTensor(Int32Array.of(-7, 7), [1, 2])],
      ['i16', new CpuTensor(Int32Array.of(-32768, 32767), [2])],
      ['i8', new CpuTensor(Int32Array.of(-128, 127), [2])],
      ['u8', new CpuTensor(Uint8Array.of(0, 128, 255), [3])],
      ['bool', new CpuTensor(Uint8Array.of(1, 0, 1), [3])],
      ['scalar', new CpuTensor(Float32Array.of(42), [])],
      ['empty', new CpuTensor(new Float32Array(0), [0, 5])],
    ]);
    const path = next();
    await writeTorchStateDict(path, tensors, {
      storeAs: { f32_as_f64: 'float64', f16: 'float16', bf16: 'bfloat16', i64: 'int64', i16: 'int16', i8: 'int8', bool: 'bool' },
    });
    const ckpt = await readTorchCheckpoint(path);
    expect([...ckpt.storages.values()].map((s) => s.storageType)).toEqual([
      'FloatStorage',
      'DoubleStorage',
      'DoubleStorage',
      'HalfStorage',
      'BFloat16Storage',
      'LongStorage',
      'IntStorage',
      'ShortStorage',
      'CharStorage',
      'ByteStorage',
      'BoolStorage',
      'FloatStorage',
      'FloatStorage',
    ]);
    const back = await readTorchStateDict(path);
    expect([...back.keys()]).toEqual([...tensors.keys()]);
    const expected: Record<string, { dtype: string; data: number[] }> = {
      f32: { dtype: 'float32', data: [1.5, -0, Math.fround(3e38), Math.fround(-1e-40)] },
      f64: { dtype: 'float64', data: [Math.PI, -1e300] },
      f32_as_f64: { dtype: 'float64', data: [Math.fround(0.1)] },
      f16: { dtype: 'float32', data: [0.5, -2, 65504, nearestHalf(Math.fround(third))] },
      bf16: { dtype: 'float32', data: [1.5, -3, 2 ** -126] },
      i64: { dtype: 'int32', data: [-(2 ** 31), 2 ** 31 - 1, 0] },
      i32: { dtype: 'int32', data: [-7, 7] },
      i16: { dtype: 'int32', data: [-32768, 32767] },
      i8: { dtype: 'int32', data: [-128, 127] },
      u8: { dtype: 'uint8', data: [0, 128, 255] },
      bool: { dtype: 'uint8', data: [1, 0, 1] },
      scalar: { dtype: 'float32', data: [42] },
      empty: { dtype: 'float32', data: [] },
    };
    for (const [name, t] of tensors) {
      const b = getOrThrow(back, name);
      expect({ name, shape: b.shape }).toEqual({ name, shape: t.shape });
      expect({ name, dtype: b.dtype, data: Array.from(b.data) }).toEqual({ name, ...expected[name] });
    }
    expect(nearestHalf(Math.fround(third))).toBe(0.333251953125);
  });

  it('writes the torch layout: entries, 64-byte aligned storages, version "3\\n", protocol 2 pickle', async () => {
    const bytes = serializeTorchStateDict(new Map([['a', new CpuTensor(Float32Array.of(1, 2, 3), [3])]]), { archiveName: 'bigr_tiny' });
    const path = next();
    await writeTorchStateDict(path, new Map([['a', new CpuTensor(Float32Array.of(1, 2, 3), [3])]]), { archiveName: 'bigr_tiny' });
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
    const z = await ZipArchive.open(path);
    try {
      expect([...z.entries.keys()]).toEqual(['bigr_tiny/data.pkl', 'bigr_tiny/byteorder', 'bigr_tiny/data/0', 'bigr_tiny/version']);
      for (const e of z.entries.values()) {
        expect(e.method).toBe('stored');
        expect((await z.dataOffset(e)) % 64).toBe(0);
      }
      expect(new TextDecoder().decode(await z.read('bigr_tiny/version'))).toBe('3\n');
      expect(new TextDecoder().decode(await z.read('bigr_tiny/byteorder'))).toBe('little');
      const pkl = await z.read('bigr_tiny/data.pkl');
      expect([pkl[0], pkl[1], pkl[pkl.length - 1]]).toEqual([0x80, 2, 0x2e]);
      expect(new TextDecoder('latin1').decode(pkl)).toContain('torch._utils\n_rebuild_tensor_v2\n');
      expect(new Float32Array((await z.read('bigr_tiny/data/0')).buffer)).toEqual(Float32Array.of(1, 2, 3));
    } finally {
      await z.close();
    }
  });

  it('writes the BiGR layout {"ema": state dict, "args": Namespace} and reads it back by subkey', async () => {
    const path = next();
    const denoiser = new Float32Array([0.5, -0.5]);
    await writeTorchStateDict(
      path,
      new Map([
        ['norm.weight', new CpuTensor(Float32Array.of(1, 1, 1), [3])],
        ['denoise_mlp.final_layer.linear.bias', new CpuTensor(denoiser, [2])],
        ['diffusion_processor._denoise_fn.final_layer.linear.bias', new CpuTensor(denoiser, [2])],
      ]),
      { wrapKey: 'ema', args: { gpt_model: 'BiGR-L', lr: 1e-4, steps: 3, flag: true, none: null, betas: [0.9, 0.95] } },
    );
    const ckpt = await readTorchCheckpoint(path);
    const root = ckpt.root as PickleDict;
    expect([...root.keys()]).toEqual(['ema', 'args']);
    const args = root.get('args');
    expect(isPickleObject(args)).toBe(true);
    expect({ ...(args as object) }).toEqual({ gpt_model: 'BiGR-L', lr: 1e-4, steps: 3, flag: true, none: null, betas: [0.9, 0.95] });
    expect(ckpt.storages.size).toBe(2); // the duplicated denoiser shares one storage
    const ema = await readTorchStateDict(path, { subkey: 'ema' });
    expect([...ema.keys()]).toEqual(['norm.weight', 'denoise_mlp.final_layer.linear.bias', 'diffusion_processor._denoise_fn.final_layer.linear.bias']);
    expect(Array.from(getOrThrow(ema, 'diffusion_processor._denoise_fn.final_layer.linear.bias').data)).toEqual([0.5, -0.5]);
    expect(getOrThrow(ema, 'denoise_mlp.final_layer.linear.bias').data).toBe(getOrThrow(ema, 'diffusion_processor._denoise_fn.final_layer.linear.bias').data);
  });

  it('shares storages only for the same array and stored dtype, unless disabled', async () => {
    const data = Float32Array.of(1, 2);
    const tensors = new Map([
      ['a', new CpuTensor(data, [2])],
      ['b', new CpuTensor(data, [1, 2])],
      ['c', new CpuTensor(data, [2])],
      ['d', new CpuTensor(Float32Array.of(1, 2), [2])],
    ]);
    const p1 = next();
    await writeTorchStateDict(p1, tensors, { storeAs: { c: 'float16' } });
    expect((await readTorchCheckpoint(p1)).storages.size).toBe(3);
    const p2 = next();
    await writeTorchStateDict(p2, tensors, { shareStorages: false });
    expect((await readTorchCheckpoint(p2)).storages.size).toBe(4);
    const back = await readTorchStateDict(p1);
    expect(getOrThrow(back, 'b').shape).toEqual([1, 2]);
    expect(Array.from(getOrThrow(back, 'c').data)).toEqual([1, 2]);
  });

  it('round-trips with forced ZIP64 records and more than 1000 tensors (several SETITEMS batches)', async () => {
    const tensors = new Map(Array.from({ length: 2345 }, (_, i) => [`layers.${i}.w`, new CpuTensor(Int32Array.of(i, -i), [2])] as const));
    const path = next();
    await writeTorchStateDict(path, tensors, { zip64: true, storeAs: { 'layers.7.w': 'int64' } });
    const back = await readTorchStateDict(path);
    expect(back.size).toBe(2345);
    expect(Array.from(getOrThrow(back, 'layers.2344.w').data)).toEqual([2344, -2344]);
    expect(Array.from(getOrThrow(back, 'layers.7.w').data)).toEqual([7, -7]);
  });

  it('validates options and values without leaving files behind', async () => {
    const t = new Map([['x', new CpuTensor(Int32Array.of(1, 300), [2])]]);
    const p = next();
    await expect(writeTorchStateDict(p, t, { storeAs: { x: 'int8' } })).rejects.toThrow(/holds 300 at element 1, outside the int8 range/);
    await expect(writeTorchStateDict(p, t, { storeAs: { x: 'bool' } })).rejects.toThrow(/cannot be stored as "bool"; allowed: int32, int64, int16, int8/);
    await expect(writeTorchStateDict(p, t, { storeAs: { y: 'int64' } })).rejects.toThrow(/storeAs names tensor "y"/);
    await expect(writeTorchStateDict(p, new Map([['u', new CpuTensor(Uint8Array.of(2), [1])]]), { storeAs: { u: 'bool' } })).rejects.toThrow(
      /needs 0\/1 values/,
    );
    await expect(writeTorchStateDict(p, t, { args: { a: 1 } })).rejects.toThrow(/set wrapKey/);
    await expect(writeTorchStateDict(p, t, { wrapKey: 'opt' as never })).rejects.toThrow(ConfigError);
    await expect(writeTorchStateDict(p, t, { archiveName: '../x' })).rejects.toThrow(/archiveName/);
    await expect(writeTorchStateDict(p, t, { layout: 'tar' as never })).rejects.toThrow(/only layout is 'zip-stored'/);
    await expect(writeTorchStateDict(p, new Map([['', new CpuTensor(Int32Array.of(1), [1])]]))).rejects.toThrow(/non-empty string/);
    const left = (await readdir(dir)).filter((f) => f.includes(`w${n - 1}`));
    expect(left).toEqual([]);
  });
});
