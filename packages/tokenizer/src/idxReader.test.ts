import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FormatError, getOrThrow, NotFoundError } from '@bigr/core';
import { loadIdxImageSet, parseIdx } from './idxReader.js';

/** Bytes per element of each IDX type code. */
const IDX_ELEMENT_BYTES = new Map([
  [0x08, 1],
  [0x09, 1],
  [0x0b, 2],
  [0x0c, 4],
  [0x0d, 4],
  [0x0e, 8],
]);

/** Builds an IDX file in memory (big-endian), independent of the reader. */
function idx(type: number, dims: number[], values: number[]): Uint8Array {
  const size = getOrThrow(IDX_ELEMENT_BYTES, type, 'IDX type code');
  const out = new Uint8Array(4 + 4 * dims.length + values.length * size);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    v.setUint32(4 + 4 * i, d, false);
  });
  const base = 4 + 4 * dims.length;
  values.forEach((x, i) => {
    if (type === 0x08) v.setUint8(base + i, x);
    else if (type === 0x09) v.setInt8(base + i, x);
    else if (type === 0x0b) v.setInt16(base + 2 * i, x, false);
    else if (type === 0x0c) v.setInt32(base + 4 * i, x, false);
    else if (type === 0x0d) v.setFloat32(base + 4 * i, x, false);
    else v.setFloat64(base + 8 * i, x, false);
  });
  return out;
}

describe('IDX reader', () => {
  it('parses every element type, big-endian, gzipped or not', () => {
    expect(Array.from(parseIdx(idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255])).data)).toEqual([0, 1, 2, 253, 254, 255]);
    expect(Array.from(parseIdx(idx(0x09, [2], [-5, 7])).data)).toEqual([-5, 7]);
    expect(Array.from(parseIdx(idx(0x0b, [2], [-300, 1234])).data)).toEqual([-300, 1234]);
    expect(Array.from(parseIdx(idx(0x0c, [2], [-70000, 2 ** 30])).data)).toEqual([-70000, 2 ** 30]);
    expect(Array.from(parseIdx(idx(0x0d, [1], [1.5])).data)).toEqual([1.5]);
    expect(Array.from(parseIdx(gzipSync(idx(0x0e, [1, 1], [Math.PI]))).data)).toEqual([Math.PI]);
    const a = parseIdx(
      gzipSync(
        idx(
          0x08,
          [3, 2, 2],
          Array.from({ length: 12 }, (_, i) => i),
        ),
      ),
    );
    expect([a.dtype, a.shape]).toEqual(['uint8', [3, 2, 2]]);
  });

  it('bounds every size and explains malformed files', () => {
    const good = idx(0x08, [2, 2], [1, 2, 3, 4]);
    expect(() => parseIdx(good.subarray(0, 3), { source: 'x.idx' })).toThrow(/x\.idx: 3 bytes is too short/);
    expect(() => parseIdx(Uint8Array.from([1, 0, 8, 1]))).toThrow(/IDX files start with 00 00/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x42, 1]))).toThrow(/unknown IDX element type 0x42/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 0]))).toThrow(/0 dimensions/);
    expect(() => parseIdx(good.subarray(0, 9))).toThrow(/truncated header/);
    expect(() => parseIdx(good.subarray(0, good.length - 1))).toThrow(/needs 16 bytes but the data has 15.*truncated/);
    expect(() => parseIdx(Uint8Array.from([...good, 9]))).toThrow(/followed by extra bytes/);
    // a header announcing 4 GiB × 4 GiB elements is refused before allocating
    const huge = idx(0x08, [0xffffffff, 0xffffffff], []);
    expect(() => parseIdx(huge)).toThrow(/describe more than/);
    expect(() => parseIdx(gzipSync(new Uint8Array(5000)), { maxBytes: 1000 })).toThrow(/decompresses to more than 1000 bytes/);
    const gz = gzipSync(good);
    expect(() => parseIdx(gz.subarray(0, gz.length - 6))).toThrow(/gzip data is corrupt or truncated/);
    expect(() => parseIdx(good.subarray(0, 3))).toThrow(FormatError);
  });

  describe('Fashion-MNIST-style split', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bigr-idx-'));
      const px = Array.from({ length: 3 * 28 * 28 }, (_, i) => i % 256);
      await writeFile(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [3, 28, 28], px)));
      await writeFile(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [3], [9, 0, 4]));
      await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx(0x08, [2, 28, 28], px.slice(0, 2 * 784)));
      await writeFile(join(dir, 't10k-labels-idx1-ubyte'), idx(0x08, [3], [1, 2, 3]));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('loads images in [0,1], labels, pads 28 → 32, and limits', async () => {
      const set = await loadIdxImageSet(dir, 'train', { pad: 2, limit: 2 });
      expect(set.images.shape).toEqual([2, 1, 32, 32]);
      expect(Array.from(set.labels)).toEqual([9, 0]);
      expect(set.classNames[9]).toBe('Ankle boot');
      expect(set.images.data[0]).toBe(0);
      expect(set.images.data[2 * 32 + 2 + 5]).toBeCloseTo(5 / 255, 7);
      expect(set.images.data[(32 + 2) * 32 + 2 + 27]).toBeCloseTo(((784 + 27) % 256) / 255, 7);
    });

    it('reports mismatched and missing files', async () => {
      await expect(loadIdxImageSet(dir, 'test')).rejects.toThrow(/has 2 images but .* has 3 labels/);
      await expect(loadIdxImageSet(join(dir, 'none'), 'train')).rejects.toThrow(NotFoundError);
    });
  });
});
