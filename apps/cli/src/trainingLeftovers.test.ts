/** Leftovers of killed training runs are removed before the next run (see killResume.test.ts for the real kills). */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanTrainingLeftovers } from './runSettings.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-leftovers-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const FILES = { params: 'params.safetensors', ema: 'ema.safetensors', optimizer: 'optimizer.safetensors' };

/** A checkpoint directory holding its manifest and the named files in `present`. */
async function checkpointDir(dir: string, step: number, present: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'trainer.json'), JSON.stringify({ format: 'bigr-trainer-checkpoint', version: 1, step, files: FILES }));
  for (const f of present) await writeFile(join(dir, f), 'x');
}

describe('cleanTrainingLeftovers', () => {
  it('removes a superseded checkpoint a kill left half-pruned (manifest present, weights gone), keeps complete ones', async () => {
    const out = join(root, 'run');
    const ckpt = join(out, 'checkpoints');
    // Trainer.checkpoint writes step 4, points latest.json at it, then deletes step 2 recursively; a SIGKILL during
    // that delete can leave step 2's trainer.json beside some of its files. Nothing would ever remove it again once
    // the run has reached its last step (re-runs write no checkpoint), so it outlived the run.
    await checkpointDir(join(ckpt, 'step-000000002'), 2, [FILES.params]);
    await checkpointDir(join(ckpt, 'step-000000003'), 3, Object.values(FILES));
    await checkpointDir(join(ckpt, 'step-000000004'), 4, Object.values(FILES));
    await mkdir(join(ckpt, 'step-000000005'));
    await writeFile(join(ckpt, 'latest.json'), JSON.stringify({ format: 'bigr-trainer-checkpoint', step: 4, path: 'step-000000004' }));
    await cleanTrainingLeftovers(out);
    expect((await readdir(ckpt)).sort()).toEqual(['latest.json', 'step-000000003', 'step-000000004']);
  });

  it('never removes the checkpoint latest.json names', async () => {
    const out = join(root, 'latest');
    const ckpt = join(out, 'checkpoints');
    await checkpointDir(join(ckpt, 'step-000000001'), 1, [FILES.params]);
    await writeFile(join(ckpt, 'latest.json'), JSON.stringify({ format: 'bigr-trainer-checkpoint', step: 1, path: 'step-000000001' }));
    await cleanTrainingLeftovers(out);
    expect((await readdir(ckpt)).sort()).toEqual(['latest.json', 'step-000000001']);
  });
});
