import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '@bigr/core';
import { givenFlags } from './givenFlags.js';
import { numberArg } from './helpPolish.js';
import { runCli } from './testing/runCli.js';
import { writeTinyModel, type TinyModel } from './testing/tinyModel.js';

let root: string;
let tiny: TinyModel;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-given-'));
  tiny = await writeTinyModel(join(root, 'm'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const DEFAULTS = { n: 16, out: 'x.png', original: true, cfgSchedule: 'constant' };

/** A command typed as helpPolish.ts types the real ones: commander defaults, number parsing, choices. */
function command(): Command {
  return new Command('demo')
    .exitOverride()
    .option('--config <file>', 'settings file')
    .option('--n <n>', 'count', numberArg('--n', 16), 16)
    .option('--out <file>', 'output', 'x.png')
    .option('--original', 'keep the source', true)
    .option('--no-original', 'drop the source')
    .option('--cfg-schedule <kind>', 'schedule', 'constant')
    .option('--force-resume', 'not a setting')
    .option('--loose <n>', 'declared without its parser');
}

describe('givenFlags', () => {
  it('keeps only the options given on the command line, typed by commander', () => {
    const cmd = command().parse(['--n', '3', '--no-original', '--config', 'c.json', '--force-resume'], { from: 'user' });
    expect(cmd.opts()).toMatchObject({ n: 3, out: 'x.png', original: false, cfgSchedule: 'constant' });
    const given = givenFlags(cmd, DEFAULTS);
    expect(given.config).toBe('c.json');
    expect(given.settings).toEqual({ n: 3, original: false });
    expect(given.other).toEqual({ forceResume: true });
  });

  it('gives nothing when every option is at its default', () => {
    const given = givenFlags(command().parse([], { from: 'user' }), DEFAULTS);
    expect(given).toEqual({ settings: {}, other: {} });
  });

  it('refuses a setting whose value does not have the type of its default, naming the flag, value and default', () => {
    const cmd = command().parse(['--loose', 'many'], { from: 'user' });
    expect(() => givenFlags(cmd, { ...DEFAULTS, loose: 4 })).toThrow(ConfigError);
    expect(() => givenFlags(cmd, { ...DEFAULTS, loose: 4 })).toThrow('--loose must be a number, got "many"; default: 4.');
  });
});

describe('settings precedence: defaults ← --config file ← flags', () => {
  it('a config-file value beats the default commander shows, and a flag beats the config file', async () => {
    const cfgFile = join(root, 'generate.json');
    await writeFile(cfgFile, JSON.stringify({ n: 2, cfg: 1.5, iterations: 2, diffusionSteps: 3, seed: 4 }));
    const out = join(root, 'g.png');
    const r = await runCli(['--json', 'generate', '--model', tiny.modelDir, '--config', cfgFile, '--cfg', '3', '--out', out]);
    expect(r.stderr).not.toMatch(/bigr:/);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { config: Record<string, unknown>; seeds: number[] };
    // n, iterations, diffusionSteps, seed from the file (not commander's defaults 16, 10, 100, 0); cfg from the flag;
    // the rest are the defaults.
    expect(res.config).toMatchObject({ n: 2, iterations: 2, diffusionSteps: 3, seed: 4, cfg: 3, gumbel: 0.17, cfgSchedule: 'constant' });
    expect(res.seeds).toEqual([4, 5]);
  });

  it('a config-file value of the wrong type is refused naming the key and the file', async () => {
    const cfgFile = join(root, 'bad.json');
    await writeFile(cfgFile, JSON.stringify({ n: 'two' }));
    const r = await runCli(['--json', 'generate', '--model', tiny.modelDir, '--config', cfgFile, '--out', join(root, 'bad.png')]);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as { error: string }).error).toMatch(/Key "n" in .*bad\.json is a string \("two"\) but must be a number/);
  });
});
