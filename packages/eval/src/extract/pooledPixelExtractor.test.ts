import { CpuTensor, ConfigError, dims4, required } from '@bigr/core';
import { createPooledPixelExtractor } from './pooledPixelExtractor.js';
import { tensorImageSource, npzImageSource } from './imageSource.js';
import { NpzReader } from '../io/npz.js';
import { fixturePath } from '../test/fixtures.js';

describe('createPooledPixelExtractor', () => {
  it('pools grayscale cells, HWC spatial cell means and deterministic logits', async () => {
    const ex = createPooledPixelExtractor({ grid: 2, spatialGrid: 2, numClasses: 3 });
    // 4×4 RGB image: channel c has value 10·c + (y < 2 ? 0 : 100) + (x < 2 ? 0 : 1)
    const img = new Uint8Array(4 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) img[(y * 4 + x) * 3 + c] = 10 * c + (y < 2 ? 0 : 100) + (x < 2 ? 0 : 1);
    const f = await ex.extract(new CpuTensor(img, [1, 4, 4, 3]));
    expect(Array.from(f.pool.data)).toEqual([10, 11, 110, 111]);
    expect(Array.from(required(f.spatial, 'spatial features').data)).toEqual([0, 10, 20, 1, 11, 21, 100, 110, 120, 101, 111, 121]);
    const again = await createPooledPixelExtractor({ grid: 2, spatialGrid: 2, numClasses: 3 }).extract(new CpuTensor(img, [1, 4, 4, 3]));
    expect(Array.from(required(again.logits, 'logits').data)).toEqual(Array.from(required(f.logits, 'logits').data));
    expect(ex.name).toContain('grid2');
    expect(() => createPooledPixelExtractor({ grid: 0 })).toThrow(ConfigError);
    await expect(ex.extract(new CpuTensor(new Uint8Array(16), [1, 4, 4, 1]))).rejects.toThrow(/3 channels/);
  });

  it('image sources: tensor batches and npz arr_0 streaming', async () => {
    const t = new CpuTensor(
      Uint8Array.from({ length: 5 * 2 * 2 * 3 }, (_, i) => i),
      [5, 2, 2, 3],
    );
    const shapes: number[] = [];
    for await (const b of tensorImageSource(t).batches(2)) shapes.push(dims4(b.shape, 'batch')[0]);
    expect(shapes).toEqual([2, 2, 1]);
    const npz = await NpzReader.open(fixturePath('numpy-savez.npz'));
    const src = await npzImageSource(npz);
    expect(src.count).toBe(3);
    let n = 0;
    for await (const b of src.batches(2)) n += dims4(b.shape, 'batch')[0];
    expect(n).toBe(3);
    await expect(npzImageSource(npz, 'mu')).rejects.toThrow(/uint8/);
    await npz.close();
  });
});
