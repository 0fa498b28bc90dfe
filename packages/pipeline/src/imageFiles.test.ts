import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CpuTensor } from '@bigr/core';
import { decodeImage } from '@bigr/tokenizer';
import { imageFormatOf, writeImageGrid } from './imageFiles.js';

describe('image files by extension', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-imgfiles-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const images = new CpuTensor<'float32'>(
    Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => (i % 64) / 63),
    [4, 1, 8, 8],
  );

  it('writes PNG for .png and JPEG for .jpg/.jpeg, decodable to the grid size', async () => {
    for (const [name, magic] of [
      ['g.png', [0x89, 0x50]],
      ['g.jpg', [0xff, 0xd8]],
      ['g.JPEG', [0xff, 0xd8]],
    ] as const) {
      const path = join(dir, name);
      await writeImageGrid(path, images, { cols: 2 });
      const bytes = new Uint8Array(await readFile(path));
      expect([bytes[0], bytes[1]]).toEqual(magic);
      const r = decodeImage(bytes, { channels: 1 });
      expect([r.width, r.height]).toEqual([18, 18]);
    }
  });

  it('refuses WebP and unknown extensions, naming the supported ones', () => {
    expect(() => imageFormatOf('x.webp')).toThrow(ConfigError);
    expect(() => imageFormatOf('x.webp')).toThrow(/WebP.*Use one of \.png, \.jpg, \.jpeg/);
    expect(() => imageFormatOf('x.gif')).toThrow(/"\.gif" is not a supported image format/);
    expect(imageFormatOf('a/b.PNG')).toBe('png');
  });
});
