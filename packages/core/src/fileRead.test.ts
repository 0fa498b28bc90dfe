import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathExists } from './fileRead.js';

describe('pathExists', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-pathexists-'));
    await writeFile(join(dir, 'a.txt'), 'x');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('is true for a file and a directory, false for a missing path', async () => {
    expect(await pathExists(join(dir, 'a.txt'))).toBe(true);
    expect(await pathExists(dir)).toBe(true);
    expect(await pathExists(join(dir, 'missing.txt'))).toBe(false);
    expect(await pathExists(join(dir, 'a.txt', 'below-a-file'))).toBe(false);
  });
});
