import { mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CpuTensor, FormatError, NotFoundError, getOrThrow, linear, required } from '@bigr/core';
import type { CompiledGraph, GraphDefinition, NamedTensors, Ops } from '@bigr/core';
import { buildOnnxModel, buildOnnxModelParts } from './buildModel.js';
import { exportOnnxModel } from './exportModel.js';
import { externalInitializers, layoutExternalData } from './externalData.js';
import { checkExternalData } from './externalDataCheck.js';
import { OnnxGraphBuilder } from './graphBuilder.js';
import { OnnxEngine } from './onnxEngine.js';
import { transposedPieces } from './onnxOps.js';
import { onnx } from './onnxProto.js';
import { loadOrt } from './ortRuntime.js';
import * as R from './test/reference.js';

const rand = R.makeRandom(11);
// fc.weight (64x32 floats, 8 KiB) is used transposed (a deferred initializer), proj (64x16) as is, emb (10x32)
// through Gather; fc.bias (256 B) stays inline under the default 1 KiB minimum.
const fcW = R.randomTensor(rand, [64, 32]);
const fcB = R.randomTensor(rand, [64]);
const proj = R.randomTensor(rand, [64, 16]);
const emb = R.randomTensor(rand, [10, 32]);
const params: NamedTensors = new Map([
  ['fc.weight', fcW.t],
  ['fc.bias', fcB.t],
  ['proj', proj.t],
  ['emb', emb.t],
]);

/** y = (linear(x + emb[ids]) @ proj) reshaped to [batch, 4, 4]. */
const def: GraphDefinition = {
  name: 'ext',
  inputs: [
    { name: 'x', dtype: 'float32', shape: ['batch', 32] },
    { name: 'ids', dtype: 'int32', shape: ['batch'] },
  ],
  outputs: ['y'],
  build<T>(ops: Ops<T>, v: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
    const h = linear(ops, ops.add(required(v['x'], 'input x'), ops.gather(ops.param('emb'), required(v['ids'], 'input ids'))), 'fc');
    return { y: ops.reshape(ops.matMul(h, ops.param('proj')), [-1, 4, 4]) };
  },
};

const x = R.randomTensor(rand, [3, 32]);
const idsData = Int32Array.of(4, 0, 9);
const feeds = { x: x.t, ids: new CpuTensor(idsData, [3]) };

function reference(): R.Ref {
  const xe = R.binary(x.ref, R.gather(emb.ref, idsData, [3]), (a, b) => a + b);
  const h = R.binary(R.matMul(xe, fcW.ref, false, true), fcB.ref, (a, b) => a + b);
  const y = R.matMul(h, proj.ref);
  return { data: y.data, shape: [3, 4, 4] };
}

async function runOnce(graph: CompiledGraph): Promise<CpuTensor> {
  try {
    return required((await graph.run(feeds))['y'], 'output y');
  } finally {
    await graph.dispose();
  }
}

interface PlainTensor {
  name: string;
  dims: number[];
  rawData: Uint8Array;
  dataLocation: number;
  externalData: { key: string; value: string }[];
}

function initializers(bytes: Uint8Array): PlainTensor[] {
  const m = onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, defaults: true, arrays: true }) as unknown as {
    graph: { initializer: PlainTensor[] };
  };
  return m.graph.initializer;
}

function entries(t: PlainTensor): Record<string, string> {
  return Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
}

function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** fc.weight transposed in float64 → float32 bytes (independent of the engine's transpose). */
function transposedFcBytes(): Uint8Array {
  const t = R.transpose(fcW.ref, [1, 0]);
  return bytesOf(Float32Array.from(t.data));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-onnx-ext-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('external data: compile', () => {
  test('inline, temp-file and in-memory external data give identical outputs that match the reference', async () => {
    const inline = await runOnce(await new OnnxEngine({ externalData: false }).compile(def, params));
    R.expectClose(inline, reference());
    const tempDirectory = join(dir, 'sessions');
    await rm(tempDirectory, { recursive: true, force: true });
    await mkdir(tempDirectory);
    const fileEngine = new OnnxEngine({ externalData: true, tempDirectory });
    const graph = await fileEngine.compile(def, params);
    // The temporary model directory is gone once the session exists; the session keeps working.
    expect(await readdir(tempDirectory)).toEqual([]);
    const viaFile = await runOnce(graph);
    // externalDataMinBytes 0 also moves the 256-byte bias out of the model (int64 shape constants stay inline).
    const viaMemory = await runOnce(await new OnnxEngine({ externalData: true, externalDataStorage: 'memory', externalDataMinBytes: 0 }).compile(def, params));
    expect(viaFile.shape).toEqual([3, 4, 4]);
    expect(Array.from(viaFile.data)).toEqual(Array.from(inline.data));
    expect(Array.from(viaMemory.data)).toEqual(Array.from(inline.data));
  });

  test("'auto' switches at externalDataThreshold; buildOnnxModelParts runs through compileModel", async () => {
    const total = 64 * 32 * 4 + 64 * 4 + 64 * 16 * 4 + 10 * 32 * 4 + 3 * 8; // + the int64 shape [-1, 4, 4]
    expect(buildOnnxModelParts(def, params).externalData).toEqual([]);
    expect(buildOnnxModelParts(def, params, { externalDataThreshold: total }).externalData).toEqual([]);
    const parts = buildOnnxModelParts(def, params, { externalDataThreshold: total - 1 });
    // Creation order: emb (gathered first), the transposed fc.weight, proj.
    expect(parts.externalData.map((f) => f.data.byteLength)).toEqual([10 * 32 * 4, 64 * 32 * 4, 64 * 16 * 4]);
    expect(parts.externalData.map((f) => f.path)).toEqual(['initializer_0.bin', 'initializer_1.bin', 'initializer_2.bin']);
    // Parameters are referenced, not copied; the transposed weight is computed.
    expect(parts.externalData[0]?.data.buffer).toBe(emb.t.data.buffer);
    expect(parts.externalData[2]?.data.buffer).toBe(proj.t.data.buffer);
    expect(Array.from(required(parts.externalData[1], 'external file 1').data)).toEqual(Array.from(transposedFcBytes()));
    expect(parts.model.byteLength).toBeLessThan(2048);
    const out = await runOnce(await new OnnxEngine().compileModel(parts, def));
    R.expectClose(out, reference());
  });

  test('rejects invalid external-data options and cleans up after a failed session', async () => {
    expect(() => new OnnxEngine({ externalData: 'yes' as unknown as boolean })).toThrow(ConfigError);
    expect(() => new OnnxEngine({ externalDataThreshold: -1 })).toThrow(/externalDataThreshold = -1/);
    expect(() => new OnnxEngine({ externalDataMinBytes: Number.NaN })).toThrow(/externalDataMinBytes/);
    expect(() => new OnnxEngine({ externalDataStorage: 'disk' as 'memory' })).toThrow(/externalDataStorage/);
    const tempDirectory = await mkdtemp(join(dir, 'failing-'));
    const wrong = new Map(params);
    wrong.set('proj', new CpuTensor(new Float32Array(60 * 16), [60, 16]));
    await expect(new OnnxEngine({ externalData: true, tempDirectory }).compile(def, wrong)).rejects.toThrow(/onnxruntime rejected graph "ext"/);
    expect(await readdir(tempDirectory)).toEqual([]);
    await expect(new OnnxEngine({ externalData: true, tempDirectory: join(dir, 'no', 'such') }).compile(def, params)).rejects.toThrow(
      /Cannot create a temporary directory in .*no\/such.*tempDirectory/,
    );
  });
});

describe('transposedPieces', () => {
  test('streams a batched transpose in pieces of whole output rows through one reused buffer', () => {
    const t = R.randomTensor(rand, [2, 5, 7]);
    const expected = Float32Array.from(R.transpose(t.ref, [0, 2, 1]).data);
    const seen: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    const collected: number[] = [];
    for (const piece of transposedPieces(t.t.data, [2, 5, 7], 11)) {
      seen.push(piece.byteLength);
      buffers.add(piece.buffer);
      collected.push(...new Float32Array(piece.slice().buffer));
    }
    // 11 elements hold 2 output rows of 5: pieces of 2, 2, 2, 1 rows per 7-row plane.
    expect(seen).toEqual([40, 40, 40, 20, 40, 40, 40, 20]);
    expect(buffers.size).toBe(1);
    expect(collected).toEqual(Array.from(expected));
  });
});

describe('external data: exportOnnxModel', () => {
  test('writes <name>.onnx + <name>.onnx.data with aligned offsets, loadable from the path by a fresh session', async () => {
    const out = join(dir, 'export');
    const result = await exportOnnxModel(def, params, out, { name: 'model', externalData: true, docString: 'test' });
    expect(result.modelPath).toBe(join(out, 'model.onnx'));
    expect(result.dataPath).toBe(join(out, 'model.onnx.data'));
    expect(result.externalInitializers).toBe(3);
    expect((await readdir(out)).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    const model = await readFile(result.modelPath);
    const data = await readFile(required(result.dataPath, 'external data path'));
    expect(model.byteLength).toBe(result.modelBytes);
    expect(data.byteLength).toBe(result.dataBytes);
    const inits = initializers(model);
    const byName = new Map(inits.map((t) => [t.name, t]));
    expect(byName.get('fc.bias')?.dataLocation).toBe(0);
    expect(byName.get('fc.bias')?.rawData.byteLength).toBe(256);
    expect(inits.filter((t) => t.dataLocation === 0).map((t) => t.name)).toEqual(['fc.bias', expect.stringMatching(/^i64:/)]);
    // In file order (creation order): emb, the transposed fc.weight, proj.
    const expected: [string, Uint8Array][] = [
      ['emb', bytesOf(emb.t.data)],
      [
        required(
          inits.find((t) => t.name.startsWith('fc.weight.transposed')),
          'transposed fc.weight',
        ).name,
        transposedFcBytes(),
      ],
      ['proj', bytesOf(proj.t.data)],
    ];
    let previousEnd = 0;
    for (const [name, bytes] of expected) {
      const t = getOrThrow(byName, name, 'initializer');
      expect(t.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
      expect(t.rawData.byteLength).toBe(0);
      const e = entries(t);
      expect(e['location']).toBe('model.onnx.data');
      const offset = Number(e['offset']);
      expect(offset % 4096).toBe(0);
      expect(offset).toBeGreaterThanOrEqual(previousEnd);
      expect(Number(e['length'])).toBe(bytes.byteLength);
      expect(Array.from(data.subarray(offset, offset + bytes.byteLength))).toEqual(Array.from(bytes));
      previousEnd = offset + bytes.byteLength;
    }
    expect(previousEnd).toBe(data.byteLength);

    // A fresh onnxruntime session straight from the path, and OnnxEngine.compileFile.
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(result.modelPath);
    const raw = await session.run({ x: new ort.Tensor('float32', x.t.data, [3, 32]), ids: new ort.Tensor('int32', idsData, [3]) });
    await session.release();
    const y = required(raw['y'], 'output y');
    R.expectClose({ data: y.data as Float32Array, shape: y.dims }, reference());
    R.expectClose(await runOnce(await new OnnxEngine().compileFile(result.modelPath, def)), reference());
    expect(await checkExternalData(result.modelPath)).toEqual({ tensors: 3, files: [{ path: result.dataPath, bytes: data.byteLength }] });
  });

  test('exports inline below the threshold and checks the name', async () => {
    const out = join(dir, 'inline');
    const result = await exportOnnxModel(def, params, out, { name: 'small' });
    expect(result.dataPath).toBeNull();
    expect(await readdir(out)).toEqual(['small.onnx']);
    expect(Buffer.from(await readFile(result.modelPath)).equals(Buffer.from(buildOnnxModel(def, params)))).toBe(true);
    expect(await checkExternalData(result.modelPath)).toEqual({ tensors: 0, files: [] });
    R.expectClose(await runOnce(await new OnnxEngine().compileFile(result.modelPath, def)), reference());
    for (const name of ['', '../up', 'a/b', '..']) {
      await expect(exportOnnxModel(def, params, out, { name })).rejects.toThrow(/Export name .* is invalid/);
    }
  });

  test('missing, truncated or mislabelled external data gives clear errors', async () => {
    const fresh = async (sub: string): Promise<{ modelPath: string; dataPath: string }> => {
      const r = await exportOnnxModel(def, params, join(dir, sub), { name: 'm', externalData: true });
      return { modelPath: r.modelPath, dataPath: required(r.dataPath, 'external data path') };
    };
    const engine = new OnnxEngine();

    const missing = await fresh('missing');
    await unlink(missing.dataPath);
    await expect(engine.compileFile(missing.modelPath, def)).rejects.toThrow(NotFoundError);
    await expect(engine.compileFile(missing.modelPath, def)).rejects.toThrow(/stores its data in "m\.onnx\.data", but .*m\.onnx\.data does not exist/);

    const truncated = await fresh('truncated');
    await truncate(truncated.dataPath, 5000);
    await expect(engine.compileFile(truncated.modelPath, def)).rejects.toThrow(FormatError);
    await expect(engine.compileFile(truncated.modelPath, def)).rejects.toThrow(/needs bytes \d+\.\.\d+ of .*but the file has only 5000 bytes/);

    const wrongLength = await fresh('length');
    const proto = onnx.ModelProto.decode(await readFile(wrongLength.modelPath));
    const projTensor = required(
      proto.graph?.initializer?.find((t) => t.name === 'proj'),
      'initializer proj',
    );
    required(
      projTensor.externalData?.find((e) => e.key === 'length'),
      'external_data length of proj',
    ).value = '4000';
    await writeFile(wrongLength.modelPath, onnx.ModelProto.encode(proto).finish());
    await expect(engine.compileFile(wrongLength.modelPath, def)).rejects.toThrow(/"proj" .* needs 4096 bytes but its external_data length is 4000/);

    await expect(engine.compileFile(join(dir, 'nowhere.onnx'), def)).rejects.toThrow(NotFoundError);
    await writeFile(join(dir, 'garbage.onnx'), Uint8Array.of(0xff, 0xff, 0xff));
    await expect(engine.compileFile(join(dir, 'garbage.onnx'), def)).rejects.toThrow(/is not a valid ONNX model/);
  });

  test('a 3 GiB graph is refused inline (pointing to external data) and laid out with 64 KiB-aligned offsets', () => {
    // Deferred initializers declare their size without allocating it; nothing here computes their data.
    const builder = new OnnxGraphBuilder('huge');
    const never = (): Float32Array => {
      throw new Error('must not be computed');
    };
    const small = builder.addDeferredInitializer('small', 'float32', [300], never); // 1200 B
    const a = builder.addDeferredInitializer('a', 'float32', [32768, 16384], never); // 2 GiB
    const b = builder.addDeferredInitializer('b', 'float32', [16384, 16384], never); // 1 GiB
    builder.addOutput('y', builder.addNode('MatMul', [builder.addNode('MatMul', [small, a], { dtype: 'float32', rank: 1 }), b], { dtype: 'float32', rank: 1 }));
    expect(builder.usedInitializerBytes).toBe(3 * 2 ** 30 + 1200);
    expect(() => builder.serialize()).toThrow(ConfigError);
    expect(() => builder.serialize()).toThrow(/3\.00 GiB of inline initializers.*externalData/);
    const layout = layoutExternalData(externalInitializers(builder, 1024), 'w.data');
    expect(layout.chunks.map((c) => [c.name, c.offset])).toEqual([
      ['small', 0],
      ['a', 65536],
      ['b', 65536 + 2 ** 31],
    ]);
    expect(layout.byteLength).toBe(65536 + 3 * 2 ** 30);
    const model = initializers(builder.serialize({}, layout.locations));
    expect(model.map((t) => [t.name, entries(t)['offset'], entries(t)['length']])).toEqual([
      ['small', '0', '1200'],
      ['a', '65536', String(2 ** 31)],
      ['b', String(65536 + 2 ** 31), String(2 ** 30)],
    ]);
  });
});
