import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import { linearWeights } from './interpolate.js';

let root: string;
let model: TinyModel;
const fast = ['--iterations', '2', '--diffusion-steps', '2'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-interp-'));
  model = await writeTinyModel(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr interpolate', () => {
  it('linear weights run from 1 to 0', () => {
    expect(linearWeights(5)).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it('writes a grid with a column per weight and a row per sample', async () => {
    const out = join(root, 'interp.png');
    const r = await runCli([
      '--json',
      'interpolate',
      '--model',
      model.modelDir,
      '--from',
      'shirt',
      '--to',
      '2',
      '--steps',
      '3',
      '--n',
      '2',
      '--out',
      out,
      ...fast,
    ]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { classA: number; classB: number; weights: number[]; outputs: string[] };
    expect([res.classA, res.classB]).toEqual([0, 2]);
    expect(res.weights).toEqual([1, 0.5, 0]);
    const png = decodeImage(new Uint8Array(await readFile(out)), { channels: 1 });
    expect([png.width, png.height]).toEqual([3 * 30 - 2, 2 * 30 - 2]);
    const sidecar = JSON.parse(await readFile(join(root, 'interp.png.json'), 'utf8')) as { command: string; weights: number[]; classNames: string[] };
    expect(sidecar.command).toBe('interpolate');
    expect(sidecar.classNames).toEqual(['T-shirt/top', 'Bag']);
  });

  it('uses the official 27-value sweep with --official-sweep', async () => {
    const r = await runCli([
      '--json',
      'interpolate',
      '--model',
      model.modelDir,
      '--from',
      '0',
      '--to',
      '1',
      '--official-sweep',
      '--out',
      join(root, 'sweep.png'),
      '--iterations',
      '1',
      '--diffusion-steps',
      '1',
    ]);
    expect(r.code).toBe(0);
    const w = (JSON.parse(r.stdout) as { weights: number[] }).weights;
    expect(w).toHaveLength(27);
    expect(w[0]).toBe(0);
    expect(w[26]).toBe(1);
    expect(w[13]).toBeCloseTo(0.5, 12);
  });

  it('needs --from and --to (exit 2)', async () => {
    expect((await runCli(['interpolate', '--model', model.modelDir, '--from', '0'])).code).toBe(2);
    expect((await runCli(['interpolate', '--model', model.modelDir, '--from', '0', '--to', 'x', ...fast])).code).toBe(2);
    expect((await runCli(['interpolate', '--model', model.modelDir, '--from', '0', '--to', '1', '--steps', '1'])).code).toBe(2);
  });
});

describe('bigr enrich', () => {
  it('writes every round and a strip of input + rounds', async () => {
    const image = await writeTestPng(join(root, 'in.png'), { variant: 2 });
    const out = join(root, 'enrich', 'e.png');
    const r = await runCli(['--json', 'enrich', image, '--model', model.modelDir, '--rounds', '2', '--out', out, ...fast]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { outputs: string[]; inputSize: number; rounds: number };
    expect(res.inputSize).toBe(14);
    expect(res.outputs).toEqual([
      out,
      join(root, 'enrich', 'e.png.json'),
      join(root, 'enrich', 'e-round1.png'),
      join(root, 'enrich', 'e-round1.png.json'),
      join(root, 'enrich', 'e-round2.png'),
      join(root, 'enrich', 'e-round2.png.json'),
    ]);
    const strip = decodeImage(new Uint8Array(await readFile(out)), { channels: 1 });
    expect([strip.width, strip.height]).toEqual([3 * 30 - 2, 28]);
    const round = decodeImage(new Uint8Array(await readFile(join(root, 'enrich', 'e-round2.png'))), { channels: 1 });
    expect([round.width, round.height]).toEqual([28, 28]);
    const sidecar = JSON.parse(await readFile(join(root, 'enrich', 'e-round2.png.json'), 'utf8')) as { round: number; offsetOrder: number[] };
    expect(sidecar.round).toBe(2);
    expect([...sidecar.offsetOrder].sort()).toEqual([0, 1, 2, 3]);
  });

  it('rejects bad rounds (2) and a missing image (3)', async () => {
    expect((await runCli(['enrich', join(root, 'in.png'), '--model', model.modelDir, '--rounds', '0'])).code).toBe(2);
    expect((await runCli(['enrich', join(root, 'missing.png'), '--model', model.modelDir])).code).toBe(3);
  });
});
