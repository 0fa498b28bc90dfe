import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite } from './atomicWrite.js';
import { ConfigError, FormatError, NotFoundError } from './errors.js';
import { getOrThrow, required } from './invariants.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors.js';
import { parseSafetensors, parseSafetensorsHeader, serializeSafetensors } from './safetensorsFormat.js';
import { CpuTensor, type Tensor } from './tensor.js';

const FIXTURES = join(process.env['BIGR_REPO_ROOT'] ?? '', 'packages/testing/fixtures/official-tiny');

/** Hand-built safetensors bytes (independent of the serializer): 8-byte LE length, header text, data. */
function craft(header: string | object | Uint8Array, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const h = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => {
    dv.setFloat32(4 * i, v, true);
  });
  return b;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('serialize / parse', () => {
  it('writes the exact bytes of the format for a small example', () => {
    const bytes = serializeSafetensors(new Map([['a', new CpuTensor<'float32'>(new Float32Array([1, -2]), [2])]]));
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + ' '.repeat(Math.ceil(json.length / 8) * 8 - json.length);
    expect(bytes).toEqual(craft(padded, f32Bytes([1, -2])));
    expect((8 + padded.length) % 8).toBe(0);
  });

  it('reads a hand-built file', () => {
    const data = new Uint8Array([...f32Bytes([0.5, 1.5, -3]), 7, 0, 0, 0, 1, 0]);
    const file = craft(
      {
        __metadata__: { format: 'pt' },
        w: { dtype: 'F32', shape: [1, 3], data_offsets: [0, 12] },
        idx: { dtype: 'I32', shape: [1], data_offsets: [12, 16] },
        m: { dtype: 'BOOL', shape: [2], data_offsets: [16, 18] },
      },
      data,
    );
    const { tensors, metadata } = parseSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['w', 'idx', 'm']);
    expect(tensors.get('w')?.shape).toEqual([1, 3]);
    expect(Array.from(getOrThrow(tensors, 'w').data)).toEqual([0.5, 1.5, -3]);
    expect(tensors.get('idx')?.data).toEqual(new Int32Array([7]));
    expect(tensors.get('m')?.data).toEqual(new Uint8Array([1, 0]));
  });

  it('round-trips every dtype, including stored F16/BF16/I64/BOOL and scalars/empty tensors', () => {
    const tensors = new Map<string, Tensor>([
      ['f32', new CpuTensor<'float32'>(new Float32Array([1.5, -2.25, 3.4e38, -0, Number.POSITIVE_INFINITY, 1e-40]), [2, 3])],
      ['f64', new CpuTensor<'float64'>(new Float64Array([Math.PI, -1e300, 5e-324]), [3])],
      ['i32', new CpuTensor<'int32'>(new Int32Array([-2147483648, 2147483647, 0, -1]), [2, 2])],
      ['u8', new CpuTensor<'uint8'>(new Uint8Array([0, 255, 17]), [3])],
      ['as_f16', new CpuTensor<'float32'>(new Float32Array([1, -0.5, 65504, 2 ** -24, 0.099975586]), [5])],
      ['as_bf16', new CpuTensor<'float32'>(new Float32Array([1, -3.5, 2 ** 100, 0.1015625]), [4])],
      ['as_i64', new CpuTensor<'int32'>(new Int32Array([-2147483648, 2147483647, 5]), [3])],
      ['as_bool', new CpuTensor<'uint8'>(new Uint8Array([1, 0, 1]), [1, 3])],
      ['scalar', new CpuTensor<'float32'>(new Float32Array([42]), [])],
      ['empty', new CpuTensor<'float32'>(new Float32Array(0), [0, 4])],
      ['f64_as_f32', new CpuTensor<'float64'>(new Float64Array([0.1]), [1])],
    ]);
    const storeAs = { as_f16: 'F16', as_bf16: 'BF16', as_i64: 'I64', as_bool: 'BOOL', f64_as_f32: 'F32' } as const;
    const bytes = serializeSafetensors(tensors, { note: 'hi', n: '3' }, { storeAs });
    const header = parseSafetensorsHeader(bytes);
    expect(Object.fromEntries(header.tensors.map((t) => [t.name, t.dtype]))).toEqual({
      f32: 'F32',
      f64: 'F64',
      i32: 'I32',
      u8: 'U8',
      as_f16: 'F16',
      as_bf16: 'BF16',
      as_i64: 'I64',
      as_bool: 'BOOL',
      scalar: 'F32',
      empty: 'F32',
      f64_as_f32: 'F32',
    });
    const { tensors: back, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ note: 'hi', n: '3' });
    for (const [name, t] of tensors) {
      const b = getOrThrow(back, name, 'round-tripped tensor');
      expect(b.shape).toEqual(t.shape);
      if (name === 'f64_as_f32') {
        expect(b.dtype).toBe('float32');
        expect(b.data[0]).toBe(Math.fround(0.1));
        continue;
      }
      expect(b.dtype).toBe(t.dtype);
      expect(Array.from(b.data)).toEqual(Array.from(t.data));
    }
    expect(Object.is(back.get('f32')?.data[3], -0)).toBe(true);
    // F16 0.1 rounds to 0x2e66 = 0.0999755859375
    const rounded = parseSafetensors(serializeSafetensors(new Map([['x', CpuTensor.fromArray([0.1], [1])]]), undefined, { storeAs: { x: 'F16' } }));
    expect(rounded.tensors.get('x')?.data[0]).toBe(0.0999755859375);
  });

  it('rejects bad inputs when serialising', () => {
    const t = CpuTensor.fromArray([1], [1]);
    expect(() => serializeSafetensors(new Map([['__metadata__', t]]))).toThrow(ConfigError);
    expect(() => serializeSafetensors(new Map([['', t]]))).toThrow(/non-empty/);
    expect(() => serializeSafetensors(new Map([['a', t]]), { x: 1 as unknown as string })).toThrow(/must be strings/);
    expect(() => serializeSafetensors(new Map([['a', t]]), undefined, { storeAs: { a: 'I64' } })).toThrow(/cannot be stored as "I64"/);
    expect(() => serializeSafetensors(new Map([['a', t]]), undefined, { storeAs: { b: 'F16' } })).toThrow(/not among/);
    const u = new CpuTensor<'uint8'>(new Uint8Array([2]), [1]);
    expect(() => serializeSafetensors(new Map([['u', u]]), undefined, { storeAs: { u: 'BOOL' } })).toThrow(/0\/1/);
  });

  it('accepts "__metadata__": null as no metadata', () => {
    expect(parseSafetensors(craft({ __metadata__: null, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array([9]))).metadata).toEqual({});
  });

  it('filter decodes only selected tensors', () => {
    const bytes = serializeSafetensors(
      new Map([
        ['a', CpuTensor.fromArray([1], [1])],
        ['b', CpuTensor.fromArray([2], [1])],
      ]),
    );
    expect([...parseSafetensors(bytes, { filter: (n) => n === 'b' }).tensors.keys()]).toEqual(['b']);
  });
});

describe('official fixtures', () => {
  interface ManifestArray {
    dtype: string;
    shape: number[];
    sum_finite: number;
    abs_max_finite: number;
    first: number[];
    sha256: string;
  }
  let manifest: { files: Record<string, { bytes: number; arrays?: Record<string, ManifestArray> }> };
  beforeAll(async () => {
    // MANIFEST.json is Python JSON: bare Infinity/NaN tokens become strings here, then numbers.
    const text = (await readFile(join(FIXTURES, 'MANIFEST.json'), 'utf8')).replace(/(?<!")(-?Infinity|NaN)/g, '"$1"');
    manifest = JSON.parse(text, (_k, v: unknown) => (v === 'Infinity' || v === '-Infinity' || v === 'NaN' ? Number(v) : v));
  });

  it('reads denoiser.safetensors with the MANIFEST sums, first values and hashes', async () => {
    const { tensors } = await readSafetensors(join(FIXTURES, 'denoiser.safetensors'));
    const arrays = required(manifest.files['denoiser.safetensors']?.arrays, 'MANIFEST arrays of denoiser.safetensors');
    expect([...tensors.keys()].sort()).toEqual(Object.keys(arrays).sort());
    const xt = getOrThrow(tensors, 'x_t');
    expect(xt.dtype).toBe('float32');
    expect(xt.shape).toEqual([8, 16]);
    let sum = 0;
    for (const v of xt.data) sum += v;
    expect(sum).toBe(52);
    const ts = getOrThrow(tensors, 'time_steps');
    expect(ts.dtype).toBe('int32');
    expect(Array.from(ts.data.slice(0, 4))).toEqual([0, 1, 17, 63]);
    expect(tensors.get('out_logits')?.data[1]).toBe(Math.fround(-1.9967772960662842));
  });

  it('every array of every fixture file matches MANIFEST (dtype, shape, sum, first values, sha256 prefix)', async () => {
    const files = Object.keys(manifest.files).filter((f) => f.endsWith('.safetensors'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const entry = required(manifest.files[file], `MANIFEST entry of ${file}`);
      const raw = await readFile(join(FIXTURES, file));
      expect(raw.length).toBe(entry.bytes);
      const { tensors } = parseSafetensors(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), { source: file });
      const fromDisk = await readSafetensors(join(FIXTURES, file));
      expect([...fromDisk.tensors.keys()]).toEqual([...tensors.keys()]);
      for (const [name, spec] of Object.entries(entry.arrays ?? {})) {
        const t = tensors.get(name);
        if (!t) throw new Error(`${file}: missing ${name}`);
        expect([file, name, t.dtype, t.shape]).toEqual([file, name, spec.dtype, spec.shape]);
        let s = 0;
        for (const v of t.data) if (Number.isFinite(v)) s += v;
        expect(Math.abs(s - spec.sum_finite)).toBeLessThanOrEqual(1e-6 * Math.max(1, t.size * spec.abs_max_finite));
        spec.first.forEach((v, i) => {
          expect(t.data[i]).toBe(t.dtype === 'float32' ? Math.fround(v) : v);
        });
        const d = t.data;
        const hash = createHash('sha256')
          .update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
          .digest('hex');
        expect([file, name, hash.slice(0, spec.sha256.length)]).toEqual([file, name, spec.sha256]);
        expect(fromDisk.tensors.get(name)?.data).toEqual(t.data);
      }
    }
  });

  it('readSafetensorsHeader reads only the header', async () => {
    const h = await readSafetensorsHeader(join(FIXTURES, 'denoiser.safetensors'));
    expect(h.headerLength).toBe(688);
    expect(h.tensors[0]).toEqual({ name: 'x_t', dtype: 'F32', shape: [8, 16], dataOffsets: [0, 512] });
    expect(8 + h.headerLength + h.dataLength).toBe(22232);
  });
});

describe('malformed files give clear FormatErrors', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data8 = f32Bytes([1, 2]);
  const cases: [string, () => Uint8Array, RegExp, object?][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), /5 bytes, shorter than the 8-byte header length/],
    ['header runs past the end', () => craft(ok, data8).subarray(0, 30), /truncated: the header says \d+ header bytes/],
    [
      'header length above the limit',
      () => craft(ok, data8, 2n ** 40n),
      /1099511627776 bytes, above the limit of 104857600 bytes \(100\.0 MB\).*maxHeaderBytes/,
    ],
    ['header length above a custom limit', () => craft(ok, data8), /above the limit of 16 bytes/, { maxHeaderBytes: 16 }],
    ['header length beyond 2^53', () => craft(ok, data8, 2n ** 63n), /9223372036854775808 bytes/],
    ['not JSON', () => craft('{"a": nope}', data8), /not valid JSON/],
    ['not an object', () => craft('{', data8), /not valid JSON/],
    ['JSON array', () => craft('[1,2]', data8), /must start with "\{"/],
    ['leading whitespace', () => craft(' {}'), /must start with "\{"/],
    ['invalid UTF-8', () => craft(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8/],
    ['entry not an object', () => craft({ a: 3 }), /"a" has header entry 3/],
    [
      'unknown dtype',
      () => craft({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, data8),
      /unknown dtype "Q7"; supported dtypes are F64, F32, F16, BF16, I64, I32, U8, BOOL/,
    ],
    ['unsupported dtype', () => craft({ a: { dtype: 'I16', shape: [4], data_offsets: [0, 8] } }, data8), /unsupported dtype "I16".*Convert/],
    ['missing dtype', () => craft({ a: { shape: [2], data_offsets: [0, 8] } }, data8), /dtype undefined/],
    [
      'bad shape',
      () => craft({ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data8),
      /shape \[2,-1\]; expected an array of non-negative integers/,
    ],
    ['fractional shape', () => craft({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, data8), /non-negative integers/],
    ['bad offsets', () => craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8), /data_offsets \[0\]/],
    ['begin > end', () => craft({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data8), /begin > end/],
    [
      'shape/length mismatch',
      () => craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
      /needs 3 × 4 = 12 bytes, but data_offsets \[0, 8\] span 8 bytes/,
    ],
    [
      'offsets outside the data',
      () => craft({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
      /\[0, 16\] outside the data section of 8 bytes/,
    ],
    [
      'overlapping offsets',
      () => craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8),
      /"b" \(data_offsets \[4, 8\]\) overlaps tensor "a"/,
    ],
    ['hole', () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), /bytes \[0, 4\) of the data section belong to no tensor/],
    ['trailing bytes', () => craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8), /4 trailing bytes/],
    ['metadata not an object', () => craft({ __metadata__: 'x', ...ok }, data8), /__metadata__ is "x"/],
    ['metadata non-string value', () => craft({ __metadata__: { epoch: 3 }, ...ok }, data8), /__metadata__\["epoch"\] is 3/],
    [
      'I64 out of int32 range',
      () => craft({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array([0, 0, 0, 0x80, 0, 0, 0, 0])),
      /holds 2147483648 at element 0, outside the int32 range/,
    ],
    [
      'negative I64 out of range',
      () => craft({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array([0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff])),
      /holds -2147483649/,
    ],
    ['BOOL byte 2', () => craft({ a: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 2])), /BOOL bytes must be 0 or 1/],
  ];
  // Rest parameters: a callback with more declared parameters than table columns would be taken for a `done` test.
  it.each(cases)('%s', (...row) => {
    const [, make, message, options] = row;
    let err: unknown;
    try {
      parseSafetensors(make(), options);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts I64 values at the int32 limits and zero-size tensors sharing an offset', () => {
    const d = new Uint8Array(16);
    const dv = new DataView(d.buffer);
    dv.setBigInt64(0, -2147483648n, true);
    dv.setBigInt64(8, 2147483647n, true);
    const { tensors } = parseSafetensors(
      craft(
        {
          e1: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
          a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
          e2: { dtype: 'U8', shape: [0, 3], data_offsets: [16, 16] },
        },
        d,
      ),
    );
    expect(Array.from(getOrThrow(tensors, 'a').data)).toEqual([-2147483648, 2147483647]);
    expect(tensors.get('e2')?.shape).toEqual([0, 3]);
  });

  it('also validates files read from disk', async () => {
    const p = join(dir, 'bad.safetensors');
    await writeFile(p, craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, data8));
    await expect(readSafetensors(p)).rejects.toThrow(/bad\.safetensors: tensor "a".*outside the data section/);
    await writeFile(p, new Uint8Array(3));
    await expect(readSafetensors(p)).rejects.toThrow(FormatError);
    await expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(NotFoundError);
  });
});

describe('writeSafetensors / atomicWrite', () => {
  it('writes atomically and leaves no temporary files', async () => {
    const p = join(dir, 'model.safetensors');
    const tensors = new Map([['w', CpuTensor.fromArray([1, 2, 3, 4], [2, 2])]]);
    await writeSafetensors(p, tensors, { step: '1' });
    await writeSafetensors(p, new Map([['w', CpuTensor.fromArray([5, 6, 7, 8], [2, 2])]]), { step: '2' });
    const back = await readSafetensors(p);
    expect(back.metadata).toEqual({ step: '2' });
    expect(Array.from(getOrThrow(back.tensors, 'w').data)).toEqual([5, 6, 7, 8]);
    expect(new Uint8Array(await readFile(p))).toEqual(serializeSafetensors(new Map([['w', CpuTensor.fromArray([5, 6, 7, 8], [2, 2])]]), { step: '2' }));
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('does not clobber the old file when writing fails midway', async () => {
    const p = join(dir, 'keep.safetensors');
    await writeSafetensors(p, new Map([['w', CpuTensor.fromArray([1], [1])]]));
    const before = await readFile(p);
    // BOOL with value 2 passes planning but fails while streaming the data, after the header was written.
    const bad = new Map<string, Tensor>([
      ['ok', CpuTensor.fromArray(new Array(1000).fill(1), [1000])],
      ['m', new CpuTensor<'uint8'>(new Uint8Array([2]), [1])],
    ]);
    await expect(writeSafetensors(p, bad, undefined, { storeAs: { m: 'BOOL' } })).rejects.toThrow(ConfigError);
    expect(await readFile(p)).toEqual(before);
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array([1, 2, 3]);
      throw new Error('disk on fire');
    }
    await expect(atomicWrite(p, failing())).rejects.toThrow('disk on fire');
    expect(await readFile(p)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('atomicWrite writes strings, bytes and async chunks; missing directories are NotFoundError', async () => {
    const p = join(dir, 'x.txt');
    await atomicWrite(p, 'héllo');
    expect(await readFile(p, 'utf8')).toBe('héllo');
    await atomicWrite(p, new Uint8Array([65, 66]));
    expect(await readFile(p, 'utf8')).toBe('AB');
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([67]);
      yield new Uint8Array([68, 69]);
    }
    await atomicWrite(p, chunks());
    expect(await readFile(p, 'utf8')).toBe('CDE');
    await expect(atomicWrite(join(dir, 'no/such/dir/x'), 'a')).rejects.toThrow(NotFoundError);
  });
});
