import { at, CpuTensor, dims4, NotFoundError, ShapeError, ConfigError } from '@bigr/core';
import { createOnnxInceptionExtractor, inceptionInput, parseInceptionSidecar, type ModelRunner } from './onnxInceptionExtractor.js';

/** A fake "network": pool = per-channel means tiled, spatial = a map whose values encode (c, h, w). */
function fakeRunner(layout: 'NCHW' | 'NHWC', seen: CpuTensor[]): ModelRunner {
  return async (input) => {
    seen.push(input);
    const [n] = dims4(input.shape, 'model input');
    const pool = new Float32Array(n * 2048).map((_, i) => i % 2048);
    const sp = new Float32Array(n * 192 * 17 * 17);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 192; c++)
        for (let h = 0; h < 17; h++)
          for (let w = 0; w < 17; w++) {
            const v = c * 10000 + h * 100 + w;
            if (layout === 'NCHW') sp[((i * 192 + c) * 17 + h) * 17 + w] = v;
            else sp[((i * 17 + h) * 17 + w) * 192 + c] = v;
          }
    return {
      pool3: new CpuTensor(pool, [n, 2048, 1, 1]),
      mixed6: new CpuTensor(sp, layout === 'NCHW' ? [n, 192, 17, 17] : [n, 17, 17, 192]),
      logits: new CpuTensor(new Float32Array(n * 1008), [n, 1008]),
    };
  };
}

describe('createOnnxInceptionExtractor', () => {
  const images = new CpuTensor(
    Uint8Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => i % 256),
    [2, 8, 8, 3],
  );

  it.each(['NCHW', 'NHWC'] as const)('feeds the normalised 299 input and maps a %s mixed_6/conv to HWC order', async (layout) => {
    const seen: CpuTensor[] = [];
    const ex = createOnnxInceptionExtractor({
      runner: fakeRunner(layout, seen),
      weightsId: 'sha256:test',
      outputs: { pool: 'pool3', spatial: 'mixed6', logits: 'logits' },
    });
    expect(ex.name).toBe('fid-inception/sha256:test/tf1-bilinear-299-nchw');
    expect([ex.featureDim, ex.spatialDim, ex.numClasses]).toEqual([2048, 2023, 1008]);
    const f = await ex.extract(images);
    const input = at(seen, 0, 'model input');
    expect(input.shape).toEqual([2, 3, 299, 299]);
    const x = input.data as Float32Array;
    expect(Math.min(...x.slice(0, 1000))).toBeGreaterThanOrEqual(-1);
    expect(x[0]).toBe((0 - 128) / 128); // pixel (0,0) channel 0 = 0
    expect(x[299 * 299]).toBe((1 - 128) / 128); // channel 1 of the first pixel
    expect(f.pool.shape).toEqual([2, 2048]);
    expect(f.spatial?.shape).toEqual([2, 2023]);
    // index (h·17 + w)·7 + c
    expect(f.spatial?.data[(3 * 17 + 5) * 7 + 6]).toBe(6 * 10000 + 3 * 100 + 5);
    expect(f.logits?.shape).toEqual([2, 1008]);
  });

  it('raw-255 mode feeds NHWC 0…255 at native size', async () => {
    const seen: CpuTensor[] = [];
    const ex = createOnnxInceptionExtractor({ runner: fakeRunner('NCHW', seen), weightsId: 'w', mode: 'raw-255', outputs: { pool: 'pool3' } });
    const f = await ex.extract(images);
    const input = at(seen, 0, 'model input');
    expect(input.shape).toEqual([2, 8, 8, 3]);
    expect(input.data[5]).toBe(5);
    expect(f.spatial).toBeUndefined();
    expect(ex.spatialDim).toBeUndefined();
    expect(ex.numClasses).toBeUndefined();
  });

  it('validates output names and shapes with clear errors', async () => {
    const bad = (outs: Record<string, CpuTensor>) =>
      createOnnxInceptionExtractor({ runner: async () => outs, weightsId: 'w', outputs: { pool: 'pool3', spatial: 'm', logits: 'l' } });
    await expect(bad({}).extract(images)).rejects.toThrow(NotFoundError);
    await expect(bad({ pool3: CpuTensor.zeros('float32', [2, 1000]) }).extract(images)).rejects.toThrow(/\[2, 2048\]/);
    await expect(bad({ pool3: CpuTensor.zeros('float32', [2, 2048]), m: CpuTensor.zeros('float32', [2, 17, 192, 17]) }).extract(images)).rejects.toThrow(
      /NCHW/,
    );
    await expect(
      bad({ pool3: CpuTensor.zeros('float32', [2, 2048]), m: CpuTensor.zeros('float32', [2, 192, 17, 17]), l: CpuTensor.zeros('float32', [2, 1000]) }).extract(
        images,
      ),
    ).rejects.toThrow(/1008/);
    await expect(bad({ pool3: CpuTensor.zeros('int32', [2, 2048]) }).extract(images)).rejects.toThrow(ShapeError);
    expect(() => inceptionInput(new CpuTensor(new Uint8Array(4), [1, 2, 2, 1]), 'normalized-299', 'NCHW')).toThrow(/3-channel/);
  });

  it('parses and validates the JSON sidecar', () => {
    expect(parseInceptionSidecar({ weightsId: 'sha256:x', outputs: { pool: 'a', logits: 'b' } })).toMatchObject({
      weightsId: 'sha256:x',
      outputs: { pool: 'a', logits: 'b' },
    });
    expect(() => parseInceptionSidecar({ outputs: { pool: 'a' } })).toThrow(ConfigError);
    expect(() => parseInceptionSidecar({ weightsId: 'x', mode: 'bicubic', outputs: { pool: 'a' } })).toThrow(/unknown mode/);
    expect(() => parseInceptionSidecar(null)).toThrow(/not a JSON object/);
  });
});
