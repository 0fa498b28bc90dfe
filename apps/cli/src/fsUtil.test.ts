import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists } from './fsUtil.js';

describe('exists', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bigr-fsutil-'));
    await writeFile(join(dir, 'a.txt'), 'x');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('is true for a file and a directory, false for a missing path', async () => {
    expect(await exists(join(dir, 'a.txt'))).toBe(true);
    expect(await exists(dir)).toBe(true);
    expect(await exists(join(dir, 'missing.txt'))).toBe(false);
    expect(await exists(join(dir, 'a.txt', 'below-a-file'))).toBe(false);
  });
});
