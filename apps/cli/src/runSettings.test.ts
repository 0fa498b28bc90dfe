/** Runs are what they say: changed settings refused on resume, flags validated first, signals. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.js';
import { runCli } from './testing/runCli.js';
import { writeSyntheticImageFolder } from './testing/syntheticDataset.js';
import { diffSettings, formatChanges } from './runSettings.js';
import { capture } from './testing/runCli.js';

const root = mkdtempSync(join(tmpdir(), 'bigr-runsettings-'));
const data = join(root, 'data');
const data2 = join(root, 'data2');
const tokArgs = ['--preset', 'official-tiny', '--nf', '16', '--norm-groups', '8', '--batch-size', '4', '--weights', 'raw', '--checkpoint-every', '1'];

beforeAll(async () => {
  await writeSyntheticImageFolder(data, { classes: 2, perClass: 3 });
  await writeSyntheticImageFolder(data2, { classes: 2, perClass: 3, seed: 7 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('diffSettings', () => {
  it('names every changed key, nested keys with dots, added and removed ones', () => {
    const d = diffSettings({ lr: 1e-3, seed: 0, arch: { layers: 3, dim: 128 }, gone: 1 }, { lr: 2e-3, seed: 0, arch: { layers: 2, dim: 128 }, added: 'x' });
    expect(d.map((c) => c.key)).toEqual(['added', 'arch.layers', 'gone', 'lr']);
    expect(formatChanges(d)).toBe('  added: (not set) → "x"\n  arch.layers: 3 → 2\n  gone: 1 → (not set)\n  lr: 0.001 → 0.002');
  });
});

describe('train-tokenizer resume', () => {
  const out = join(root, 'tok');
  it('refuses to resume with changed settings, listing each (old → new), and leaves the record alone', async () => {
    const first = await runCli(['--quiet', 'train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '2']);
    expect(first.code).toBe(0);
    const recorded = await readFile(join(out, 'checkpoints', 'run-settings.json'), 'utf8');
    const cfgBefore = await readFile(join(out, 'train-tokenizer.config.json'), 'utf8');
    const r = await runCli([
      'train-tokenizer',
      '--data',
      data2,
      '--out',
      out,
      ...tokArgs,
      '--steps',
      '3',
      '--lr',
      '2e-3',
      '--batch-size',
      '2',
      '--seed',
      '5',
      '--limit',
      '4',
      '--code-mode',
      'threshold',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds a `bigr train-tokenizer` run at step 2 that was started with other settings:');
    for (const line of ['batchSize: 4 → 2', 'codeMode: "bernoulli" → "threshold"', 'limit: 0 → 4', 'lr: 0.001 → 0.002', 'seed: 0 → 5'])
      expect(r.stderr).toContain(line);
    expect(r.stderr).toMatch(/dataHash: "[0-9a-f]{64}" → "[0-9a-f]{64}"/);
    expect(r.stderr).toMatch(/--force-resume.*new --out/);
    expect(await readFile(join(out, 'checkpoints', 'run-settings.json'), 'utf8')).toBe(recorded);
    expect(await readFile(join(out, 'train-tokenizer.config.json'), 'utf8')).toBe(cfgBefore);
    // More steps with the same settings is the same run continued.
    const more = await runCli(['--json', '--quiet', 'train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '3']);
    expect(more.code).toBe(0);
    expect(JSON.parse(more.stdout).step).toBe(3);
  });

  it('--force-resume continues under the new settings and records the change', async () => {
    const r = await runCli(['--json', 'train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '4', '--lr', '2e-3', '--force-resume']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --force-resume: continuing the step-3 checkpoint with changed settings:\n {2}lr: 0\.001 → 0\.002/);
    const rec = JSON.parse(await readFile(join(out, 'checkpoints', 'run-settings.json'), 'utf8'));
    expect(rec.settings.lr).toBe(2e-3);
    expect(rec.history).toEqual([{ step: 3, changes: [{ key: 'lr', old: 1e-3, new: 2e-3 }] }]);
  });
});

describe('train resume', () => {
  const tok = join(root, 'tok-a');
  const tokB = join(root, 'tok-b');
  const out = join(root, 'bigr');
  const base = [
    '--data',
    data,
    '--out',
    out,
    '--preset',
    'BiGR-tiny',
    '--steps',
    '2',
    '--batch-size',
    '2',
    '--warmup',
    '1',
    '--weights',
    'raw',
    '--checkpoint-every',
    '1',
  ];
  beforeAll(async () => {
    expect((await runCli(['--quiet', 'train-tokenizer', '--data', data, '--out', tok, ...tokArgs, '--steps', '1'])).code).toBe(0);
    expect((await runCli(['--quiet', 'train-tokenizer', '--data', data, '--out', tokB, ...tokArgs, '--steps', '1', '--seed', '1'])).code).toBe(0);
  });

  it('names a changed tokenizer, optimisation settings and architecture instead of failing deep inside', async () => {
    expect((await runCli(['--quiet', 'train', '--tokenizer', tok, ...base])).code).toBe(0);
    const r = await runCli(['train', '--tokenizer', tokB, ...base, '--dropout', '0', '--ema-decay', '0.99', '--warmup', '0', '--layers', '1']);
    expect(r.code).toBe(2);
    for (const line of ['dropout: 0.1 → 0', 'emaDecay: 0.999 → 0.99', 'warmup: 1 → 0', 'layers: 0 → 1']) expect(r.stderr).toContain(line);
    expect(r.stderr).toMatch(/tokenizerHash: "[0-9a-f]{64}" → "[0-9a-f]{64}"/);
    expect(r.stderr).not.toMatch(/reshape/);
  });
});

describe('flags are validated before any work', () => {
  it.each([
    // commander's option typing: choices and numbers are checked while parsing (usage errors, exit 2)
    [['--weights', 'bogus'], /argument 'bogus' is invalid\. Allowed choices are raw, ema/],
    [['--steps', 'abc'], /--steps must be a number, got "abc"/],
    [['--steps', '1.5'], /--steps must be an integer in 1\.\.100000000, got 1\.5/],
    [['--batch-size', '0'], /--batch-size must be an integer in 1\.\.4096, got 0/],
    [['--lr', '-1'], /--lr must be a number in \(0, 10\], got -1/],
    [['--code-mode', 'maybe'], /argument 'maybe' is invalid\. Allowed choices are threshold, bernoulli/],
    [['--seed', '1.5'], /--seed must be an integer/],
  ])('train-tokenizer %j is refused with exit 2 and nothing written', async (flags, message) => {
    const out = join(root, `v-${flags.join('')}`);
    const r = await runCli(['train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '1', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    [['--weights', 'bogus'], /Allowed choices are raw, ema/],
    [['--dropout', '1'], /--dropout must be a number in \[0, 1\)/],
    [['--ema-decay', '2'], /--ema-decay must be a number in \[0, 1\)/],
    [['--layers', '1e9'], /--layers must be an integer in 0\.\.256/],
    [['--preset', 'huge'], /Unknown model preset "huge"/],
  ])('train %j is refused with exit 2 before loading anything', async (flags, message) => {
    const out = join(root, `t-${flags.join('')}`);
    const r = await runCli(['train', '--tokenizer', join(root, 'missing-tokenizer'), '--data', data, '--out', out, '--steps', '1', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('signals', () => {
  it('Ctrl-C reports the true total of the run, not the checkpoint chunk', async () => {
    const out = join(root, 'abort');
    const ac = new AbortController();
    const err = capture();
    const run = main(['train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '200', '--checkpoint-every', '50'], {
      stdout: capture().stream,
      stderr: err.stream,
      signal: ac.signal,
    });
    ac.abort(new Error('interrupted (Ctrl-C)'));
    expect(await run).toBe(130);
    expect(err.text()).toMatch(/aborted at step 0 of 200; a checkpoint was written/);
    expect(existsSync(join(out, 'checkpoints', 'latest.json'))).toBe(true);
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('%s checkpoints like Ctrl-C', async (sig) => {
    const out = join(root, `sig-${sig}`);
    const err = capture();
    const run = main(['train-tokenizer', '--data', data, '--out', out, ...tokArgs, '--steps', '50', '--checkpoint-every', '0'], {
      stdout: capture().stream,
      stderr: err.stream,
    });
    process.emit(sig, sig);
    expect(await run).toBe(130);
    expect(err.text()).toMatch(
      new RegExp(`aborted at step \\d+ of 50; a checkpoint was written .*\\(${sig === 'SIGTERM' ? 'terminated \\(SIGTERM\\)' : 'hung up \\(SIGHUP\\)'}\\)`),
    );
    expect(existsSync(join(out, 'checkpoints', 'latest.json'))).toBe(true);
    expect(process.listenerCount(sig)).toBe(0);
  });
});
