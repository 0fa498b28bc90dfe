import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CpuTensor, FormatError, writeSafetensors } from '@bigr/core';
import { boxMaskRaster, maskToModel, parseBoxes, readCodesFile, withSuffix, writeCodesFile } from './imageApps.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-apps-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('image command helpers', () => {
  it('parses boxes and rejects malformed ones', () => {
    expect(parseBoxes('0,0,14,14; 20,1,28,9')).toEqual([
      { x0: 0, y0: 0, x1: 14, y1: 14 },
      { x0: 20, y0: 1, x1: 28, y1: 9 },
    ]);
    for (const bad of ['', '1,2,3', 'a,b,c,d', '4,4,4,8', '1,9,5,2']) expect(() => parseBoxes(bad)).toThrow(ConfigError);
  });

  it('brings a box mask through the geometry with edge-replicated padding', () => {
    // 4×4 image, box covers the left column; pad 1 → 6×6, the left padding column is inside too
    const m = maskToModel(boxMaskRaster([{ x0: 0, y0: 0, x1: 1, y1: 4 }], 4, 4), { channels: 1, size: 6, pad: 1, inner: 4 });
    expect(m.shape).toEqual([1, 1, 6, 6]);
    const rows = Array.from({ length: 6 }, (_, y) => Array.from(m.data.subarray(y * 6, y * 6 + 6)).join(''));
    expect(rows).toEqual(Array(6).fill('110000'));
  });

  it('names per-round outputs', () => {
    expect(withSuffix('out/e.png', '-round1')).toBe('out/e-round1.png');
    expect(withSuffix('noext', '-r')).toBe('noext-r');
  });

  it('round-trips a codes file and rejects foreign or inconsistent ones', async () => {
    const bits = new CpuTensor<'uint8'>(
      Uint8Array.from({ length: 2 * 4 * 3 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0)),
      [2, 4, 3],
    );
    const path = join(root, 'c.bigr');
    await writeCodesFile(path, { bits, grid: [2, 2], tokenizerHash: 'abc', imageShape: [1, 8, 8], pad: 0, codeMode: 'threshold', sources: ['a.png', 'b.png'] });
    const back = await readCodesFile(path);
    expect(Array.from(back.bits.data)).toEqual(Array.from(bits.data));
    expect(back).toMatchObject({ grid: [2, 2], tokenizerHash: 'abc', imageShape: [1, 8, 8], pad: 0, codeMode: 'threshold', sources: ['a.png', 'b.png'] });

    const foreign = join(root, 'f.safetensors');
    await writeSafetensors(foreign, new Map([['codes', new CpuTensor(new Uint8Array(8), [2, 4])]]));
    await expect(readCodesFile(foreign)).rejects.toThrow(FormatError);
    const bad = join(root, 'bad.bigr');
    await writeSafetensors(bad, new Map([['codes', new CpuTensor(new Uint8Array(8), [2, 4])]]), {
      format: 'bigr-codes',
      version: '1',
      bitsPerToken: '3',
      tokens: '4',
      gridRows: '3',
      gridCols: '2',
      pad: '0',
    });
    await expect(readCodesFile(bad)).rejects.toThrow(/inconsistent/);
  });
});
