/**
 * kill -9 of `bigr generate --out <dir>/` (worker pool, real child process): re-running the same command completes
 * the folder with exactly the files of an uninterrupted run, and no temporary file survives.
 */
import { watch } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/runCli.js';
import { startCli } from './testing/childCli.js';
import { writeTinyModel, type TinyModel } from './testing/tinyModel.js';
import { getOrThrow } from '@bigr/core';

let root: string;
let tiny: TinyModel;
const N = 16;
const args = (dir: string): string[] => [
  '--quiet',
  'generate',
  '--model',
  tiny.modelDir,
  '--n',
  String(N),
  '--seed',
  '3',
  '--batch-size',
  '2',
  '--workers',
  '2',
  '--iterations',
  '3',
  '--diffusion-steps',
  '20',
  '--out',
  `${dir}/`,
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-genkill-'));
  tiny = await writeTinyModel(join(root, 'm'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function pngs(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of (await readdir(dir)).sort()) if (f.endsWith('.png')) out.set(f, await readFile(join(dir, f)));
  return out;
}

describe('bigr generate --out <dir>/ killed with SIGKILL', () => {
  it('resumes to the files of an uninterrupted run', async () => {
    const reference = join(root, 'reference');
    expect((await runCli(args(reference))).code).toBe(0);
    const want = await pngs(reference);
    expect(want.size).toBe(N);

    const dir = join(root, 'killed');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    const started = startCli(args(dir), { env: { BIGR_DEVICE: undefined } });
    // Kill once a few images are on disk (the run still has most batches to do).
    await new Promise<void>((resolve) => {
      let seen = 0;
      const w = watch(dir, (_e, name) => {
        if (name && /^\d{6}\.png$/.test(String(name)) && ++seen >= 3) {
          w.close();
          started.child.kill('SIGKILL');
          resolve();
        }
      });
      void started.exited.then(() => {
        w.close();
        resolve();
      });
    });
    const ended = await started.exited;
    expect(ended.signal ?? ended.code).toBe('SIGKILL');
    const partial = await pngs(dir);
    expect(partial.size).toBeLessThan(N);
    for (const [f, bytes] of partial) expect(bytes.equals(getOrThrow(want, f))).toBe(true);

    expect((await runCli(args(dir))).code).toBe(0);
    const got = await pngs(dir);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [f, bytes] of got) expect(bytes.equals(getOrThrow(want, f))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
