import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBigrModel } from '@bigr/pipeline';
import { bundledModelDir } from '../modelPaths.js';
import { runCli } from '../testing/runCli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bigr-export-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('bigr export --format pytorch', () => {
  it('writes bigr.pt and binaryae.th that bigr import turns back into the same model', async () => {
    const out = join(dir, 'pt');
    const run = await runCli(['--json', '--quiet', 'export', '--format', 'pytorch', '--out', out]);
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout) as { ok: boolean; outputs: string[]; bigrTensors: number };
    expect(r.ok).toBe(true);
    expect(r.outputs.slice(0, 2)).toEqual([join(out, 'bigr.pt'), join(out, 'binaryae.th')]);
    expect(existsSync(join(out, 'bigr.pt.json'))).toBe(true);
    const back = join(dir, 'back');
    const imp = await runCli(['--quiet', 'import', '--bigr', join(out, 'bigr.pt'), '--bae', join(out, 'binaryae.th'), '--out', back]);
    expect(imp.code).toBe(0);
    const a = await readBigrModel(bundledModelDir());
    const b = await readBigrModel(back);
    expect(b.config.classNames).toEqual(a.config.classNames);
    expect(b.config.backbone).toEqual(a.config.backbone);
    // Re-running refuses nothing it wrote itself (sidecars mark the outputs); another format is refused with the choices.
    expect((await runCli(['--quiet', 'export', '--out', out])).code).toBe(0);
    const bad = await runCli(['export', '--format', 'onnx', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are pytorch/);
  });
});
