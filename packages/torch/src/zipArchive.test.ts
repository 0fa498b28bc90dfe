import { at, ConfigError, FormatError, NotFoundError, required } from '@bigr/core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZip, zipLayout } from './test/craft.js';
import { ZipArchive } from './zipArchive.js';
import { storedZipChunks } from './zipWriter.js';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-zip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(bytes: Uint8Array): Promise<string> {
  const p = join(dir, `f${n++}.zip`);
  await writeFile(p, bytes);
  return p;
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; sizes: number[] }> {
  const list: Uint8Array[] = [];
  for await (const c of chunks) list.push(c);
  return { bytes: concat(list), sizes: list.map((c) => c.length) };
}

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const big = new Uint8Array(5000).map((_, i) => (i * 7) % 13);

/** Corrupts one byte of an archive in place. */
function flipByte(bytes: Uint8Array, index: number): void {
  bytes[index] = at(bytes, index, 'byte to corrupt') ^ 0xff;
}

async function expectFormatError(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const p = await file(bytes);
  let caught: unknown;
  try {
    const z = await ZipArchive.open(p);
    try {
      for (const e of z.entries.values()) await z.read(e);
    } finally {
      await z.close();
    }
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('ZipArchive', () => {
  it('reads stored and deflated entries of a hand-built archive with a comment', async () => {
    const p = await file(
      buildZip(
        [
          { name: 'a/x.txt', data: text('hello') },
          { name: 'a/big.bin', data: big, method: 'deflate' },
          { name: 'a/empty', data: new Uint8Array(0) },
        ],
        'a comment',
      ),
    );
    const z = await ZipArchive.open(p);
    try {
      expect([...z.entries.keys()]).toEqual(['a/x.txt', 'a/big.bin', 'a/empty']);
      expect(z.get('a/big.bin')).toMatchObject({ method: 'deflate', size: 5000 });
      expect(new TextDecoder().decode(await z.read('a/x.txt'))).toBe('hello');
      expect(await z.read('a/big.bin')).toEqual(big);
      expect(await z.read('a/empty')).toEqual(new Uint8Array(0));
      expect(await z.readRange('a/x.txt', 1, 3)).toEqual(text('ell'));
      await expect(z.readRange('a/big.bin', 0, 1)).rejects.toThrow(ConfigError);
      await expect(z.readRange('a/x.txt', 3, 3)).rejects.toThrow(ConfigError);
      await expect(z.read('nope')).rejects.toThrow(/no entry "nope"/);
    } finally {
      await z.close();
    }
  });

  it('reads archives from storedZipChunks with 64-byte aligned data, with and without ZIP64 records', async () => {
    for (const zip64 of [false, true]) {
      const bytes = concat(
        storedZipChunks(
          [
            { name: 'arch/data.pkl', data: () => text('pickle!') },
            { name: 'arch/data/0', data: () => big },
            { name: 'arch/version', data: () => text('3\n') },
          ],
          { zip64 },
        ),
      );
      const z = await ZipArchive.open(await file(bytes));
      try {
        for (const e of z.entries.values()) expect((await z.dataOffset(e)) % 64).toBe(0);
        expect(await z.read('arch/data/0')).toEqual(big);
        expect(new TextDecoder().decode(await z.read('arch/data.pkl'))).toBe('pickle!');
        expect(required(z.get('arch/version'), 'arch/version').size).toBe(2);
      } finally {
        await z.close();
      }
    }
  });

  it('rejects a missing file with NotFoundError', async () => {
    await expect(ZipArchive.open(join(dir, 'missing.zip'))).rejects.toThrow(NotFoundError);
  });

  it('rejects files too short to be ZIP archives', async () => {
    await expectFormatError(new Uint8Array(10), /too short to be a ZIP archive/);
  });

  it('rejects a truncated archive (end record cut off)', async () => {
    const zip = buildZip([{ name: 'x', data: big }]);
    await expectFormatError(zip.subarray(0, zip.length - 10), /no ZIP end-of-central-directory record.*truncated/);
    await expectFormatError(zip.subarray(0, 3000), /no ZIP end-of-central-directory record/);
  });

  it('rejects a central directory offset that points at the wrong place', async () => {
    const zip = buildZip([{ name: 'x', data: big }]);
    const { eocd, cdOffset } = zipLayout(zip);
    const bad = zip.slice();
    new DataView(bad.buffer).setUint32(eocd + 16, cdOffset - 7, true);
    await expectFormatError(bad, /central directory record 0 .* signature .*offset is wrong/);
    const past = zip.slice();
    new DataView(past.buffer).setUint32(eocd + 16, 0xfffffff0, true);
    await expectFormatError(past, /central directory .* runs past the end record/);
  });

  it('rejects an entry whose data extends beyond the file', async () => {
    const zip = buildZip([{ name: 'x', data: big }]);
    const { cdOffset } = zipLayout(zip);
    const bad = zip.slice();
    const dv = new DataView(bad.buffer);
    dv.setUint32(cdOffset + 20, 1_000_000, true);
    dv.setUint32(cdOffset + 24, 1_000_000, true);
    await expectFormatError(bad, /ZIP entry "x".*extends beyond the entry data area/);
    const off = zip.slice();
    new DataView(off.buffer).setUint32(cdOffset + 42, 4990, true);
    await expectFormatError(off, /extends beyond|no local header/);
  });

  it('rejects a corrupt entry (CRC mismatch) and a deflate stream that does not match its size', async () => {
    const zip = buildZip([{ name: 'x', data: big }]);
    const bad = zip.slice();
    flipByte(bad, 30 + 1 + 100);
    await expectFormatError(bad, /CRC-32/);
    const dz = buildZip([{ name: 'd', data: big, method: 'deflate' }]);
    const { cdOffset } = zipLayout(dz);
    const wrong = dz.slice();
    new DataView(wrong.buffer).setUint32(cdOffset + 24, 4000, true);
    await expectFormatError(wrong, /does not inflate|inflates to/);
  });

  it('rejects unsupported methods, encryption, duplicate names and deflate bombs', async () => {
    const zip = buildZip([{ name: 'x', data: text('abc') }]);
    const { cdOffset } = zipLayout(zip);
    const method = zip.slice();
    new DataView(method.buffer).setUint16(cdOffset + 10, 12, true);
    await expectFormatError(method, /compression method 12/);
    const enc = zip.slice();
    new DataView(enc.buffer).setUint16(cdOffset + 8, 1, true);
    await expectFormatError(enc, /encrypted/);
    await expectFormatError(
      buildZip([
        { name: 'x', data: text('a') },
        { name: 'x', data: text('b') },
      ]),
      /two entries named "x"/,
    );
    const dz = buildZip([{ name: 'd', data: text('abcabc'), method: 'deflate' }]);
    const l = zipLayout(dz);
    const bomb = dz.slice();
    new DataView(bomb.buffer).setUint32(l.cdOffset + 24, 2 ** 31, true);
    await expectFormatError(bomb, /beyond what deflate can produce/);
  });

  it('enforces the central-directory and entry-count limits', async () => {
    const p = await file(
      buildZip([
        { name: 'a', data: text('1') },
        { name: 'b', data: text('2') },
      ]),
    );
    await expect(ZipArchive.open(p, { maxEntries: 1 })).rejects.toThrow(/2 entries, above the limit of 1/);
    await expect(ZipArchive.open(p, { maxCentralDirectoryBytes: 10 })).rejects.toThrow(/above the limit of 10/);
    await expect(ZipArchive.open(p, { maxEntries: -1 })).rejects.toThrow(ConfigError);
    const z = await ZipArchive.open(p);
    await expect(z.read('a', { maxBytes: 0 })).rejects.toThrow(/above the limit of 0/);
    await z.close();
  });

  it('streams stored and deflated entries in bounded chunks, equal to a whole read', async () => {
    const large = new Uint8Array(300_000).map((_, i) => (i * 31 + (i >> 9)) % 251);
    const p = await file(
      buildZip([
        { name: 's', data: large },
        { name: 'd', data: large, method: 'deflate' },
        { name: 'e', data: new Uint8Array(0), method: 'deflate' },
      ]),
    );
    const z = await ZipArchive.open(p);
    try {
      expect(z.zip64).toBe(false);
      expect([...z.entries.values()].every((e) => !e.zip64)).toBe(true);
      const stored = await collect(z.stream('s', { chunkBytes: 65536 }));
      expect(stored.bytes).toEqual(large);
      expect(stored.sizes).toEqual([65536, 65536, 65536, 65536, 300_000 - 4 * 65536]);
      const inflated = await collect(z.stream(required(z.get('d'), 'd'), { chunkBytes: 4096 }));
      expect(inflated.bytes).toEqual(large);
      expect(Math.max(...inflated.sizes)).toBeLessThanOrEqual(4096);
      expect((await collect(z.stream('e'))).bytes).toEqual(new Uint8Array(0));
      // stopping early releases the stream; the archive stays usable
      for await (const c of z.stream('d', { chunkBytes: 1024 })) {
        expect(c.length).toBeGreaterThan(0);
        break;
      }
      expect((await collect(z.stream('d'))).bytes).toEqual(large);
      await expect(collect(z.stream('nope'))).rejects.toThrow(/no entry "nope"/);
      await expect(collect(z.stream('s', { chunkBytes: 0 }))).rejects.toThrow(ConfigError);
    } finally {
      await z.close();
    }
  });

  it('reports ZIP64 archives and entries (storedZipChunks with zip64) and streams them', async () => {
    const bytes = concat(storedZipChunks([{ name: 'a', data: () => big }], { zip64: true }));
    const z = await ZipArchive.open(await file(bytes));
    try {
      expect(z.zip64).toBe(true);
      expect(required(z.get('a'), 'a').zip64).toBe(true);
      expect((await collect(z.stream('a', { chunkBytes: 1000 }))).bytes).toEqual(big);
    } finally {
      await z.close();
    }
  });

  it('checks CRC-32 and size at the end of a stream', async () => {
    const zip = buildZip([{ name: 'x', data: big }]);
    const bad = zip.slice();
    flipByte(bad, 30 + 1 + 100);
    const z = await ZipArchive.open(await file(bad));
    try {
      await expect(collect(z.stream('x', { chunkBytes: 512 }))).rejects.toThrow(/CRC-32/);
      expect((await collect(z.stream('x', { verifyCrc: false }))).bytes.length).toBe(big.length);
    } finally {
      await z.close();
    }
    const dz = buildZip([{ name: 'd', data: big, method: 'deflate' }]);
    const { cdOffset } = zipLayout(dz);
    for (const [declared, pattern] of [
      [4000, /inflates to more than its declared 4000 bytes/],
      [6000, /holds 5000 bytes but its header declares 6000/],
    ] as const) {
      const wrong = dz.slice();
      new DataView(wrong.buffer).setUint32(cdOffset + 24, declared, true);
      const w = await ZipArchive.open(await file(wrong));
      try {
        await expect(collect(w.stream('d'))).rejects.toThrow(pattern);
      } finally {
        await w.close();
      }
    }
    const garbage = dz.slice();
    garbage.fill(0xff, 31, 31 + 20);
    const g = await ZipArchive.open(await file(garbage));
    try {
      await expect(collect(g.stream('d'))).rejects.toThrow(/could not be read: .*corrupt/);
    } finally {
      await g.close();
    }
  });
});
