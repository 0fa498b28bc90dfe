import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FormatError, NotFoundError } from './errors.js';
import { MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE, loadModelDirectory, saveModelDirectory } from './modelDirectory.js';
import { CpuTensor } from './tensor.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-modeldir-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model directories', () => {
  it('save + load round-trips config, tensors and metadata, leaving exactly two files', async () => {
    const d = join(dir, 'nested/model-a');
    const tensors = new Map([
      ['tok_embeddings.weight', CpuTensor.fromArray([1, 2, 3, 4, 5, 6], [3, 2])],
      ['labels', CpuTensor.fromArray([7, 8], [2], 'int32')],
    ]);
    await saveModelDirectory(d, { config: { dim: 2, layers: [1, 2], name: 'tiny' }, tensors, metadata: { source: 'test' } });
    expect((await readdir(d)).sort()).toEqual([MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE].sort());
    expect(JSON.parse(await readFile(join(d, MODEL_CONFIG_FILE), 'utf8'))).toEqual({ dim: 2, layers: [1, 2], name: 'tiny' });
    const m = await loadModelDirectory(d);
    expect(m.config).toEqual({ dim: 2, layers: [1, 2], name: 'tiny' });
    expect(m.metadata).toEqual({ source: 'test' });
    expect([...m.tensors.keys()]).toEqual(['tok_embeddings.weight', 'labels']);
    expect(m.tensors.get('labels')?.data).toEqual(new Int32Array([7, 8]));
    expect(m.tensors.get('tok_embeddings.weight')?.shape).toEqual([3, 2]);
    // overwrite in place
    await saveModelDirectory(d, { config: { dim: 3 }, tensors: new Map([['x', CpuTensor.fromArray([1], [1])]]) });
    const m2 = await loadModelDirectory(d);
    expect(m2.config).toEqual({ dim: 3 });
    expect([...m2.tensors.keys()]).toEqual(['x']);
    expect((await readdir(d)).length).toBe(2);
  });

  it('reports every missing file and missing directories with NotFoundError', async () => {
    await expect(loadModelDirectory(join(dir, 'nope'))).rejects.toThrow(NotFoundError);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(loadModelDirectory(empty)).rejects.toThrow(/missing config\.json and model\.safetensors/);
    await writeFile(join(empty, MODEL_CONFIG_FILE), '{}');
    await expect(loadModelDirectory(empty)).rejects.toThrow(/missing model\.safetensors\./);
  });

  it('rejects malformed and oversized configs and bad config values', async () => {
    const d = join(dir, 'bad');
    await saveModelDirectory(d, { config: { a: 1 }, tensors: new Map([['x', CpuTensor.fromArray([1], [1])]]) });
    await writeFile(join(d, MODEL_CONFIG_FILE), '{"a": ');
    await expect(loadModelDirectory(d)).rejects.toThrow(FormatError);
    await writeFile(join(d, MODEL_CONFIG_FILE), JSON.stringify({ pad: 'x'.repeat(100) }));
    await expect(loadModelDirectory(d, { maxConfigBytes: 50 })).rejects.toThrow(/above the 50-byte limit/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(saveModelDirectory(join(dir, 'c'), { config: cyclic, tensors: new Map() })).rejects.toThrow(ConfigError);
    await expect(saveModelDirectory(join(dir, 'c'), { config: [1, 2], tensors: new Map() })).rejects.toThrow(/JSON object/);
  });
});
