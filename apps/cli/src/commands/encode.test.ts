import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuTensor, packBits, readSafetensors, required, getOrThrow } from '@bigr/core';
import { centerCropResize, decodeImage, loadRaster, padImages, rasterToTensor, toUint8Pixels } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { inferenceEngine } from '../engines.js';
import { loadTokenizer } from '../tokenizerModelDir.js';
import { unpadImages } from '@bigr/pipeline';

let root: string;
let gray: TinyModel;
let rgb: TinyModel;
let images: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-codes-'));
  gray = await writeTinyModel(join(root, 'gray'));
  rgb = await writeTinyModel(join(root, 'rgb'), { channels: 3, pad: 0, bitsPerToken: 8 });
  await mkdir(join(root, 'imgs', 'sub'), { recursive: true });
  images = [await writeTestPng(join(root, 'imgs', 'a.png'), { variant: 0 }), await writeTestPng(join(root, 'imgs', 'sub', 'b.png'), { variant: 3 })];
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Threshold codes of 28×28 gray files, padded to 32, computed directly with the tokenizer. */
async function referenceCodes(paths: string[], model: TinyModel): Promise<{ bytes: Uint8Array; bits: CpuTensor<'uint8'> }> {
  const { tokenizer } = await loadTokenizer(model.tokenizerDir, await inferenceEngine());
  const data: number[] = [];
  for (const p of paths) data.push(...rasterToTensor(await loadRaster(p, { channels: 1 })).data);
  const imgs = padImages(new CpuTensor(Float32Array.from(data), [paths.length, 1, 28, 28]), 2);
  const { bits } = await tokenizer.encode(imgs, { mode: 'threshold' });
  return { bytes: packBits(bits).bytes, bits };
}

describe('bigr encode / decode', () => {
  it('encodes files and directories to packed threshold codes with geometry and tokenizer hash', async () => {
    const out = join(root, 'codes.bigr');
    // a directory (walked in sorted order: a.png, sub/b.png) then a file again
    const r = await runCli(['--json', 'encode', join(root, 'imgs'), required(images[0], 'image path'), '--model', gray.modelDir, '--out', out]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { images: number; tokens: number; bitsPerToken: number; codeMode: string };
    expect(res).toMatchObject({ images: 3, tokens: 16, bitsPerToken: 12, codeMode: 'threshold' });
    const { tensors, metadata } = await readSafetensors(out);
    expect(metadata).toMatchObject({
      format: 'bigr-codes',
      version: '1',
      bitsPerToken: '12',
      tokens: '16',
      gridRows: '4',
      gridCols: '4',
      pad: '2',
      codeMode: 'threshold',
    });
    expect(metadata['tokenizerHash']).toBe(await sha256(join(gray.tokenizerDir, 'model.safetensors')));
    expect(JSON.parse(required(metadata['sources'], 'metadata entry'))).toEqual([images[0], images[1], images[0]]);
    const codes = getOrThrow(tensors, 'codes');
    expect(codes.dtype).toBe('uint8');
    expect(codes.shape).toEqual([3, 16 * 2]);
    const ref = await referenceCodes([required(images[0], 'image path'), required(images[1], 'image path'), required(images[0], 'image path')], gray);
    expect(Array.from(codes.data)).toEqual(Array.from(ref.bytes));
    // K = 12: the top 4 bits of every token's second byte are padding and must be zero
    for (let t = 0; t < 3 * 16; t++) expect(required(codes.data[t * 2 + 1], 'code byte') & 0xf0).toBe(0);
  });

  it('decodes a codes file to a grid equal to the tokenizer decode', async () => {
    const codes = join(root, 'two.bigr');
    expect((await runCli(['--quiet', 'encode', ...images, '--model', gray.modelDir, '--out', codes])).code).toBe(0);
    const out = join(root, 'decoded.png');
    const r = await runCli(['--json', 'decode', codes, '--model', gray.modelDir, '--out', out, '--cols', '2']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, images: 2, grid: [4, 4], bitsPerToken: 12 });
    const png = decodeImage(new Uint8Array(await readFile(out)), { channels: 1 });
    expect([png.width, png.height]).toEqual([58, 28]);
    const { tokenizer } = await loadTokenizer(gray.tokenizerDir, await inferenceEngine());
    const ref = toUint8Pixels(unpadImages(await tokenizer.decode((await referenceCodes(images, gray)).bits), 2)).data; // [2, 28, 28, 1]
    for (let i = 0; i < 2; i++)
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(png.data[y * 58 + i * 30 + x]).toBe(ref[(i * 28 + y) * 28 + x]);
    expect(JSON.parse(await readFile(join(root, 'decoded.png.json'), 'utf8'))).toMatchObject({ command: 'decode', images: 2 });
  });

  it('center-crops RGB images of any size to the tokenizer resolution (pad 0) and accepts a tokenizer directory', async () => {
    const wide = await writeTestPng(join(root, 'wide.png'), { width: 48, height: 40, channels: 3, variant: 5 });
    const out = join(root, 'rgb.bigr');
    expect((await runCli(['--quiet', 'encode', wide, '--model', rgb.tokenizerDir, '--out', out])).code).toBe(0);
    const { tensors } = await readSafetensors(out);
    const { tokenizer } = await loadTokenizer(rgb.tokenizerDir, await inferenceEngine());
    const t = rasterToTensor(centerCropResize(await loadRaster(wide, { channels: 3 }), 32));
    const { bits } = await tokenizer.encode(new CpuTensor(t.data, [1, 3, 32, 32]), { mode: 'threshold' });
    expect(Array.from(getOrThrow(tensors, 'codes').data)).toEqual(Array.from(packBits(bits).bytes));
  });

  it('bernoulli codes depend on the seed only', async () => {
    const run = async (seed: string, name: string) => {
      expect(
        (
          await runCli([
            '--quiet',
            'encode',
            required(images[0], 'image path'),
            '--model',
            gray.modelDir,
            '--code-mode',
            'bernoulli',
            '--seed',
            seed,
            '--out',
            join(root, name),
          ])
        ).code,
      ).toBe(0);
      return getOrThrow((await readSafetensors(join(root, name))).tensors, 'codes', 'tensor').data;
    };
    const a = await run('1', 'b1.bigr');
    expect(Array.from(await run('1', 'b1again.bigr'))).toEqual(Array.from(a));
    expect(Array.from(await run('2', 'b2.bigr'))).not.toEqual(Array.from(a));
  });

  it('maps errors to exit codes', async () => {
    expect((await runCli(['encode', join(root, 'nope.png'), '--model', gray.modelDir, '--out', join(root, 'x.bigr')])).code).toBe(3);
    expect(
      (await runCli(['encode', required(images[0], 'image path'), '--model', gray.modelDir, '--code-mode', 'fuzzy', '--out', join(root, 'x.bigr')])).code,
    ).toBe(2);
    expect((await runCli(['decode', join(root, 'nope.bigr'), '--model', gray.modelDir])).code).toBe(3);
    // not a codes file (a model's weights): format error, exit 3
    const notCodes = await runCli(['decode', join(gray.modelDir, 'model.safetensors'), '--model', gray.modelDir, '--out', join(root, 'x.png')]);
    expect(notCodes.code).toBe(3);
    expect(notCodes.stderr).toMatch(/not a BiGR codes file/);
    // codes of another geometry (K = 8 RGB tokenizer) cannot be decoded by the gray K = 12 tokenizer
    expect((await runCli(['decode', join(root, 'rgb.bigr'), '--model', gray.modelDir, '--out', join(root, 'x.png')])).code).toBe(2);
  });
});
