import { mkdtemp, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRaster } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';

let root: string;
let tiny: TinyModel;
const fast = ['--iterations', '2', '--diffusion-steps', '3'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-genfolder-'));
  tiny = await writeTinyModel(join(root, 'm'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr generate --out <dir>/', () => {
  it('writes one PNG per image on a worker pool, equal to the image generated alone, and resumes', async () => {
    const dir = join(root, 'out');
    const run = await runCli([
      '--json',
      '--quiet',
      'generate',
      '--model',
      tiny.modelDir,
      '--n',
      '5',
      '--seed',
      '40',
      '--batch-size',
      '2',
      '--workers',
      '2',
      ...fast,
      '--out',
      `${dir}/`,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
    expect(files).toEqual(['000000.png', '000001.png', '000002.png', '000003.png', '000004.png']);
    // Image 3 (class 3 % 3 = 0, seed 43) alone, in-process, as a 1-image grid.
    const alone = join(root, 'alone.png');
    expect((await runCli(['--quiet', 'generate', '--model', tiny.modelDir, '--n', '1', '--seed', '43', '--class', '0', ...fast, '--out', alone])).code).toBe(0);
    const a = await loadRaster(alone, { channels: 1 });
    const b = await loadRaster(join(dir, '000003.png'), { channels: 1 });
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(Buffer.from(b.data).equals(Buffer.from(a.data))).toBe(true);

    // Resume: the batch whose image is missing is generated again, to the same bytes; the others are kept.
    const before = await readFile(join(dir, '000004.png'));
    await unlink(join(dir, '000004.png'));
    const again = await runCli([
      '--json',
      '--quiet',
      'generate',
      '--model',
      tiny.modelDir,
      '--n',
      '5',
      '--seed',
      '40',
      '--batch-size',
      '2',
      '--workers',
      '1',
      ...fast,
      '--out',
      `${dir}/`,
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ resumedBatches: 2 });
    expect((await readFile(join(dir, '000004.png'))).equals(before)).toBe(true);

    // Other settings into the same folder are refused (exit 2) unless --force.
    const other = await runCli(['--quiet', 'generate', '--model', tiny.modelDir, '--n', '5', '--seed', '41', '--batch-size', '2', ...fast, '--out', `${dir}/`]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/not written by this generate run/);
  });
});
