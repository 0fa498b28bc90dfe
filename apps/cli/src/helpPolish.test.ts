import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BAE_PRESETS, baePreset } from '@bigr/tokenizer';
import { deriveNormGroups } from './commands/trainTokenizer.js';
import { runCli } from './testing/runCli.js';
import { required } from '@bigr/core';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-help-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const COMMANDS = [
  'env',
  'generate',
  'train-tokenizer',
  'train',
  'inpaint',
  'outpaint',
  'edit',
  'interpolate',
  'enrich',
  'encode',
  'decode',
  'hash',
  'search',
  'import',
  'export',
  'export-onnx',
  'features',
  'probe',
  'eval',
];

describe('--help', () => {
  it('shows defaults, choices, the global flags and examples for every command', async () => {
    for (const cmd of COMMANDS) {
      const r = await runCli([cmd, '--help']);
      expect([cmd, r.code]).toEqual([cmd, 0]);
      expect([cmd, r.stdout]).toEqual([cmd, expect.stringContaining('Global Options:')]);
      expect([cmd, r.stdout]).toEqual([cmd, expect.stringContaining('--json')]);
      expect([cmd, r.stdout]).toEqual([cmd, expect.stringContaining('--threads <n>')]);
      expect([cmd, r.stdout]).toEqual([cmd, expect.stringContaining('Examples:')]);
    }
    const g = (await runCli(['generate', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(g).toContain('number of images (default: 16)');
    expect(g).toContain('(choices: "constant", "linear"');
    expect(g).toContain('(default: 2.5)');
    expect(g).toMatch(/--order <kind>.*choices: "entropy", "random", "raster", "autoregressive"/);
    const t = (await runCli(['train-tokenizer', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(t).toMatch(/--weights <which>.*\(choices: "raw", "ema", default: raw\)/);
    expect(t).toMatch(/--nf <n>.*\(default: the preset.s\)/);
    const i = (await runCli(['inpaint', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(i).toMatch(/--budget <mode>.*\(choices: "known", "masked", default: known\)/);
    expect(i).toMatch(/--n <n> number of samples \(default: 8\)/);
    // the negated switch shares its setting with --original, which carries the default
    expect(i).toMatch(/--no-original only the samples in the grid --codes/);
    const f = (await runCli(['features', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(f).toMatch(/--split <split> dataset split \(choices: "train", "test", default: train\)/);
    expect(f).toMatch(/--codes <mode> .*\(choices: "bernoulli", "threshold", default: bernoulli\)/);
    const s = (await runCli(['study', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(s).toMatch(/--steps <value> steps \(default: 6000\)/);
    expect(s).toContain('Examples:');
  });
});

describe('--json prints exactly one JSON object, usage errors included', () => {
  it.each([
    [['--json', 'generate', '--nn', '3'], /unknown option '--nn'/],
    [['--json', 'generate', '--n', 'abc'], /--n must be a number, got "abc" \(default: 16\)/],
    [['--json', 'inpaint', 'x.png', '--cfg', '1e'], /--cfg must be a number, got "1e" \(default: \d/],
    [['--json', 'features', '--batch-size', ''], /--batch-size must be a number, got "" \(default: 64\)/],
    [['--json', 'study', 'paper', '--steps', 'lots'], /--steps must be a number, got "lots" \(default: 6000\)/],
    // The default is the model's own steps, stated in the option's description, not the table's 0.
    [['--json', 'generate', '--diffusion-steps', 'few'], /--diffusion-steps must be a number, got "few"\.$/],
    [['--json', 'features', '--codes', 'maybe'], /argument 'maybe' is invalid\. Allowed choices are bernoulli, threshold/],
    [['--json', 'inpaint', 'x.png', '--budget', 'all'], /argument 'all' is invalid\. Allowed choices are known, masked/],
    [['--json', 'generate', '--cfg-schedule', 'wavy'], /Allowed choices are constant, linear/],
    [['--json', '--threads', '0', 'env'], /--threads must be an integer in 1\.\.1024/],
    [['--json', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(required(lines[0], 'lines')) as { ok: boolean; error: string; exitCode: number };
    expect(o.ok).toBe(false);
    expect(o.exitCode).toBe(2);
    expect(o.error).toMatch(message);
  });
});

describe('output format from the extension', () => {
  it('writes JPEG for .jpg and refuses .webp before generating anything', async () => {
    const jpg = join(dir, 'g.jpg');
    const r = await runCli(['--quiet', 'generate', '--n', '2', '--iterations', '2', '--diffusion-steps', '3', '--out', jpg]);
    expect(r.code).toBe(0);
    const bytes = readFileSync(jpg);
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0xff, 0xd8, 0xff]);
    const webp = join(dir, 'g.webp');
    const w = await runCli(['--json', 'generate', '--n', '2', '--out', webp]);
    expect(w.code).toBe(2);
    expect((JSON.parse(w.stdout) as { error: string }).error).toMatch(/WebP.*Use one of \.png, \.jpg, \.jpeg/);
    expect(existsSync(webp)).toBe(false);
  });
});

describe('--threads', () => {
  it('sets BIGR_THREADS for the command and restores it afterwards', async () => {
    const before = process.env['BIGR_THREADS'];
    const r = await runCli(['--json', '--threads', '1', 'env']);
    expect(r.code).toBe(0);
    expect(process.env['BIGR_THREADS']).toBe(before);
  });
});

describe('train-tokenizer --nf without --norm-groups', () => {
  it('derives the GroupNorm groups from the channel counts', () => {
    const preset = 'fashion-mnist-32' as keyof typeof BAE_PRESETS;
    const groups = deriveNormGroups(preset, { nf: 8 });
    expect(groups).toBeLessThanOrEqual(baePreset(preset, {}).normGroups);
    expect(() => baePreset(preset, { nf: 8, normGroups: groups })).not.toThrow();
    expect(deriveNormGroups(preset, {})).toBe(baePreset(preset, {}).normGroups);
  });
});
