import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, at, FormatError, getOrThrow, NotFoundError } from '@bigr/core';
import { ZipArchive } from '@bigr/torch';
import { NpzReader, NpzWriter, readNpz, writeNpz } from './npz.js';
import { fixturePath } from '../test/fixtures.js';
import type { NpyArray } from './npy.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigr-npz-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** LCG of docs/evaluation.md §6.3 (the fixture script's inputs). */
function lcg(seed: number, n: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    out.push(s / 4294967296);
  }
  return out;
}

describe('.npz reading of numpy-written files', () => {
  it.each(['numpy-savez.npz', 'numpy-savez-compressed.npz'])('%s', async (file) => {
    const arrays = await readNpz(fixturePath(file));
    expect([...arrays.keys()]).toEqual(expect.arrayContaining(['arr_0', 'arr_1', 'mu', 'sigma']));
    expect(Array.from(getOrThrow(arrays, 'mu', 'array').data as Float64Array)).toEqual(lcg(21, 4));
    expect(getOrThrow(arrays, 'sigma', 'array').shape).toEqual([4, 4]);
    const imgs = getOrThrow(arrays, 'arr_0', 'array');
    expect(imgs).toMatchObject({ dtype: 'uint8', shape: [3, 5, 4, 3] });
    expect(Array.from(imgs.data as Uint8Array)).toEqual(lcg(23, 180).map((u) => Math.floor(u * 256)));
    expect(Array.from(getOrThrow(arrays, 'arr_1', 'array').data as BigInt64Array)).toEqual([0n, 1n, 2n]);
    // streaming in batches gives the same bytes
    const npz = await NpzReader.open(fixturePath(file));
    const parts: number[] = [];
    const shapes: number[][] = [];
    for await (const b of npz.batches('arr_0', 2)) {
      shapes.push([...b.shape]);
      parts.push(...(b.data as Uint8Array));
    }
    expect(shapes).toEqual([
      [2, 5, 4, 3],
      [1, 5, 4, 3],
    ]);
    expect(parts).toEqual(Array.from(imgs.data as Uint8Array));
    expect((await npz.header('arr_0')).shape).toEqual([3, 5, 4, 3]);
    await npz.close();
  });
});

describe('.npz writing', () => {
  const arrays = {
    mu: { dtype: 'float64', shape: [3], data: Float64Array.from([1, 2, 3]) },
    sigma: { dtype: 'float64', shape: [3, 3], data: Float64Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3]) },
    mu_s: { dtype: 'float32', shape: [2], data: Float32Array.from([0.5, -1]) },
    arr_0: { dtype: 'uint8', shape: [2, 2, 2, 3], data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) },
    arr_1: { dtype: 'int64', shape: [2], data: BigInt64Array.from([7n, 9n]) },
  } satisfies Record<string, NpyArray>;

  it.each([false, true])('round-trips (forceZip64 = %s)', async (forceZip64) => {
    const path = join(dir, `rt-${forceZip64}.npz`);
    await writeNpz(path, arrays, { zip64: forceZip64 });
    const zip = await ZipArchive.open(path);
    expect(zip.zip64).toBe(forceZip64);
    expect([...zip.entries.values()].every((e) => e.zip64 === forceZip64)).toBe(true);
    await zip.close();
    const back = await readNpz(path);
    for (const [k, v] of Object.entries(arrays)) {
      const read = getOrThrow(back, k, 'array read back');
      expect(read.shape).toEqual(v.shape);
      expect(Array.from(read.data as ArrayLike<unknown>)).toEqual(Array.from(v.data as ArrayLike<unknown>));
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('streams a large entry in and out without holding it whole', async () => {
    const path = join(dir, 'stream.npz');
    const w = await NpzWriter.create(path, { zip64: true });
    const rows = 37;
    const rowLen = 16 * 16 * 3;
    async function* chunks() {
      for (let r = 0; r < rows; r += 5) {
        const n = Math.min(5, rows - r);
        yield Uint8Array.from({ length: n * rowLen }, (_, i) => (r * rowLen + i) % 251);
      }
    }
    await w.addStreamed('arr_0', 'uint8', [rows, 16, 16, 3], chunks());
    await w.add('mu', arrays.mu);
    await w.close();
    const npz = await NpzReader.open(path);
    expect(npz.names).toEqual(['arr_0', 'mu']);
    let seen = 0;
    for await (const b of npz.batches('arr_0', 8)) {
      const d = b.data as Uint8Array;
      for (let i = 0; i < d.length; i++) expect(d[i]).toBe((seen * rowLen + i) % 251);
      seen += at(b.shape, 0, 'batch rows');
    }
    expect(seen).toBe(rows);
    // stopping early releases the stream
    for await (const b of npz.batches('arr_0', 4)) {
      expect(b.shape[0]).toBe(4);
      break;
    }
    const ac = new AbortController();
    ac.abort();
    await expect(async () => {
      for await (const _ of npz.batches('arr_0', 4, { signal: ac.signal })) void _;
    }).rejects.toThrow(AbortError);
    await expect(npz.read('arr_0', { maxBytes: 100 })).rejects.toThrow(/Stream it with batches/);
    await expect(npz.read('nope')).rejects.toThrow(NotFoundError);
    await npz.close();
  });

  it('rejects streamed data whose size does not match and leaves no file behind', async () => {
    const path = join(dir, 'short.npz');
    const w = await NpzWriter.create(path);
    await expect(w.addStreamed('x', 'float32', [4], [new Float32Array(3)])).rejects.toThrow(/received 140 bytes but 144/);
    await w.abort();
    expect(() => readFileSync(path)).toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('short'))).toEqual([]);
  });

  it('detects corruption: CRC mismatch, truncation, not-a-zip', async () => {
    const path = join(dir, 'good.npz');
    await writeNpz(path, { mu: arrays.mu });
    const bytes = readFileSync(path);
    const corrupt = Buffer.from(bytes);
    const offset = corrupt.indexOf(Buffer.from(new Float64Array([2]).buffer));
    corrupt[offset + 7] = at(corrupt, offset + 7, 'byte of the stored 2.0') ^ 0x40;
    writeFileSync(join(dir, 'crc.npz'), corrupt);
    await expect(readNpz(join(dir, 'crc.npz'))).rejects.toThrow(/CRC-32/);
    writeFileSync(join(dir, 'trunc.npz'), bytes.subarray(0, bytes.length - 30));
    await expect(readNpz(join(dir, 'trunc.npz'))).rejects.toThrow(FormatError);
    writeFileSync(join(dir, 'text.npz'), 'hello world, this is not a zip archive at all');
    await expect(readNpz(join(dir, 'text.npz'))).rejects.toThrow(/end-of-central-directory/);
    await expect(readNpz(join(dir, 'missing.npz'))).rejects.toThrow(NotFoundError);
    await expect(NpzReader.open(path, { maxEntries: 0 })).rejects.toThrow(/1 entries, above the limit of 0/);
  });
});
