import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, CpuTensor, getOrThrow } from '@bigr/core';
import { writeImageBatchNpz } from './writeImageBatch.js';
import { tensorImageSource } from './imageSource.js';
import { readNpz } from '../io/npz.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigr-batch-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeImageBatchNpz', () => {
  const imgs = new CpuTensor(
    Uint8Array.from({ length: 5 * 4 * 4 * 3 }, (_, i) => i % 256),
    [5, 4, 4, 3],
  );

  it('writes arr_0 and arr_1 in the ADM layout', async () => {
    const path = join(dir, 'samples.npz');
    await writeImageBatchNpz(path, tensorImageSource(imgs), { labels: [3, 1, 4, 1, 5], batchSize: 2 });
    const back = await readNpz(path);
    expect(getOrThrow(back, 'arr_0', 'array').shape).toEqual([5, 4, 4, 3]);
    expect(Array.from(getOrThrow(back, 'arr_0', 'array').data as Uint8Array)).toEqual(Array.from(imgs.data));
    expect(Array.from(getOrThrow(back, 'arr_1', 'array').data as BigInt64Array)).toEqual([3n, 1n, 4n, 1n, 5n]);
  });

  it('validates labels and leaves nothing behind on abort', async () => {
    await expect(writeImageBatchNpz(join(dir, 'x.npz'), tensorImageSource(imgs), { labels: [1] })).rejects.toThrow(/5 images/);
    const ac = new AbortController();
    await expect(
      writeImageBatchNpz(join(dir, 'aborted.npz'), tensorImageSource(imgs), { batchSize: 2, signal: ac.signal, onProgress: () => ac.abort() }),
    ).rejects.toThrow(AbortError);
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });
});
