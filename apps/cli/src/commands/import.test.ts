import '@bigr/engine-onnx';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Test support of @bigr/pipeline's importer tests (released-layout checkpoints built from the official-tiny fixtures).
import { tinyBaeStateDict, tinyBigrStateDict, writeBaeTh, writeBigrPt } from '../../../../packages/pipeline/src/import/test/tinyCheckpoints.js';

let dir: string;
let bigrPt: string;
let baeTh: string;
let n = 0;
const fresh = (name: string): string => join(dir, `${name}-${n++}`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-import-cli-'));
  bigrPt = join(dir, 'bigr_tiny.pt');
  baeTh = join(dir, 'binaryae_ema_tiny.th');
  await writeBigrPt(bigrPt, await tinyBigrStateDict());
  await writeBaeTh(baeTh, await tinyBaeStateDict());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bigr import', () => {
  it('runs as `bigr import` and the result generates with `bigr generate`', async () => {
    const { runCli } = await import('../testing/runCli.js');
    const out = fresh('cli');
    const run = await runCli(['--quiet', 'import', '--bigr', bigrPt, '--bae', baeTh, '--out', out, '--head-dim', '16']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('BiGR checkpoint: bigr_tiny.pt (PyTorch zip, state dict "ema", 76 tensors');
    expect(run.stdout).toContain(`wrote BiGR model directory ${out}`);
    const again = await runCli(['--json', 'import', '--bigr', bigrPt, '--bae', baeTh, '--out', out, '--head-dim', '16']);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/already holds a model .*--force/);
    const forced = await runCli(['--json', '--quiet', 'import', '--bae', baeTh, '--out', out, '--force', '--resolution', '32']);
    expect(forced.code).toBe(0);
    expect((JSON.parse(forced.stdout) as { kind: string }).kind).toBe('tokenizer');
    // a full import, then a short generation from it
    const model = fresh('gen');
    expect((await runCli(['--quiet', 'import', '--bigr', bigrPt, '--bae', baeTh, '--out', model, '--heads', '4'])).code).toBe(0);
    const png = join(dir, 'samples.png');
    const gen = await runCli([
      '--quiet',
      'generate',
      '--model',
      model,
      '--class',
      '3',
      '--n',
      '2',
      '--iterations',
      '4',
      '--diffusion-steps',
      '10',
      '--out',
      png,
    ]);
    expect(gen.stderr).toBe('');
    expect(gen.code).toBe(0);
    expect(existsSync(png)).toBe(true);
  });
});
