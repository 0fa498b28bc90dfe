import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelDiffusionSteps, readBigrModel } from '@bigr/pipeline';
import { runCli } from '../testing/runCli.js';
import { writeTinyModel, type TinyModel } from '../testing/tinyModel.js';

// Without --diffusion-steps, sampling commands use the model's own transcoder.inferenceSteps (docs/algorithm.md §4.3).
let root: string;
let tiny: TinyModel;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-steps-'));
  tiny = await writeTinyModel(join(root, 'm'), { inferenceSteps: 3 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function generate(out: string, extra: string[]): Promise<{ png: Buffer; steps: number }> {
  const r = await runCli(['--json', '--quiet', 'generate', '--model', tiny.modelDir, '--n', '2', '--seed', '5', '--iterations', '2', ...extra, '--out', out]);
  expect(r.code).toBe(0);
  const json = JSON.parse(r.stdout) as { config: { diffusionSteps: number } };
  return { png: await readFile(out), steps: json.config.diffusionSteps };
}

describe("--diffusion-steps defaults to the model's transcoder.inferenceSteps", () => {
  it('modelDiffusionSteps: the request when given, else the config value', async () => {
    const { config } = await readBigrModel(tiny.modelDir);
    expect(modelDiffusionSteps(config)).toBe(3);
    expect(modelDiffusionSteps(config, 0)).toBe(3);
    expect(modelDiffusionSteps(config, 7)).toBe(7);
    expect(modelDiffusionSteps({ ...config, head: 'categorical' } as never)).toBeUndefined();
  });

  it('bigr generate without the flag samples exactly as with --diffusion-steps 3, records 3, and differs from 4', async () => {
    const byDefault = await generate(join(root, 'default.png'), []);
    const three = await generate(join(root, 'three.png'), ['--diffusion-steps', '3']);
    const four = await generate(join(root, 'four.png'), ['--diffusion-steps', '4']);
    expect(byDefault.steps).toBe(3);
    expect(three.steps).toBe(3);
    expect(four.steps).toBe(4);
    expect(byDefault.png.equals(three.png)).toBe(true);
    expect(byDefault.png.equals(four.png)).toBe(false);
  });
});
