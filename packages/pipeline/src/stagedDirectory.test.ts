import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanStaleTemporaries, writeDirectoryStaged } from './stagedDirectory.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-staged-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Names of the rename events `dir` reports while `action` runs (inotify reports them in order). */
async function renamesDuring(dir: string, action: () => Promise<void>): Promise<string[]> {
  const names: string[] = [];
  const watcher = watch(dir, (event, name) => {
    if (event === 'rename' && name) names.push(name);
  });
  try {
    await action();
    // Let the last events arrive.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    watcher.close();
  }
  return names;
}

describe('writeDirectoryStaged', () => {
  it('renames the file that names the others last (options.last) and merges sub-directories file by file', async () => {
    const dir = join(root, 'export');
    await mkdir(join(dir, 'tokenizer'), { recursive: true });
    await writeFile(join(dir, 'tokenizer', 'config.json'), 'old');
    await writeFile(join(dir, 'tokenizer', 'model.safetensors'), 'old');
    const tokenizerInode = (await stat(join(dir, 'tokenizer'))).ino;
    const renames = await renamesDuring(dir, () =>
      writeDirectoryStaged(
        dir,
        async (staging) => {
          for (const f of ['a.onnx', 'manifest.json', 'z.onnx']) await writeFile(join(staging, f), f);
          await mkdir(join(staging, 'tokenizer'));
          for (const f of ['config.json', 'model.safetensors']) await writeFile(join(staging, 'tokenizer', f), 'new');
        },
        { last: 'manifest.json' },
      ),
    );
    const arrivals = renames.filter((n) => ['a.onnx', 'manifest.json', 'z.onnx'].includes(n));
    expect(arrivals).toEqual(['a.onnx', 'z.onnx', 'manifest.json']);
    // The tokenizer directory was never moved away (it used to be swapped with the staged one through a `.trash-`
    // directory, leaving a moment without it and, after a kill there, a model whose tokenizer was gone).
    expect(renames.filter((n) => n === 'tokenizer' || n.startsWith('.trash-'))).toEqual([]);
    expect((await stat(join(dir, 'tokenizer'))).ino).toBe(tokenizerInode);
    expect(await readFile(join(dir, 'tokenizer', 'config.json'), 'utf8')).toBe('new');
    expect(await readFile(join(dir, 'tokenizer', 'model.safetensors'), 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['a.onnx', 'manifest.json', 'tokenizer', 'z.onnx']);
  });

  it('renames config.json last by default', async () => {
    const dir = join(root, 'model');
    await mkdir(dir);
    const renames = await renamesDuring(dir, () =>
      writeDirectoryStaged(dir, async (staging) => {
        for (const f of ['config.json', 'model.safetensors']) await writeFile(join(staging, f), f);
      }),
    );
    expect(renames.filter((n) => !n.startsWith('.'))).toEqual(['model.safetensors', 'config.json']);
  });
});

describe('cleanStaleTemporaries', () => {
  it("removes leftovers named with this process's pid that are older than this process (a container's earlier run)", async () => {
    const dir = join(root, 'same-pid');
    await mkdir(dir);
    const pid = process.pid;
    const oldStaging = `.staging-${pid}-0123456789ab`;
    const oldTemp = `.model.safetensors.${pid}.0123456789ab.tmp`;
    const freshTemp = `.config.json.${pid}.abcdef012345.tmp`;
    await mkdir(join(dir, oldStaging));
    await writeFile(join(dir, oldStaging, 'model.safetensors'), 'partial');
    await writeFile(join(dir, oldTemp), 'partial');
    await writeFile(join(dir, freshTemp), 'being written');
    const before = new Date(performance.timeOrigin - 60_000);
    await utimes(join(dir, oldStaging), before, before);
    await utimes(join(dir, oldTemp), before, before);
    expect((await cleanStaleTemporaries(dir)).sort()).toEqual([oldStaging, oldTemp].sort());
    expect(await readdir(dir)).toEqual([freshTemp]);
  });

  it('keeps the staging directory this process is writing, whatever its time stamp', async () => {
    const dir = join(root, 'own');
    await writeDirectoryStaged(dir, async (staging) => {
      const before = new Date(performance.timeOrigin - 60_000);
      await utimes(staging, before, before);
      expect(await cleanStaleTemporaries(dir)).toEqual([]);
      await writeFile(join(staging, 'config.json'), '{}');
    });
    expect(await readdir(dir)).toEqual(['config.json']);
  });
});
