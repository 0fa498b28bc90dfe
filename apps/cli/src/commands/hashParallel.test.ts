import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { required } from '@bigr/core';

let root: string;
let model: TinyModel;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-hashp-'));
  model = await writeTinyModel(join(root, 'm'));
  data = join(root, 'data');
  for (const cls of ['bag', 'shirt']) await mkdir(join(data, cls), { recursive: true });
  // 150 images: three chunks of 64, so the folder is encoded on the worker pool.
  for (let v = 0; v < 150; v++) await writeTestPng(join(data, v % 2 ? 'bag' : 'shirt', `${String(v).padStart(3, '0')}.png`), { variant: v });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr hash over a folder on every core', () => {
  it.each(['threshold', 'bernoulli'])('%s codes: the index is byte-identical for 2 workers and 1', async (mode) => {
    const outs: Buffer[] = [];
    const entries: unknown[] = [];
    for (const workers of ['2', '1']) {
      const index = join(root, `${mode}-${workers}`, 'index.bhx');
      const run = await runCli([
        '--json',
        '--quiet',
        'hash',
        data,
        '--model',
        model.modelDir,
        '--index',
        index,
        '--code-mode',
        mode,
        '--seed',
        '9',
        '--workers',
        workers,
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ added: 150, size: 150 });
      outs.push(await readFile(index));
      entries.push((JSON.parse(await readFile(`${index}.json`, 'utf8')) as { entries: { label: string }[] }).entries.map((e) => e.label));
    }
    expect(required(outs[0], 'output').equals(required(outs[1], 'output'))).toBe(true);
    expect(entries[0]).toEqual(entries[1]);
  });
});

describe('bigr encode of many images on every core', () => {
  it('threshold codes of 150 files equal the in-process TokenizerPipeline codes', async () => {
    const { listImageInputs } = await import('./imageApps.js');
    const { TokenizerPipeline, readCodesFile } = await import('@bigr/pipeline');
    const { resolveEngine } = await import('@bigr/core');
    await import('@bigr/engine-onnx');
    const out = join(root, 'codes.bigr');
    const run = await runCli(['--quiet', 'encode', data, '--model', model.modelDir, '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const file = await readCodesFile(out);
    const inputs = await listImageInputs([data]);
    const tok = await TokenizerPipeline.fromDirectory(model.modelDir, await resolveEngine({ purpose: 'inference', device: 'onnx-cpu' }));
    try {
      const { bits } = await tok.encode(inputs.map((i) => i.path));
      expect(Buffer.from(file.bits.data).equals(Buffer.from(bits.data))).toBe(true);

      // Decoding on tokenizer workers gives the in-process images, bit for bit; bigr decode uses it for > 64 codes.
      const { createTokenizerPool, decodeOnPool } = await import('@bigr/pipeline');
      const pool = await createTokenizerPool(model.modelDir, { workers: 2 });
      try {
        const onPool = await decodeOnPool(pool, bits, { unpad: false, clamp: false });
        const local = await tok.decode(bits, { unpad: false, clamp: false });
        expect(onPool.shape).toEqual(local.shape);
        expect(
          Buffer.from(onPool.data.buffer, onPool.data.byteOffset, onPool.data.byteLength).equals(
            Buffer.from(local.data.buffer, local.data.byteOffset, local.data.byteLength),
          ),
        ).toBe(true);
      } finally {
        await pool.dispose();
      }
      const decoded = await runCli(['--quiet', 'decode', out, '--model', model.modelDir, '--out', join(root, 'decoded.png')]);
      expect(decoded.stderr).toBe('');
      expect(decoded.code).toBe(0);
    } finally {
      await tok.dispose();
    }
  });
});
