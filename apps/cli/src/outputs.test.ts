/** Outputs never clobber: colliding sidecars, existing and read-only files, model directories and killed runs, through the real CLI. */
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from './testing/tinyModel.js';
import { writeSyntheticImageFolder } from './testing/syntheticDataset.js';
import { checkOutputs, sidecarPath } from './outputs.js';
import { cleanStaleTemporaries, writeDirectoryStaged } from './stagedDirectory.js';

const root = mkdtempSync(join(tmpdir(), 'bigr-outputs-'));
let tiny: TinyModel;
let img: string;
const fast = ['--iterations', '2', '--diffusion-steps', '2'];

beforeAll(async () => {
  tiny = await writeTinyModel(join(root, 'm'));
  img = join(root, 'a.png');
  await writeTestPng(img);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const text = (p: string): Promise<string> => readFile(p, 'utf8');

describe('sidecars cannot collide', () => {
  it('`hash --index r.bhx` then `generate --out r.png` keeps the index paths (r.bhx.json vs r.png.json)', async () => {
    const dir = join(root, 'c1');
    await mkdir(dir);
    const h = await runCli(['--quiet', 'hash', img, '--model', tiny.modelDir, '--index', join(dir, 'r.bhx')]);
    expect(h.stderr).toBe('');
    const indexSide = await text(join(dir, 'r.bhx.json'));
    expect(JSON.parse(indexSide).entries).toHaveLength(1);
    const g = await runCli(['--quiet', 'generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', join(dir, 'r.png')]);
    expect(g.code).toBe(0);
    expect(await text(join(dir, 'r.bhx.json'))).toBe(indexSide);
    expect(JSON.parse(await text(join(dir, 'r.png.json'))).command).toBe('generate');
    // and search still finds the paths
    const s = await runCli(['--json', 'search', img, '--model', tiny.modelDir, '--index', join(dir, 'r.bhx'), '--k', '1']);
    expect(s.stdout).toContain('a.png');
  });

  it('`encode --out c.bigr` and `decode c.bigr --out c.png` keep separate sidecars', async () => {
    const dir = join(root, 'c2');
    await mkdir(dir);
    expect((await runCli(['--quiet', 'encode', img, '--model', tiny.modelDir, '--out', join(dir, 'c.bigr')])).code).toBe(0);
    const encSide = await text(join(dir, 'c.bigr.json'));
    expect((await runCli(['--quiet', 'decode', join(dir, 'c.bigr'), '--model', tiny.modelDir, '--out', join(dir, 'c.png')])).code).toBe(0);
    expect(await text(join(dir, 'c.bigr.json'))).toBe(encSide);
    expect(JSON.parse(await text(join(dir, 'c.png.json'))).command).toBe('decode');
  });

  it('`generate --config run.json --out run.png` leaves the config alone; --out run.json is refused (an input)', async () => {
    const dir = join(root, 'c3');
    await mkdir(dir);
    const cfg = join(dir, 'run.json');
    const cfgText = JSON.stringify({ n: 1, iterations: 2, diffusionSteps: 2 });
    await writeFile(cfg, cfgText);
    expect((await runCli(['--quiet', 'generate', '--config', cfg, '--model', tiny.modelDir, '--out', join(dir, 'run.png')])).code).toBe(0);
    expect(await text(cfg)).toBe(cfgText);
    const bad = await runCli(['--force', 'generate', '--config', cfg, '--model', tiny.modelDir, '--out', cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/would overwrite its input .*run\.json.*not even with --force/);
    expect(await text(cfg)).toBe(cfgText);
  });
});

describe('existing files', () => {
  it('refuses a file it did not write unless --force, and re-runs over its own output', async () => {
    const dir = join(root, 'e1');
    await mkdir(dir);
    const out = join(dir, 'photo.png');
    await writeFile(out, 'precious');
    const r = await runCli(['generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/photo\.png already exists and was not written by `bigr generate` for this output\. Choose another --out, or pass --force/);
    expect(await text(out)).toBe('precious');
    expect((await runCli(['--quiet', '--force', 'generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', out])).code).toBe(0);
    expect((await readFile(out)).subarray(1, 4).toString()).toBe('PNG');
    // Now it is this command's own output: a plain re-run replaces it.
    expect((await runCli(['--quiet', 'generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', out])).code).toBe(0);
    // A sidecar name taken by an unrelated file is protected too.
    const other = join(dir, 'x.png');
    await writeFile(sidecarPath(other), '{"mine": true}');
    expect((await runCli(['generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', other])).code).toBe(2);
    expect(await text(sidecarPath(other))).toBe('{"mine": true}');
  });

  it('respects read-only (0444) files, even with --force', async () => {
    const dir = join(root, 'e2');
    await mkdir(dir);
    const out = join(dir, 'ro.png');
    await writeFile(out, 'keep');
    await chmod(out, 0o444);
    const r = await runCli(['--force', 'generate', '--model', tiny.modelDir, '--n', '1', ...fast, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ro\.png is read-only \(mode 444\).*chmod u\+w/);
    expect(await text(out)).toBe('keep');
  });

  it('checkOutputs names duplicate outputs and directories', async () => {
    await expect(checkOutputs({ command: 'x', force: true, outputs: [join(root, 'd.png'), join(root, 'd.png')] })).rejects.toThrow(/twice/);
    await expect(checkOutputs({ command: 'x', force: true, outputs: [root] })).rejects.toThrow(/is a directory/);
  });
});

describe('model directories', () => {
  const data = join(root, 'data');
  const tokArgs = ['--preset', 'official-tiny', '--nf', '16', '--norm-groups', '8', '--steps', '2', '--batch-size', '4', '--weights', 'raw'];
  beforeAll(async () => {
    await writeSyntheticImageFolder(data, { classes: 2, perClass: 2 });
  });

  it('train-tokenizer refuses an existing BiGR model directory (another kind of model), exit 2, nothing changed', async () => {
    const before = await readFile(join(tiny.modelDir, 'model.safetensors'));
    const beforeCfg = await text(join(tiny.modelDir, 'config.json'));
    for (const force of [[], ['--force']]) {
      const r = await runCli([...force, 'train-tokenizer', '--data', data, '--out', tiny.modelDir, ...tokArgs]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds another kind of model \(config\.json format "bigr-model"\)/);
    }
    expect((await readFile(join(tiny.modelDir, 'model.safetensors'))).equals(before)).toBe(true);
    expect(await text(join(tiny.modelDir, 'config.json'))).toBe(beforeCfg);
    expect(await readdir(tiny.modelDir)).not.toContain('checkpoints');
  });

  it('train refuses an existing model folder it did not train (unlike a re-run), unless --force', async () => {
    const tok = join(root, 'tok');
    expect((await runCli(['--quiet', 'train-tokenizer', '--data', data, '--out', tok, ...tokArgs])).code).toBe(0);
    // A model directory not trained here (e.g. imported): its own tokenizer kind matches but there are no checkpoints.
    const foreign = join(root, 'foreign');
    await writeTinyModel(foreign);
    const modelDir = join(foreign, 'model');
    const before = await readFile(join(modelDir, 'model.safetensors'));
    const trainArgs = [
      'train',
      '--tokenizer',
      tok,
      '--data',
      data,
      '--out',
      modelDir,
      '--preset',
      'BiGR-tiny',
      '--steps',
      '1',
      '--batch-size',
      '2',
      '--warmup',
      '1',
      '--weights',
      'raw',
    ];
    const r = await runCli(trainArgs);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds config\.json, model\.safetensors, tokenizer that no `bigr train` run there wrote.*--force/);
    expect((await readFile(join(modelDir, 'model.safetensors'))).equals(before)).toBe(true);
    expect((await runCli(['--quiet', '--force', ...trainArgs])).code).toBe(0);
    expect((await readFile(join(modelDir, 'model.safetensors'))).equals(before)).toBe(false);
    // --tokenizer equal to --out is refused before any work.
    const same = await runCli(['train', '--tokenizer', tok, '--out', tok, '--data', data]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--tokenizer and --out are both/);
  });

  it('writes model directories through a staging directory and removes leftovers of killed runs', async () => {
    const dir = join(root, 'staged');
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    // Leftovers of a killed process (pid 2^22 + 1 is above Linux's pid_max default and never alive).
    const dead = 4194305;
    await mkdir(join(dir, `.staging-${dead}-abcdef`));
    await writeFile(join(dir, `.staging-${dead}-abcdef`, 'config.json'), '');
    await writeFile(join(dir, 'checkpoints', `.latest.json.${dead}.0123456789ab.tmp`), '{"par');
    await writeFile(join(dir, 'keep.txt'), 'user file');
    expect((await cleanStaleTemporaries(join(dir, 'checkpoints'))).length).toBe(1);
    await writeDirectoryStaged(dir, async (staging) => {
      await writeFile(join(staging, 'config.json'), '{}');
      await mkdir(join(staging, 'tokenizer'));
      await writeFile(join(staging, 'tokenizer', 'config.json'), '{"v":1}');
    });
    await writeDirectoryStaged(dir, async (staging) => {
      await mkdir(join(staging, 'tokenizer'));
      await writeFile(join(staging, 'tokenizer', 'config.json'), '{"v":2}');
    });
    expect((await readdir(dir)).sort()).toEqual(['checkpoints', 'config.json', 'keep.txt', 'tokenizer']);
    expect(await readdir(join(dir, 'checkpoints'))).toEqual([]);
    expect(await text(join(dir, 'tokenizer', 'config.json'))).toBe('{"v":2}');
    expect((await stat(join(dir, 'keep.txt'))).isFile()).toBe(true);
  });

  it('a model config naming a tokenizer outside the model directory is refused', async () => {
    const evil = join(root, 'evil');
    const m = await writeTinyModel(evil);
    const cfg = JSON.parse(await text(join(m.modelDir, 'config.json')));
    await writeFile(join(m.modelDir, 'config.json'), JSON.stringify({ ...cfg, tokenizer: '../../m/model/tokenizer' }));
    const r = await runCli(['generate', '--model', m.modelDir, '--n', '1', ...fast, '--out', join(evil, 'x.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"tokenizer" is "..\/..\/m\/model\/tokenizer", which points outside the model directory/);
    const enc = await runCli(['encode', img, '--model', m.modelDir, '--out', join(evil, 'x.bigr')]);
    expect(enc.code).toBe(2);
  });
});
