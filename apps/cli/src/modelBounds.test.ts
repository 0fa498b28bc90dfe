/** Every size bounded before allocation, through the real CLI on a tiny model. */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, CpuTensor, getOrThrow } from '@bigr/core';
import { runCli } from './testing/runCli.js';
import { writeTinyModel, type TinyModel } from './testing/tinyModel.js';
import { samplingBatchSize } from './commands/generate.js';

const root = mkdtempSync(join(tmpdir(), 'bigr-bounds-'));
let tiny: TinyModel;
const fast = ['--iterations', '1', '--diffusion-steps', '1'];
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  tiny = await writeTinyModel(join(root, 'base'));
});

/** The fields of the model's config.json that these tests overwrite. */
interface ModelConfigJson {
  transcoder: { timesteps: number; blocks: number; width: number };
  backbone: { layers: number };
}

/** The fields of `tokenizer/config.json` that these tests overwrite. */
interface TokenizerConfigJson {
  bae: { resBlocks: number; nf: number };
}

/** A copy of the tiny model with `edit` applied to its config.json (and `tokenizer/config.json` with `tok`). */
async function variant(name: string, edit: (c: ModelConfigJson) => void, tok?: (c: TokenizerConfigJson) => void): Promise<string> {
  const dir = join(root, name);
  await cp(tiny.modelDir, dir, { recursive: true });
  const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  edit(cfg);
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  if (tok) {
    const t = JSON.parse(await readFile(join(dir, 'tokenizer', 'config.json'), 'utf8'));
    tok(t);
    await writeFile(join(dir, 'tokenizer', 'config.json'), JSON.stringify(t));
  }
  return dir;
}

const gen = (model: string, extra: string[] = []) =>
  runCli(['generate', '--model', model, '--n', '1', ...fast, '--out', join(root, `${Math.random().toString(36).slice(2)}.png`), ...extra]);

describe('config.json values are bounded before anything is allocated', () => {
  it.each([
    [
      'transcoder.timesteps 1e9',
      (c: ModelConfigJson) => (c.transcoder.timesteps = 1e9),
      /transcoder\.timesteps is 1000000000; it must be a number of at most 100000/,
    ],
    ['transcoder.blocks 2^31', (c: ModelConfigJson) => (c.transcoder.blocks = 2 ** 31), /transcoder\.blocks is 2147483648; it must be a number of at most 256/],
    ['backbone.layers 1e6', (c: ModelConfigJson) => (c.backbone.layers = 1e6), /backbone\.layers is 1000000; it must be a number of at most 512/],
  ])('%s → exit 2 with the field named', async (_name, edit, message) => {
    const r = await gen(await variant(`v${_name.replace(/\W/g, '')}`, edit));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('bae.resBlocks 1e7 → exit 2 with the field named', async () => {
    const r = await gen(
      await variant(
        'resblocks',
        () => undefined,
        (t) => (t.bae.resBlocks = 1e7),
      ),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bae\.resBlocks is 10000000; it must be a number of at most 64/);
  });

  it('config fields that contradict the weights are a named mismatch, not an engine error', async () => {
    const blocks = await gen(await variant('blocks', (c) => (c.transcoder.blocks += 1)));
    expect(blocks.code).toBe(2);
    expect(blocks.stderr).toMatch(/transcoder\.blocks is 2, but .*model\.safetensors holds 1 \(tensors denoise_mlp\.blocks\.0\./);
    const width = await gen(await variant('width', (c) => (c.transcoder.width *= 2)));
    expect(width.code).toBe(2);
    expect(width.stderr).toMatch(
      /transcoder\.width=\d+.*implies tensor "denoise_mlp\.t_embedder\.mlp\.0\.weight" of shape \[\d+, \d+\], but .* holds \[\d+, \d+\]/,
    );
    const nf = await gen(
      await variant(
        'nf',
        () => undefined,
        (t) => (t.bae.nf *= 2),
      ),
    );
    expect(nf.code).toBe(2);
    expect(nf.stderr).toMatch(/bae\.nf=16.*implies tensor "encoder\.blocks\.0\.weight"/);
  });
});

describe('sampler flags', () => {
  it('--iterations 1e9 and --diffusion-steps 1e9 are refused before loading the model', async () => {
    const it1 = await runCli(['generate', '--model', join(root, 'missing'), '--iterations', '1e9', '--out', join(root, 'i.png')]);
    expect(it1.code).toBe(2);
    expect(it1.stderr).toMatch(/--iterations must be an integer in 1\.\.4096, got 1000000000/);
    const st = await runCli(['generate', '--model', join(root, 'missing'), '--diffusion-steps', '1e9', '--out', join(root, 'i.png')]);
    expect(st.code).toBe(2);
  });

  it('--n is split into sampling calls of bounded memory', async () => {
    // BiGR-L shapes (256 tokens, D 1024, 24 layers, transcoder 1024): a few images per call, never all 4096.
    expect(samplingBatchSize({ tokens: 256, dim: 1024, layers: 24 }, 1024, 16)).toBeLessThan(64);
    expect(samplingBatchSize({ tokens: 16, dim: 32, layers: 2 }, 32, 12)).toBe(64);
    const r = await runCli(['--json', '--quiet', 'generate', '--model', tiny.modelDir, '--n', '70', ...fast, '--out', join(root, 'many.png')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).labels).toHaveLength(70);
  });
});

describe('--check-finite', () => {
  it('refuses NaN weights when asked (well-formed but corrupt files otherwise load)', async () => {
    const dir = await variant('nan', () => undefined);
    const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
    const name = 'mask_tok';
    const t = getOrThrow(tensors, name);
    const data = Float32Array.from(t.data as Float32Array);
    data[0] = Number.NaN;
    tensors.set(name, new CpuTensor(data, t.shape));
    await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const r = await gen(dir, []);
    expect(r.code).toBe(0);
    const checked = await runCli(['--check-finite', 'generate', '--model', dir, '--n', '1', ...fast, '--out', join(root, 'nan.png')]);
    expect(checked.code).toBe(3);
    expect(checked.stderr).toMatch(/tensor "mask_tok" \[1, \d+\] holds 1 non-finite value\(s\) \(element 0 is NaN\)/);
  });
});
