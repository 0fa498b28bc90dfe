import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '@bigr/tokenizer';
import { writeSyntheticImageFolder } from './testing/syntheticDataset.js';
import { writeIdxDataset, writeTinyClassifier } from './testing/evalFixtures.js';
import { runCli } from './testing/runCli.js';

describe('bigr end to end on a tiny generated dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bigr-cli-e2e-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('train-tokenizer -> train -> generate produce model directories, images and JSON', async () => {
    const data = join(dir, 'data');
    await writeSyntheticImageFolder(data, { classes: 3, perClass: 4 });
    const tok = join(dir, 'tok');
    const t1 = await runCli([
      '--json',
      '--quiet',
      'train-tokenizer',
      '--data',
      data,
      '--out',
      tok,
      '--preset',
      'official-tiny',
      '--nf',
      '16',
      '--norm-groups',
      '8',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--checkpoint-every',
      '1',
    ]);
    expect(t1.stderr).toBe('');
    expect(t1.code).toBe(0);
    const r1 = JSON.parse(t1.stdout) as { step: number; finalLoss: number };
    expect(r1.step).toBe(2);
    expect(Number.isFinite(r1.finalLoss)).toBe(true);
    expect(existsSync(join(tok, 'model.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(tok, 'config.json'), 'utf8')).classNames).toEqual(['class0', 'class1', 'class2']);

    const model = join(dir, 'bigr');
    const t2 = await runCli([
      '--json',
      '--quiet',
      'train',
      '--tokenizer',
      tok,
      '--data',
      data,
      '--out',
      model,
      '--preset',
      'BiGR-tiny',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--checkpoint-every',
      '1',
      '--warmup',
      '1',
    ]);
    expect(t2.stderr).toBe('');
    expect(t2.code).toBe(0);
    expect((JSON.parse(t2.stdout) as { step: number }).step).toBe(2);
    expect(existsSync(join(model, 'tokenizer', 'model.safetensors'))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    expect(cfg.backbone.tokens).toBe(16);
    expect(cfg.backbone.numClasses).toBe(3);

    // Re-running the same command resumes from the checkpoint: nothing left to do at step 2.
    // (The same settings: a changed one, such as the warm-up, is refused; see runSettings.test.ts.)
    const again = await runCli([
      '--json',
      '--quiet',
      'train',
      '--tokenizer',
      tok,
      '--data',
      data,
      '--out',
      model,
      '--preset',
      'BiGR-tiny',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--warmup',
      '1',
    ]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { step: number }).step).toBe(2);

    const grid = join(dir, 'grid.png');
    const g = await runCli([
      '--json',
      '--quiet',
      'generate',
      '--model',
      model,
      '--class',
      'class1',
      '--n',
      '4',
      '--iterations',
      '3',
      '--diffusion-steps',
      '5',
      '--out',
      grid,
      '--seed',
      '3',
    ]);
    expect(g.code).toBe(0);
    const res = JSON.parse(g.stdout) as { labels: number[]; outputs: string[] };
    expect(res.labels).toEqual([1, 1, 1, 1]);
    const png = decodeImage(readFileSync(grid), { channels: 3 });
    expect([png.width, png.height]).toEqual([2 * 32 + 2, 2 * 32 + 2]);
    const side = JSON.parse(readFileSync(join(dir, 'grid.png.json'), 'utf8'));
    expect(side.seed).toBe(3);
    expect(side.modelHash).toMatch(/^[0-9a-f]{64}$/);

    // Same seed and config -> same image bytes.
    const grid2 = join(dir, 'grid2.png');
    await runCli([
      '--quiet',
      'generate',
      '--model',
      model,
      '--class',
      'class1',
      '--n',
      '4',
      '--iterations',
      '3',
      '--diffusion-steps',
      '5',
      '--out',
      grid2,
      '--seed',
      '3',
    ]);
    expect(readFileSync(grid2).equals(readFileSync(grid))).toBe(true);
  });

  it('train-tokenizer -> train -> generate -> eval -> probe on an IDX (Fashion-MNIST-like) dataset', async () => {
    const data = await writeIdxDataset(join(dir, 'idx'), { train: 64, test: 32, classes: 4, seed: 1 });
    const tok = join(dir, 'idx-tok');
    const t1 = await runCli([
      '--json',
      '--quiet',
      'train-tokenizer',
      '--data',
      data,
      '--out',
      tok,
      '--preset',
      'fashion-mnist-32',
      '--nf',
      '8',
      '--norm-groups',
      '4',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--weights',
      'raw',
    ]);
    expect(t1.code).toBe(0);
    // IDX images are 28×28 zero-padded to 32×32; the tokenizer records the padding so outputs can be cropped back.
    expect(JSON.parse(readFileSync(join(tok, 'config.json'), 'utf8')).pad).toBe(2);
    const model = join(dir, 'idx-bigr');
    const t2 = await runCli([
      '--json',
      '--quiet',
      'train',
      '--tokenizer',
      tok,
      '--data',
      data,
      '--out',
      model,
      '--preset',
      'BiGR-XS',
      '--layers',
      '2',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--warmup',
      '1',
    ]);
    expect(t2.code).toBe(0);
    const g = await runCli([
      '--json',
      '--quiet',
      'generate',
      '--model',
      model,
      '--class',
      'all',
      '--n',
      '4',
      '--iterations',
      '2',
      '--diffusion-steps',
      '3',
      '--out',
      join(dir, 'idx-grid.png'),
    ]);
    expect(g.code).toBe(0);
    const classifier = await writeTinyClassifier(join(dir, 'classifier'));
    const e = await runCli([
      '--json',
      '--quiet',
      'eval',
      '--model',
      model,
      '--n',
      '8',
      '--data',
      data,
      '--classifier',
      classifier,
      '--cache-dir',
      join(dir, 'cache'),
      '--out',
      join(dir, 'metrics.json'),
    ]);
    expect(e.stderr).not.toMatch(/^bigr:/m); // small-N statistics warnings are expected here
    expect(e.code).toBe(0);
    const metrics = JSON.parse(e.stdout) as Record<string, unknown>;
    const flat = JSON.stringify(metrics);
    for (const key of ['fid', 'sfid', 'inceptionScore', 'precision', 'recall']) expect(flat).toContain(key);
    expect(existsSync(join(dir, 'metrics.json'))).toBe(true);
    const p = await runCli([
      '--json',
      '--quiet',
      'probe',
      '--model',
      model,
      '--data',
      data,
      '--layer',
      '1',
      '--epochs',
      '2',
      '--warmup',
      '1',
      '--batch-size',
      '16',
      '--out',
      join(dir, 'probe.json'),
    ]);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const probe = JSON.parse(p.stdout) as { final: { top1: number; top5: number } };
    const top1 = probe.final.top1;
    expect(typeof top1).toBe('number');
    expect(top1).toBeGreaterThanOrEqual(0);
    expect(top1).toBeLessThanOrEqual(100);
  });

  it('the bundled default model loads and generates a named class', async () => {
    const out = join(dir, 'bundled.png');
    const r = await runCli(['--json', '--quiet', 'generate', '--class', 'sneaker', '--n', '2', '--iterations', '4', '--diffusion-steps', '10', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { labels: number[] }).labels).toEqual([7, 7]);
    const png = decodeImage(readFileSync(out), { channels: 1 });
    expect([png.width, png.height]).toEqual([2 * 28 + 2, 28 + 0]);
  });

  it('gives documented exit codes for bad input', async () => {
    expect((await runCli(['generate', '--model', join(dir, 'nope'), '--out', join(dir, 'x.png')])).code).toBe(3);
    const badClass = await runCli(['generate', '--model', join(dir, 'bigr'), '--class', 'giraffe', '--out', join(dir, 'x.png')]);
    expect(badClass.code).toBe(2);
    expect(badClass.stderr).toMatch(/Unknown class "giraffe".*class0, class1, class2/);
    expect((await runCli(['generate', '--n', 'many', '--model', join(dir, 'bigr')])).code).toBe(2);
    expect((await runCli(['train', '--bogus-flag'])).code).toBe(2);
    const cfgFile = join(dir, 'bad.json');
    require('node:fs').writeFileSync(cfgFile, JSON.stringify({ stepz: 3 }));
    const bad = await runCli(['train-tokenizer', '--config', cfgFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown key "stepz".*Valid keys: data, out, preset/);
  });
});
