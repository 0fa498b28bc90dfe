/**
 * Training runs are what they say: the settings a run started with (every resolved flag that changes the result,
 * plus hashes of the data and the tokenizer) are recorded beside its checkpoints, and resuming with any difference
 * is refused with the list of changed settings unless --force-resume. Also: the checks that a training output
 * directory holds nothing else (another kind of model, a model not trained there) before any work starts.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, FormatError, parseJsonBounded, type Tensor, pathExists } from '@bigr/core';
import type { CliContext } from './context.js';
import { writeJsonAtomic } from './sidecar.js';
import { cleanStaleTemporaries } from './stagedDirectory.js';

/** File (in the checkpoint directory) recording the settings of the run its checkpoints belong to. */
export const RUN_SETTINGS_FILE = 'run-settings.json';
/** Format tag of {@link RUN_SETTINGS_FILE}. */
export const RUN_SETTINGS_FORMAT = 'bigr-run-settings';

/** A JSON value of a recorded setting. */
export type SettingValue = null | boolean | number | string | readonly SettingValue[] | { readonly [key: string]: SettingValue };

/** One setting that differs between the recorded run and the new command. */
export interface SettingChange {
  /** Setting name (nested settings joined with '.', e.g. `backbone.layers`). */
  readonly key: string;
  /** Value the run was started (or last force-resumed) with; undefined when it was not recorded. */
  readonly old: SettingValue | undefined;
  /** Value of the new command; undefined when it no longer exists. */
  readonly new: SettingValue | undefined;
}

/** Contents of {@link RUN_SETTINGS_FILE}. */
export interface RunSettingsRecord {
  readonly format: typeof RUN_SETTINGS_FORMAT;
  readonly version: 1;
  /** The command (`train`, `train-tokenizer`). */
  readonly command: string;
  /** The settings the checkpoints were trained with. */
  readonly settings: { readonly [key: string]: SettingValue };
  /** Earlier settings changed with --force-resume: at which step and what changed. */
  readonly history: readonly { readonly step: number; readonly changes: readonly SettingChange[] }[];
}

function flatten(value: SettingValue | undefined, prefix: string, out: Map<string, SettingValue | undefined>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, SettingValue>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
}

/** Every setting whose value differs (compared as JSON, nested objects key by key), in sorted key order. */
export function diffSettings(old: { readonly [key: string]: SettingValue }, now: { readonly [key: string]: SettingValue }): SettingChange[] {
  const a = new Map<string, SettingValue | undefined>();
  const b = new Map<string, SettingValue | undefined>();
  flatten(old, '', a);
  flatten(now, '', b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))).map((k) => ({ key: k, old: a.get(k), new: b.get(k) }));
}

/** One line per change: `  lr: 0.001 → 0.002`. */
export function formatChanges(changes: readonly SettingChange[]): string {
  const show = (v: SettingValue | undefined): string => (v === undefined ? '(not set)' : JSON.stringify(v));
  return changes.map((c) => `  ${c.key}: ${show(c.old)} → ${show(c.new)}`).join('\n');
}

async function readRecord(path: string): Promise<RunSettingsRecord | null> {
  let text: string;
  try {
    if ((await stat(path)).size > 16 * 1024 * 1024)
      throw new FormatError(`${path} is larger than 16 MB; it is not a run-settings file. Delete it or choose a new --out.`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof FormatError) throw err;
    return null;
  }
  const raw = parseJsonBounded(text, { source: path }) as Partial<RunSettingsRecord> | null;
  if (!raw || typeof raw !== 'object' || raw.format !== RUN_SETTINGS_FORMAT || typeof raw.settings !== 'object' || raw.settings === null) {
    throw new FormatError(
      `${path} is not a run-settings file (format ${JSON.stringify(raw && typeof raw === 'object' ? raw.format : raw)}). ` +
        `Delete the checkpoints or choose a new --out.`,
    );
  }
  return {
    format: RUN_SETTINGS_FORMAT,
    version: 1,
    command: String(raw.command),
    settings: raw.settings,
    history: Array.isArray(raw.history) ? raw.history : [],
  };
}

async function latestStep(checkpointDirectory: string): Promise<number | null> {
  try {
    const latest = parseJsonBounded(await readFile(join(checkpointDirectory, 'latest.json'), 'utf8'), { source: 'latest.json' }) as { step?: unknown };
    return typeof latest?.step === 'number' ? latest.step : -1;
  } catch {
    return null;
  }
}

/** What {@link checkResume} decided. */
export interface ResumeDecision {
  /** A checkpoint exists and training continues from it. */
  readonly resume: boolean;
  /** The step of that checkpoint (0 when starting fresh). */
  readonly step: number;
  /** Settings that differ from the recorded ones (non-empty only with --force-resume). */
  readonly changes: readonly SettingChange[];
  /** Checkpoints without a settings record (written before settings were recorded): resumed, then recorded. */
  readonly unrecorded: boolean;
}

/**
 * Decides whether a training command resumes, refusing a resume whose settings differ from the recorded ones
 * (unless `forceResume`) with a message listing each change (old → new) and the ways out. Call it before the
 * run writes anything; then call {@link recordRunSettings}.
 */
export async function checkResume(options: {
  readonly command: string;
  readonly checkpointDirectory: string;
  readonly out: string;
  readonly settings: { readonly [key: string]: SettingValue };
  readonly forceResume: boolean;
}): Promise<ResumeDecision> {
  const step = await latestStep(options.checkpointDirectory);
  if (step === null) return { resume: false, step: 0, changes: [], unrecorded: false };
  const record = await readRecord(join(options.checkpointDirectory, RUN_SETTINGS_FILE));
  if (record === null) return { resume: true, step, changes: [], unrecorded: true };
  if (record.command !== options.command) {
    throw new ConfigError(`${options.out} holds checkpoints of \`bigr ${record.command}\`, not \`bigr ${options.command}\`. Choose a new --out.`);
  }
  const changes = diffSettings(record.settings, options.settings);
  if (changes.length > 0 && !options.forceResume) {
    throw new ConfigError(
      `${options.out} holds a \`bigr ${options.command}\` run at step ${step} that was started with other settings:\n${formatChanges(changes)}\n` +
        `Resuming would continue the old checkpoint under the new settings. Re-run with the recorded values to resume, ` +
        `pass --force-resume to continue with the new ones (the change is recorded), or choose a new --out to start a new run.`,
    );
  }
  return { resume: true, step, changes, unrecorded: false };
}

/** Writes {@link RUN_SETTINGS_FILE} for the run about to start or continue (adding force-resumed changes to its history). */
export async function recordRunSettings(
  checkpointDirectory: string,
  command: string,
  settings: { readonly [key: string]: SettingValue },
  decision: ResumeDecision,
): Promise<void> {
  const path = join(checkpointDirectory, RUN_SETTINGS_FILE);
  const old = decision.resume && !decision.unrecorded ? await readRecord(path) : null;
  const history = [...(old?.history ?? []), ...(decision.changes.length > 0 ? [{ step: decision.step, changes: decision.changes }] : [])];
  const record: RunSettingsRecord = { format: RUN_SETTINGS_FORMAT, version: 1, command, settings, history };
  await writeJsonAtomic(path, record);
}

/**
 * The start of every training command: decides whether to resume ({@link checkResume}), warns about a checkpoint
 * without recorded settings or about settings changed with --force-resume, creates the checkpoint directory, records
 * the settings and writes the command's resolved config (`configPath`) next to the output.
 */
export async function startOrResume(
  ctx: Pick<CliContext, 'warn'>,
  options: {
    readonly command: string;
    readonly checkpointDirectory: string;
    readonly out: string;
    readonly settings: { readonly [key: string]: SettingValue };
    readonly forceResume: boolean;
    readonly configPath: string;
    readonly config: unknown;
  },
): Promise<ResumeDecision> {
  const { command, checkpointDirectory, settings } = options;
  const decision = await checkResume(options);
  if (decision.unrecorded)
    ctx.warn(
      `${checkpointDirectory} has no record of the settings it was trained with (written by an older bigr); resuming, and recording the current settings.`,
    );
  if (decision.changes.length > 0)
    ctx.warn(`--force-resume: continuing the step-${decision.step} checkpoint with changed settings:\n${formatChanges(decision.changes)}`);
  await mkdir(checkpointDirectory, { recursive: true });
  await recordRunSettings(checkpointDirectory, command, settings, decision);
  await writeJsonAtomic(options.configPath, options.config);
  return decision;
}

/** sha256 (hex) of a dataset's images and labels: identifies the data a run was trained on. */
export function datasetHash(images: Tensor<'float32'>, labels: ArrayLike<number>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(images.shape));
  const d = images.data;
  h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  h.update(Int32Array.from(labels as ArrayLike<number>));
  return h.digest('hex');
}

/** Files a training command writes directly into its --out directory. */
const TRAINING_OUTPUTS = ['config.json', 'model.safetensors', 'tokenizer', 'train.config.json', 'train-tokenizer.config.json'];

/**
 * Checks a training --out directory before any work: it must not be a file, must not hold another kind of model
 * (always refused), and may hold model files only when they came from a training run there (checkpoints exist) or
 * with --force. Then removes leftovers of killed runs (staging directories, temp files, incomplete checkpoint
 * directories that latest.json does not point at).
 */
export async function prepareTrainingOutput(options: {
  readonly out: string;
  readonly command: string;
  readonly format: string;
  readonly force: boolean;
}): Promise<void> {
  const { out, command, format } = options;
  let isDir = false;
  try {
    isDir = (await stat(out)).isDirectory();
    if (!isDir) throw new ConfigError(`--out ${out} is a file; \`bigr ${command}\` writes a model directory. Choose another --out.`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
  }
  if (!isDir) return;
  const configPath = join(out, 'config.json');
  if (await pathExists(configPath)) {
    let found: unknown;
    try {
      found = (parseJsonBounded(await readFile(configPath, 'utf8'), { source: configPath }) as { format?: unknown } | null)?.format;
    } catch {
      found = '(unreadable)';
    }
    if (found !== format) {
      throw new ConfigError(
        `${out} holds another kind of model (config.json format ${JSON.stringify(found)}); ` +
          `\`bigr ${command}\` writes a "${format}" directory and will not replace it. Choose a new --out.`,
      );
    }
  }
  const checkpoints = join(out, 'checkpoints');
  const trainedHere = (await pathExists(join(checkpoints, 'latest.json'))) || (await pathExists(join(checkpoints, RUN_SETTINGS_FILE)));
  if (!trainedHere && !options.force) {
    const present = [];
    for (const f of TRAINING_OUTPUTS) if (await pathExists(join(out, f))) present.push(f);
    if (present.length > 0) {
      throw new ConfigError(
        `${out} already holds ${present.join(', ')} that no \`bigr ${command}\` run there wrote (no checkpoints). ` +
          `Choose a new --out, or pass --force to replace them.`,
      );
    }
  }
  await cleanTrainingLeftovers(out);
}

/**
 * Removes staging directories, temp files and incomplete checkpoint directories (no manifest, or a file the manifest
 * names is missing) that latest.json does not point at, all left by killed runs in `out`.
 */
export async function cleanTrainingLeftovers(out: string): Promise<void> {
  await cleanStaleTemporaries(out);
  await cleanStaleTemporaries(join(out, 'tokenizer'));
  const checkpoints = join(out, 'checkpoints');
  for (const dir of [checkpoints, join(checkpoints, 'discriminator')]) {
    await cleanStaleTemporaries(dir);
    let latest: string | null = null;
    try {
      latest = String((parseJsonBounded(await readFile(join(dir, 'latest.json'), 'utf8')) as { path?: unknown }).path);
    } catch {
      latest = null;
    }
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => /^step-\d{9}$/.test(n))) {
      await cleanStaleTemporaries(join(dir, name));
      if (name !== latest && !(await checkpointComplete(join(dir, name)))) await rm(join(dir, name), { recursive: true, force: true });
    }
  }
}

/**
 * True when a checkpoint directory has its manifest (`trainer.json`) and every file the manifest names. A kill while
 * the trainer writes a checkpoint leaves no manifest; a kill while it prunes a superseded one (a recursive delete in
 * directory order) can leave the manifest beside missing weights.
 */
async function checkpointComplete(stepDir: string): Promise<boolean> {
  const manifestPath = join(stepDir, 'trainer.json');
  let files: unknown;
  try {
    if ((await stat(manifestPath)).size > 64 * 1024 * 1024) return false;
    files = (parseJsonBounded(await readFile(manifestPath, 'utf8'), { source: manifestPath }) as { files?: unknown } | null)?.files;
  } catch {
    return false;
  }
  if (typeof files !== 'object' || files === null) return false;
  for (const f of Object.values(files as Record<string, unknown>)) {
    if (f === null) continue;
    if (typeof f !== 'string' || !/^[\w.-]+$/.test(f) || !(await pathExists(join(stepDir, f)))) return false;
  }
  return true;
}
