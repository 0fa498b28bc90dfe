import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { at, CpuTensor, FormatError, NotFoundError, ConfigError } from '@bigr/core';
import {
  decodeImage,
  encodePng,
  imageGrid,
  loadImage,
  padImages,
  rasterToTensor,
  saveImagePng,
  sniffImageFormat,
  stackImages,
  tensorToRaster,
  toUint8Pixels,
  type RasterImage,
} from './imageIo.js';
import { loadImageFolder, scanImageFolder } from './imageFolder.js';
import { PIL_LUMA_13x9 } from './test/pilVectors.js';

function pattern(w: number, h: number, c: 1 | 3): RasterImage {
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) data[(y * w + x) * c + ch] = (x * 37 + y * 91 + ch * 53 + ((x * y * 7) % 29)) % 256;
  return { width: w, height: h, channels: c, data };
}

describe('PNG and JPEG I/O', () => {
  it('PNG round-trips RGB and gray exactly', () => {
    for (const c of [1, 3] as const) {
      const img = pattern(13, 9, c);
      const png = encodePng(img);
      expect(sniffImageFormat(png)).toBe('png');
      const back = decodeImage(png, { channels: c });
      expect([back.width, back.height, back.channels]).toEqual([13, 9, c]);
      expect(Array.from(back.data)).toEqual(Array.from(img.data));
    }
  });

  it('converts RGB to gray with the PIL luma and gray to RGB by repetition', () => {
    const rgb = encodePng(pattern(13, 9, 3));
    expect(Array.from(decodeImage(rgb, { channels: 1 }).data)).toEqual(PIL_LUMA_13x9);
    const gray = decodeImage(encodePng(pattern(4, 2, 1)), { channels: 3 });
    expect(gray.data[3 * 3]).toBe(gray.data[3 * 3 + 2]);
  });

  it('decodes JPEG (lossy: close to the source)', () => {
    const w = 16;
    const h = 16;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([Math.floor((i % w) * 15), 128, Math.floor(i / w) * 15, 255], i * 4);
    const enc = jpeg.encode({ width: w, height: h, data: rgba }, 95);
    const img = decodeImage(new Uint8Array(enc.data));
    expect([img.width, img.height, img.channels]).toEqual([16, 16, 3]);
    let err = 0;
    for (let i = 0; i < w * h; i++)
      for (let c = 0; c < 3; c++) err = Math.max(err, Math.abs(at(img.data, i * 3 + c, 'decoded byte') - at(rgba, i * 4 + c, 'source byte')));
    expect(err).toBeLessThan(12);
  });

  it('rejects malformed images with clear errors', () => {
    expect(() => decodeImage(new Uint8Array(0), { name: 'empty.png' })).toThrow(/empty\.png: not a PNG or JPEG file \(first bytes: none, the file is empty\)/);
    expect(() => decodeImage(new TextEncoder().encode('hello world'))).toThrow(/not a PNG or JPEG file \(first bytes: 68 65 6c/);
    const png = encodePng(pattern(8, 8, 3));
    expect(() => decodeImage(png.subarray(0, 20))).toThrow(/PNG is truncated/);
    expect(() => decodeImage(png.subarray(0, png.length - 20))).toThrow(FormatError);
    const corrupt = png.slice();
    const scrambled = corrupt.subarray(40, corrupt.length - 12);
    for (const [i, v] of scrambled.entries()) scrambled[i] = v ^ 0x5a;
    expect(() => decodeImage(corrupt)).toThrow(/PNG could not be decoded/);
    // header claims 100000 x 100000 pixels: refused before decoding
    const huge = png.slice();
    new DataView(huge.buffer).setUint32(16, 100000);
    new DataView(huge.buffer).setUint32(20, 100000);
    expect(() => decodeImage(huge)).toThrow(/100000x100000 = 10000000000 pixels, above the limit/);
    const zero = png.slice();
    new DataView(zero.buffer).setUint32(16, 0);
    expect(() => decodeImage(zero)).toThrow(/image size 0x8 is invalid/);
    expect(() => decodeImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toThrow(/JPEG could not be decoded/);
  });
});

describe('tensors', () => {
  it('rasterToTensor is byte/255 in CHW, and toUint8Pixels inverts it with the save_image rounding', () => {
    const img = pattern(5, 3, 3);
    const t = rasterToTensor(img);
    expect(t.shape).toEqual([3, 3, 5]);
    expect(t.data[(2 * 3 + 1) * 5 + 4]).toBeCloseTo(at(img.data, (1 * 5 + 4) * 3 + 2, 'raster byte') / 255, 7);
    expect(Array.from(tensorToRaster(t).data)).toEqual(Array.from(img.data));
    const px = toUint8Pixels(new CpuTensor(Float32Array.from([-0.5, 0, 0.5, 1.7, 0.002, 0.998]), [1, 1, 1, 6]));
    expect(Array.from(px.data)).toEqual([0, 0, 128, 255, 1, 254]);
  });

  it('pads, stacks and tiles', () => {
    const a = new CpuTensor<'float32'>(
      Float32Array.from({ length: 4 }, (_, i) => i + 1),
      [1, 1, 2, 2],
    );
    const p = padImages(a, 1);
    expect(p.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(p.data)).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
    const s = stackImages([new CpuTensor(new Float32Array(4), [1, 2, 2]), new CpuTensor(new Float32Array(4).fill(1), [1, 2, 2])]);
    expect(s.shape).toEqual([2, 1, 2, 2]);
    expect(() => stackImages([new CpuTensor(new Float32Array(4), [1, 2, 2]), new CpuTensor(new Float32Array(6), [1, 2, 3])])).toThrow(
      /image 1 has shape \[1, 2, 3\]/,
    );
    const g = imageGrid(s, 2, 1, 0.5);
    expect(g.shape).toEqual([1, 2, 5]);
    expect(Array.from(g.data)).toEqual([0, 0, 0.5, 1, 1, 0, 0, 0.5, 1, 1]);
  });
});

describe('files and image folders', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-img-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves PNGs atomically and loads them with the ADM center crop', async () => {
    const t = rasterToTensor(pattern(40, 24, 3));
    await saveImagePng(join(dir, 'a.png'), t);
    const back = await loadImage(join(dir, 'a.png'));
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    const small = await loadImage(join(dir, 'a.png'), { size: 8, channels: 1 });
    expect(small.shape).toEqual([1, 8, 8]);
    const stretched = await loadImage(join(dir, 'a.png'), { size: 8, fit: 'resize', filter: 'bilinear' });
    expect(stretched.shape).toEqual([3, 8, 8]);
    await expect(loadImage(join(dir, 'nope.png'))).rejects.toThrow(NotFoundError);
    await expect(loadImage(dir)).rejects.toThrow(/is not a regular file/);
    await expect(loadImage(join(dir, 'a.png'), { maxBytes: 10 })).rejects.toThrow(/above the limit of 10/);
  });

  it('reads class sub-folders in sorted order and names a broken file', async () => {
    const root = join(dir, 'folder');
    for (const cls of ['cat', 'ant']) await mkdir(join(root, cls), { recursive: true });
    await writeFile(join(root, 'ant', 'b.png'), encodePng(pattern(10, 10, 3)));
    await writeFile(join(root, 'ant', 'a.PNG'), encodePng(pattern(12, 10, 3)));
    await writeFile(join(root, 'cat', 'x.png'), encodePng(pattern(10, 12, 1)));
    await writeFile(join(root, 'cat', 'notes.txt'), 'skip me');
    await writeFile(join(root, 'cat', '.hidden.png'), 'skip me');
    const listing = await scanImageFolder(root);
    expect(listing.classNames).toEqual(['ant', 'cat']);
    expect(listing.entries.map((e) => [e.path.slice(root.length + 1), e.label])).toEqual([
      ['ant/a.PNG', 0],
      ['ant/b.png', 0],
      ['cat/x.png', 1],
    ]);
    const events: number[] = [];
    const set = await loadImageFolder(root, { size: 8, onProgress: (e) => events.push(e.current) });
    expect(set.images.shape).toEqual([3, 3, 8, 8]);
    expect(Array.from(set.labels)).toEqual([0, 0, 1]);
    expect(events).toEqual([1, 2, 3]);
    await writeFile(join(root, 'cat', 'y.png'), 'not a png');
    await expect(loadImageFolder(root, { size: 8 })).rejects.toThrow(/cat\/y\.png: not a PNG or JPEG/);
    const ac = new AbortController();
    ac.abort();
    await expect(loadImageFolder(root, { size: 8, signal: ac.signal })).rejects.toThrow(/aborted/);
    await expect(scanImageFolder(join(dir, 'missing'))).rejects.toThrow(NotFoundError);
    await mkdir(join(dir, 'flat'));
    await writeFile(join(dir, 'flat', 'a.png'), encodePng(pattern(4, 4, 3)));
    await expect(scanImageFolder(join(dir, 'flat'))).rejects.toThrow(ConfigError);
  });
});
