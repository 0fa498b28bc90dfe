import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, unpackBits, getOrThrow } from '@bigr/core';
import { decodeImage } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeMaskPng, writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';

let root: string;
let model: TinyModel;
let image: string;
const fast = ['--iterations', '3', '--diffusion-steps', '3'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-inpaint-'));
  model = await writeTinyModel(root);
  image = await writeTestPng(join(root, 'in.png'), { variant: 1 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Naive reference of the token region: token (i, j) of the 4×4 grid samples pixel (8i, 8j) of the 32×32 padded
 * image, which is inner pixel clamp(8i − 2, 0, 27) (edge-replicated padding), inside when the box contains it.
 */
function expectedTokens(box: { x0: number; y0: number; x1: number; y1: number }): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) {
      const y = Math.min(27, Math.max(0, 8 * i - 2));
      const x = Math.min(27, Math.max(0, 8 * j - 2));
      out.push(x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1 ? 1 : 0);
    }
  return out;
}

describe('bigr inpaint', () => {
  it('regenerates only the boxed tokens, keeps every other token (masked budget), and writes grid, sidecar and codes', async () => {
    const out = join(root, 'out', 'inpaint.png');
    const codes = join(root, 'out', 'inpaint.bigr');
    const r = await runCli([
      '--json',
      'inpaint',
      image,
      '--model',
      model.modelDir,
      '--box',
      '0,0,14,14',
      '--n',
      '3',
      '--out',
      out,
      '--codes',
      codes,
      '--budget',
      'masked',
      '--seed',
      '7',
      ...fast,
    ]);
    expect(r.stderr).not.toMatch(/bigr:/);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { ok: boolean; outputs: string[]; regeneratedTokens: number; samples: number; grid: number[] };
    const expected = expectedTokens({ x0: 0, y0: 0, x1: 14, y1: 14 });
    expect(res.ok).toBe(true);
    expect(res.samples).toBe(3);
    expect(res.grid).toEqual([4, 4]);
    expect(res.regeneratedTokens).toBe(expected.reduce((a, b) => a + b, 0));

    // Grid: source + 3 samples in 2 columns of 28×28 tiles with 2 px gaps, grayscale; the first tile is the input.
    const png = decodeImage(new Uint8Array(await readFile(out)), { channels: 1 });
    expect([png.width, png.height]).toEqual([58, 58]);
    const src = decodeImage(new Uint8Array(await readFile(image)), { channels: 1 });
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(png.data[y * 58 + x]).toBe(src.data[y * 28 + x]);

    const sidecar = JSON.parse(await readFile(join(root, 'out', 'inpaint.png.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar['command']).toBe('inpaint');
    expect(sidecar['seed']).toBe(7);
    expect((sidecar['config'] as Record<string, unknown>)['budget']).toBe('masked');
    expect((sidecar['regenerated'] as string[]).join('')).toBe(expected.join(''));

    // Codes file: sampled bits, source bits and the regenerated mask; known tokens are the source's exactly.
    const { tensors, metadata } = await readSafetensors(codes);
    expect(metadata['format']).toBe('bigr-codes');
    const K = model.bitsPerToken;
    const unpack = (name: string) => unpackBits({ bytes: getOrThrow(tensors, name).data as Uint8Array, batch: 3, tokens: 16, bitsPerToken: K }).data;
    const sampled = unpack('codes');
    const source = unpack('source');
    const regenerated = getOrThrow(tensors, 'regenerated').data as Uint8Array;
    expect(getOrThrow(tensors, 'regenerated').shape).toEqual([3, 16]);
    let differsInside = 0;
    for (let b = 0; b < 3; b++)
      for (let t = 0; t < 16; t++) {
        expect(regenerated[b * 16 + t]).toBe(expected[t]);
        const a = sampled.subarray((b * 16 + t) * K, (b * 16 + t + 1) * K);
        const s = source.subarray((b * 16 + t) * K, (b * 16 + t + 1) * K);
        if (expected[t] === 0) expect(Array.from(a)).toEqual(Array.from(s));
        else if (a.some((v, k) => v !== s[k])) differsInside++;
      }
    expect(differsInside).toBeGreaterThan(0);
  });

  it('is reproducible with the same seed', async () => {
    const a = join(root, 'rep-a.png');
    const b = join(root, 'rep-b.png');
    for (const out of [a, b])
      expect((await runCli(['--quiet', 'inpaint', image, '--model', model.modelDir, '--box', '4,4,20,20', '--n', '2', '--out', out, ...fast])).code).toBe(0);
    expect(Buffer.compare(await readFile(a), await readFile(b))).toBe(0);
  });

  it('maps bad input to exit codes: usage 2, missing file 3', async () => {
    const base = ['inpaint', image, '--model', model.modelDir, '--out', join(root, 'err.png'), ...fast];
    expect((await runCli([...base])).code).toBe(2); // neither --mask nor --box
    expect((await runCli([...base, '--box', '0,0,4,4', '--mask', join(root, 'm.png')])).code).toBe(2);
    expect((await runCli([...base, '--box', '1,2,3'])).code).toBe(2);
    expect((await runCli([...base, '--box', '5,5,5,9'])).code).toBe(2);
    expect((await runCli([...base, '--box', '0,0,4,4', '--n', 'many'])).code).toBe(2);
    expect((await runCli([...base, '--box', '0,0,4,4', '--budget', 'some'])).code).toBe(2);
    expect((await runCli([...base, '--box', '0,0,4,4', '--no-such-flag'])).code).toBe(2);
    expect((await runCli(['inpaint', '--box', '0,0,4,4'])).code).toBe(2); // missing <image>
    const missing = await runCli(['--json', 'inpaint', join(root, 'nope.png'), '--model', model.modelDir, '--box', '0,0,4,4']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope\.png does not exist/);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, exitCode: 3 });
    expect((await runCli([...base, '--mask', join(root, 'no-mask.png')])).code).toBe(3);
    expect((await runCli(['inpaint', image, '--model', join(root, 'no-model'), '--box', '0,0,4,4'])).code).toBe(3);
    await expect(stat(join(root, 'err.png'))).rejects.toThrow();
  });
});

describe('bigr outpaint', () => {
  it('keeps the white mask region and regenerates the rest', async () => {
    const box = { x0: 10, y0: 10, x1: 26, y1: 26 };
    const mask = await writeMaskPng(join(root, 'masks', 'keep.png'), box);
    const out = join(root, 'outpaint.png');
    const r = await runCli(['--json', 'outpaint', image, '--model', model.modelDir, '--mask', mask, '--n', '2', '--no-original', '--out', out, ...fast]);
    expect(r.code).toBe(0);
    const kept = expectedTokens(box).reduce((a, b) => a + b, 0);
    expect(kept).toBeGreaterThan(0);
    expect((JSON.parse(r.stdout) as { regeneratedTokens: number }).regeneratedTokens).toBe(16 - kept);
    const png = decodeImage(new Uint8Array(await readFile(out)), { channels: 1 });
    expect([png.width, png.height]).toEqual([58, 28]); // 2 samples, no source, 2 columns
  });
});

describe('bigr edit', () => {
  it('regenerates the region with a class given by name', async () => {
    const out = join(root, 'edit.png');
    const r = await runCli(['--json', 'edit', image, '--model', model.modelDir, '--class', 'trouser', '--box', '0,0,28,14', '--n', '1', '--out', out, ...fast]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { label: number; regeneratedTokens: number };
    expect(res.label).toBe(1);
    expect(res.regeneratedTokens).toBe(expectedTokens({ x0: 0, y0: 0, x1: 28, y1: 14 }).reduce((a, b) => a + b, 0));
    const sidecar = JSON.parse(await readFile(join(root, 'edit.png.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar['className']).toBe('Trouser');
  });

  it('rejects a missing or unknown class with exit code 2', async () => {
    const base = ['edit', image, '--model', model.modelDir, '--box', '0,0,28,14', '--out', join(root, 'edit-err.png'), ...fast];
    expect((await runCli(base)).code).toBe(2);
    const r = await runCli([...base, '--class', 'sneaker']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown class "sneaker"/);
    expect((await runCli([...base, '--class', '3'])).code).toBe(2);
  });
});
