import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from './errors.js';
import { hashTensors, sha256OfFile } from './tensorHash.js';
import { CpuTensor } from './tensor.js';

describe('hashing', () => {
  it('sha256OfFile equals the published SHA-256 of "abc" and of a large file hashed in one go', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bigr-hash-'));
    try {
      await writeFile(join(dir, 'abc'), 'abc');
      expect(await sha256OfFile(join(dir, 'abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      const big = new Uint8Array(3_000_001).map((_, i) => (i * 31) & 0xff);
      await writeFile(join(dir, 'big'), big);
      expect(await sha256OfFile(join(dir, 'big'))).toBe(createHash('sha256').update(big).digest('hex'));
      await expect(sha256OfFile(join(dir, 'missing'))).rejects.toThrow(NotFoundError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hashTensors follows its documented canonical encoding and ignores map order', () => {
    const a = CpuTensor.fromArray([1, 2], [2]);
    const b = CpuTensor.fromArray([3], [1, 1], 'int32');
    const h1 = hashTensors(
      new Map([
        ['b', b],
        ['a', a],
      ]),
    );
    expect(
      hashTensors(
        new Map([
          ['a', a],
          ['b', b],
        ]),
      ),
    ).toBe(h1);
    // Independent reference of the encoding.
    const ref = createHash('sha256');
    for (const [name, t] of [
      ['a', a],
      ['b', b],
    ] as const) {
      ref.update(Buffer.from(`${name}\u0000${t.dtype}\u0000${t.shape.join(',')}\u0000`, 'utf8'));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(t.data.byteLength));
      ref.update(len);
      ref.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    expect(h1).toBe(ref.digest('hex'));
    // Any change of value, shape, dtype or name changes the hash.
    expect(
      hashTensors(
        new Map([
          ['a', CpuTensor.fromArray([1, 2.0000002], [2])],
          ['b', b],
        ]),
      ),
    ).not.toBe(h1);
    expect(
      hashTensors(
        new Map([
          ['a', a.reshape([1, 2])],
          ['b', b],
        ]),
      ),
    ).not.toBe(h1);
    expect(
      hashTensors(
        new Map([
          ['a', CpuTensor.fromArray([1, 2], [2], 'float64')],
          ['b', b],
        ]),
      ),
    ).not.toBe(h1);
    expect(
      hashTensors(
        new Map([
          ['c', a],
          ['b', b],
        ]),
      ),
    ).not.toBe(h1);
  });
});
