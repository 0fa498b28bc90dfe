/**
 * Crash safety of the training commands: the real `bigr train-tokenizer` and `bigr train` run in child processes on
 * the default training engine (onnx-cpu) and are killed with SIGKILL at pseudo-random points (fixed seed): during
 * training, while a checkpoint directory is being written, while `latest.json` is replaced, while the final model
 * directory is staged and while it is renamed into place. Re-running the same command until it completes must give
 * the files of an uninterrupted run bit for bit (weights, EMA, optimiser state, loss history), and no partial or
 * temporary file may survive. After every kill, whatever a reader would load (the checkpoint `latest.json` names, a
 * model directory with a config.json) must load, and the checkpoint's losses must be a prefix of the reference.
 */
import { existsSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createRng, loadTrainerCheckpoint, type Rng, required } from '@bigr/core';
import { readBigrModel } from './bigrModelDir.js';
import { readTokenizerModel } from './tokenizerModelDir.js';
import { startCli, type ChildExit } from './testing/childCli.js';
import { writeSyntheticImageFolder } from './testing/syntheticDataset.js';

/** Children run on the default engine (no BIGR_DEVICE), one onnxruntime thread (the machine is shared). */
const CHILD_ENV = { BIGR_DEVICE: undefined, BIGR_THREADS: '1' } as const;
/** Steps of each run: enough checkpoints (every step / every two steps) for every kill point to come. */
const TOKENIZER_STEPS = 10;
const TRAIN_STEPS = 16;

/** A point at which a run is killed: the `nth` matching appearance in a watched directory, plus a delay. */
interface KillPoint {
  readonly label: string;
  /** Directory watched: the output directory or its checkpoints. */
  readonly where: 'out' | 'checkpoints';
  /** Names (as reported by fs.watch) that count. */
  readonly pattern: RegExp;
  /** Count each name once, and only while it exists (new directories, unique temp names), or count every rename event. */
  readonly distinct: boolean;
  /** Kill at this appearance (1-based). */
  readonly nth: number;
  /** Milliseconds between that appearance and the SIGKILL. */
  readonly delayMs: number;
  /** The kill always lands (the trigger comes while the run still works); false when a run may finish first. */
  readonly mustLand: boolean;
}

/** What a killed (or, when the trigger never came, completed) run left behind. */
interface KillOutcome {
  readonly command: string;
  readonly label: string;
  readonly nth: number;
  readonly delayMs: number;
  /** 'SIGKILL' when the kill landed, 'completed' when the run finished first. */
  readonly ended: string;
  readonly mustLand: boolean;
  /** Leftovers found right after the kill (cleaned up by the next run). */
  readonly leftovers: readonly string[];
  /** Step of the checkpoint latest.json named after the kill (null: none yet). */
  readonly checkpointStep: number | null;
}

/**
 * The kill points of one command, in order. The first two (and the exports, which every re-run repeats) are
 * triggered by files appearing while the run still has work to do, so they always land; the random delay after the
 * run's first checkpoint may outlast a short remaining run.
 */
function killPoints(rng: Rng): KillPoint[] {
  return [
    {
      label: 'checkpoint write (new step directory)',
      where: 'checkpoints',
      pattern: /^step-\d{9}$/,
      distinct: true,
      nth: 1 + rng.int(3),
      delayMs: rng.int(8),
      mustLand: true,
    },
    {
      label: 'latest.json replacement (temp file)',
      where: 'checkpoints',
      pattern: /^\.latest\.json\.\d+\.[0-9a-f]+\.tmp$/,
      distinct: true,
      nth: 1 + rng.int(2),
      delayMs: rng.int(4),
      mustLand: true,
    },
    {
      label: 'training, random delay after the first checkpoint of the run',
      where: 'checkpoints',
      pattern: /^latest\.json$/,
      distinct: false,
      nth: 1,
      delayMs: rng.int(250),
      mustLand: false,
    },
    {
      label: 'final export (staging directory)',
      where: 'out',
      pattern: /^\.staging-\d+-[0-9a-f]+$/,
      distinct: true,
      nth: 1,
      delayMs: rng.int(8),
      mustLand: true,
    },
    { label: 'final export (renames into place)', where: 'out', pattern: /^model\.safetensors$/, distinct: false, nth: 1, delayMs: 0, mustLand: true },
  ];
}

/** Every file under `dir` (relative paths, sorted), directories marked with a trailing '/'. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.push(`${relative(dir, p)}/`);
        await walk(p);
      } else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

const TEMPORARY = /(^|\/)(\.staging-|\.trash-)|\.tmp$|\.tmp-\d+-\d+$/;

/** Temporaries, empty files and checkpoint directories without a manifest under `dir`. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const p of await listTree(dir)) {
    const name = p.replace(/\/$/, '');
    if (TEMPORARY.test(name)) found.push(p);
    else if (!p.endsWith('/') && (await stat(join(dir, p))).size === 0) found.push(`${p} (0 bytes)`);
    else if (/^checkpoints\/step-\d{9}\/$/.test(p) && !existsSync(join(dir, name, 'trainer.json'))) found.push(`${p} (no trainer.json)`);
  }
  return found;
}

/** Runs the command; SIGKILLs it at `point` (if it gets there). */
async function runAndKill(args: readonly string[], out: string, point: KillPoint | null): Promise<ChildExit> {
  const started = startCli(args, { env: CHILD_ENV });
  if (!point) return started.exited;
  const seen = new Set<string>();
  const watched = point.where === 'out' ? out : join(out, 'checkpoints');
  let count = 0;
  let fired = false;
  const watcher = watch(watched, (event, name) => {
    if (fired || !name || !point.pattern.test(name)) return;
    if (point.distinct) {
      if (seen.has(name) || !existsSync(join(watched, name))) return;
      seen.add(name);
    } else if (event !== 'rename') return;
    if (++count < point.nth) return;
    fired = true;
    const kill = (): boolean => started.child.kill('SIGKILL');
    if (point.delayMs > 0) setTimeout(kill, point.delayMs);
    else kill();
  });
  try {
    return await started.exited;
  } finally {
    watcher.close();
  }
}

interface Reference {
  readonly out: string;
  readonly steps: number;
  readonly losses: readonly number[];
}

async function latestCheckpoint(out: string): Promise<{ step: number; losses: readonly number[]; path: string } | null> {
  const dir = join(out, 'checkpoints');
  if (!existsSync(join(dir, 'latest.json'))) return null;
  const ckpt = await loadTrainerCheckpoint(dir);
  const { path } = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { path: string };
  return { step: ckpt.manifest.step, losses: ckpt.manifest.losses, path: join(dir, path) };
}

/** A model directory that has a config.json loads (a kill never leaves config.json beside missing or partial files). */
async function checkLoadable(out: string, kind: 'tokenizer' | 'bigr'): Promise<void> {
  if (!existsSync(join(out, 'config.json'))) return;
  if (kind === 'tokenizer') await readTokenizerModel(out);
  else {
    const { config } = await readBigrModel(out);
    await readTokenizerModel(join(out, config.tokenizer));
  }
}

/** A model directory's config.json without the wall-clock field. */
async function configWithoutTime(dir: string): Promise<unknown> {
  const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { training?: Record<string, unknown> };
  if (c.training) delete c.training['secondsThisRun'];
  return c;
}

/** Kills `args` at every point, then re-runs it to completion; checks the state after each kill. */
async function killUntilDone(
  command: string,
  args: readonly string[],
  out: string,
  kind: 'tokenizer' | 'bigr',
  points: readonly KillPoint[],
  reference: Reference,
  outcomes: KillOutcome[],
): Promise<ChildExit> {
  await mkdir(join(out, 'checkpoints'), { recursive: true });
  for (const point of points) {
    const r = await runAndKill(args, out, point);
    const ended = r.signal === 'SIGKILL' ? 'SIGKILL' : 'completed';
    if (ended === 'completed') expect([command, point.label, r.code, r.stderr]).toEqual([command, point.label, 0, expect.any(String)]);
    const ckpt = await latestCheckpoint(out);
    // What latest.json names is complete, and its loss history is the reference's, bit for bit, so far.
    if (ckpt) expect(ckpt.losses).toEqual(reference.losses.slice(0, ckpt.step));
    await checkLoadable(out, kind);
    outcomes.push({
      command,
      label: point.label,
      nth: point.nth,
      delayMs: point.delayMs,
      ended,
      mustLand: point.mustLand,
      leftovers: await leftovers(out),
      checkpointStep: ckpt?.step ?? null,
    });
  }
  const final = await runAndKill(args, out, null);
  expect([command, final.code, final.signal]).toEqual([command, 0, null]);
  return final;
}

/** The interrupted run's output equals the reference's: same files, same bytes, same losses, nothing left over. */
async function expectSameAsReference(out: string, reference: Reference, weightFiles: readonly string[], modelDirs: readonly string[]): Promise<void> {
  expect(await leftovers(out)).toEqual([]);
  expect(await listTree(out)).toEqual(await listTree(reference.out));
  for (const f of weightFiles) expect([f, (await readFile(join(out, f))).equals(await readFile(join(reference.out, f)))]).toEqual([f, true]);
  const got = required(await latestCheckpoint(out), `checkpoint in ${out}`);
  const want = required(await latestCheckpoint(reference.out), `checkpoint in ${reference.out}`);
  expect(got.step).toBe(reference.steps);
  expect(got.losses).toEqual(want.losses);
  for (const f of ['params.safetensors', 'ema.safetensors', 'optimizer.safetensors']) {
    expect([f, (await readFile(join(got.path, f))).equals(await readFile(join(want.path, f)))]).toEqual([f, true]);
  }
  for (const d of modelDirs) expect([d, await configWithoutTime(join(out, d))]).toEqual([d, await configWithoutTime(join(reference.out, d))]);
}

describe('kill -9 during bigr train-tokenizer and bigr train (onnx-cpu)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bigr-kill9-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('resumes to bit-identical weights, EMA and losses and leaves no partial files', async () => {
    const data = join(root, 'data');
    await writeSyntheticImageFolder(data, { classes: 3, perClass: 4 });
    const tokenizerArgs = (out: string): string[] => [
      '--json',
      'train-tokenizer',
      '--data',
      data,
      '--out',
      out,
      '--preset',
      'official-tiny',
      '--nf',
      '16',
      '--norm-groups',
      '8',
      '--steps',
      String(TOKENIZER_STEPS),
      '--batch-size',
      '4',
      '--checkpoint-every',
      '1',
      '--seed',
      '3',
    ];
    const trainArgs = (tokenizer: string, out: string): string[] => [
      '--json',
      'train',
      '--tokenizer',
      tokenizer,
      '--data',
      data,
      '--out',
      out,
      '--preset',
      'BiGR-tiny',
      '--steps',
      String(TRAIN_STEPS),
      '--batch-size',
      '4',
      '--checkpoint-every',
      '2',
      '--warmup',
      '2',
      '--ema-decay',
      '0.9',
      '--seed',
      '3',
    ];

    // Uninterrupted references.
    const refTok = join(root, 'ref-tok');
    const refBigr = join(root, 'ref-bigr');
    const t = await runAndKill(tokenizerArgs(refTok), refTok, null);
    expect([t.code, t.stderr]).toEqual([0, expect.stringContaining('with onnx-cpu')]);
    const b = await runAndKill(trainArgs(refTok, refBigr), refBigr, null);
    expect([b.code, b.stderr]).toEqual([0, expect.stringContaining('with onnx-cpu')]);
    const tokRef: Reference = {
      out: refTok,
      steps: TOKENIZER_STEPS,
      losses: required(await latestCheckpoint(refTok), 'reference tokenizer checkpoint').losses,
    };
    const bigrRef: Reference = { out: refBigr, steps: TRAIN_STEPS, losses: required(await latestCheckpoint(refBigr), 'reference BiGR checkpoint').losses };
    expect([tokRef.losses.length, bigrRef.losses.length]).toEqual([TOKENIZER_STEPS, TRAIN_STEPS]);

    const rng = createRng('kill-9/points');
    const outcomes: KillOutcome[] = [];
    const tok = join(root, 'tok');
    await killUntilDone('train-tokenizer', tokenizerArgs(tok), tok, 'tokenizer', killPoints(rng.fork('train-tokenizer')), tokRef, outcomes);
    await expectSameAsReference(tok, tokRef, ['model.safetensors'], ['.']);

    // `bigr train` on the killed-and-resumed tokenizer (identical to the reference one by now).
    const bigr = join(root, 'bigr');
    await killUntilDone('train', trainArgs(tok, bigr), bigr, 'bigr', killPoints(rng.fork('train')), bigrRef, outcomes);
    await expectSameAsReference(bigr, bigrRef, ['model.safetensors', 'tokenizer/model.safetensors'], ['.', 'tokenizer']);

    const lines = outcomes.map(
      (o) =>
        `  ${o.command} | ${o.label} (#${o.nth} +${o.delayMs} ms): ${o.ended}, checkpoint ${o.checkpointStep ?? '-'}, ` +
        `left ${o.leftovers.length ? o.leftovers.join(', ') : 'nothing'}`,
    );
    process.stdout.write(`kill -9 outcomes:\n${lines.join('\n')}\n`);
    // Every kill triggered while the run still had work to do landed.
    for (const o of outcomes.filter((x) => x.mustLand)) expect([o.command, o.label, o.ended]).toEqual([o.command, o.label, 'SIGKILL']);
  }, 300_000); // 14 CLI processes: about 60 s on two idle cores, up to twice that on a loaded machine.
});
