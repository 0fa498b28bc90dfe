import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeIdxDataset, writeTinyClassifier } from '../testing/evalFixtures.js';
import { required } from '@bigr/core';

describe('bigr study paper: the whole study on tiny sizes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bigr-study-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains every variant, evaluates, probes and writes every table and both plots; a re-run skips finished pieces', async () => {
    const data = await writeIdxDataset(join(dir, 'idx'), { train: 48, test: 24, classes: 4, seed: 2 });
    const classifier = await writeTinyClassifier(join(dir, 'classifier'));
    const out = join(dir, 'paper');
    const args = [
      '--json',
      '--quiet',
      'study',
      'paper',
      '--out',
      out,
      '--data',
      data,
      '--classifier',
      classifier,
      '--code-dim',
      '5',
      '--tokenizer-nf',
      '8',
      '--tokenizer-norm-groups',
      '4',
      '--tokenizer-steps',
      '2',
      '--tokenizer-batch-size',
      '4',
      '--layers',
      '1',
      '--dim',
      '32',
      '--heads',
      '2',
      '--denoiser-width',
      '16',
      '--denoiser-blocks',
      '1',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--warmup',
      '1',
      '--checkpoint-every',
      '2',
      '--n',
      '8',
      '--eval-batch-size',
      '8',
      '--iterations',
      '2',
      '--diffusion-steps',
      '2',
      '--iterations-sweep',
      '2,3',
      '--steps-sweep',
      '2,3',
      '--probe-epochs',
      '2',
      '--probe-warmup',
      '1',
      '--probe-batch-size',
      '16',
      '--probe-holdout',
      '16',
    ];
    const r = await runCli(args);
    expect(r.stderr).not.toMatch(/^bigr:/m);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as {
      missing: string[];
      evals: Record<string, { secondsPerImage: number; metrics: { fid: number } }>;
      probes: Record<string, { acc1: number }>;
    };
    expect(res.missing).toEqual([]);
    for (const id of ['s0', 's1', 's2', 's3', 'bce', 'z0', 'uncond']) {
      expect(existsSync(join(out, 'models', id, 'model.safetensors'))).toBe(true);
      expect(required(res.probes[id], 'probes').acc1).toBeGreaterThanOrEqual(0);
    }
    // The probe baselines: the tokenizer's codes (the backbone's input) and the unpadded pixels.
    for (const id of ['codes', 'pixels']) expect(required(res.probes[id], 'baseline probes').acc1).toBeGreaterThanOrEqual(0);
    const cfg = JSON.parse(readFileSync(join(out, 'models', 's0', 'config.json'), 'utf8'));
    expect(cfg.head).toBe('categorical');
    expect(cfg.backbone.attention).toBe('causal');
    expect(Object.keys(res.evals)).toHaveLength(10); // 8 table slots + N = 3 + T = 3 (N = 2 and T = 2 are the S3 default row)
    for (const e of Object.values(res.evals)) {
      expect(Number.isFinite(e.metrics.fid)).toBe(true);
      expect(e.secondsPerImage).toBeGreaterThan(0);
    }
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    for (const heading of ['## Table 1', '## Table 2', '## Table 3', '## Table 4', '## Figure 3', '## Runs: seeds and configs'])
      expect(report).toContain(heading);
    expect(report).not.toContain('not measured yet');
    expect(report).toMatch(/Baselines, same probe: the tokenizer's codes \(the backbone's input\) ACC1 [0-9.]+ \/ ACC5 [0-9.]+; raw pixels ACC1 [0-9.]+/);
    expect(report).toMatch(/\| S3 \(bin\., mask = BiGR\) \| [0-9.e-]+ \| [0-9.]+ \|/);
    for (const png of ['figure3-iterations.png', 'figure3-diffusion-steps.png']) {
      const img = decodeImage(readFileSync(join(out, png)), { channels: 3 });
      expect([img.width, img.height]).toEqual([480, 360]);
    }
    // Resumable in pieces: everything is recorded, so a re-run does no work and reproduces the report.
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { missing: string[] }).missing).toEqual([]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(report);
  }, 300_000); // seven tiny models trained, probed and evaluated end to end: 129 s were measured on a busy machine
});
