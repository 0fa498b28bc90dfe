/**
 * Multi-file outputs (model directories, tokenizer copies, ONNX exports) are written to a staging directory inside
 * the target and then renamed into place file by file (`config.json`, or the manifest, last), so a kill at any
 * moment leaves either the old or the new version of each file, never a partial one. Leftovers of killed runs
 * (staging directories, temp files of atomic writes) are removed by {@link cleanStaleTemporaries} on the next run.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const STAGING = /^\.(staging|trash)-(\d+)-[0-9a-f]+$/;
/** `atomicWrite` temp files (`.<name>.<pid>.<hex>.tmp`) and the CLI's older `<name>.tmp-<pid>-<ms>`. */
const TEMP_FILES = [/^\..+\.(\d+)\.[0-9a-f]+\.tmp$/, /^.+\.tmp-(\d+)-\d+$/];

/** The pid a temporary name was made by, or null when `name` is not a temporary. */
function tempPid(name: string): number | null {
  const s = STAGING.exec(name);
  if (s) return Number(s[2]);
  for (const r of TEMP_FILES) {
    const m = r.exec(name);
    if (m) return Number(m[1]);
  }
  return null;
}

/** Staging directories this process is writing (never stale, whatever their time stamps say). */
const ownStaging = new Set<string>();
/** Time stamps this much older than the process start still count as its own (coarse or skewed file system clocks). */
const CLOCK_SLACK_MS = 1000;

/**
 * Whether the process that made a temporary may still be writing it. A temporary named with this process's own pid
 * but older than this process was left by an earlier process with the same pid: in a container every run of
 * `bigr` often has the same pid (1, or the same small number), so a killed run's leftovers carry the pid of the
 * next run.
 */
function writerMayBeAlive(path: string, pid: number, mtimeMs: number): boolean {
  if (pid === process.pid) return ownStaging.has(path) || mtimeMs >= performance.timeOrigin - CLOCK_SLACK_MS;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes staging directories and temp files left in `dir` by processes that no longer run (a killed export or
 * checkpoint write), including those named with this process's pid but made before it started; returns the names
 * removed. Missing directories are ignored.
 */
export async function cleanStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = tempPid(name);
    if (pid === null) continue;
    let mtimeMs: number;
    try {
      mtimeMs = (await lstat(join(dir, name))).mtimeMs;
    } catch {
      continue;
    }
    if (writerMayBeAlive(join(dir, name), pid, mtimeMs)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Options of {@link writeDirectoryStaged}. */
export interface StagedWriteOptions {
  /**
   * The file renamed into place last in every directory (default `config.json`): the one that names the others, so
   * a directory never refers to files that are not there yet (e.g. `manifest.json` of an ONNX export).
   */
  readonly last?: string;
}

/**
 * Renames every entry of `from` over its counterpart in `to`, `last` last. A sub-directory present on both sides is
 * merged file by file (never swapped out, so no moment exists at which it is missing); anything else replaces
 * what is there.
 */
async function moveInto(from: string, to: string, last: string): Promise<void> {
  const entries = (await readdir(from)).sort((a, b) => Number(a === last) - Number(b === last) || a.localeCompare(b));
  for (const name of entries) {
    const src = join(from, name);
    const dst = join(to, name);
    const srcIsDir = await isDirectory(src);
    const dstIsDir = await isDirectory(dst);
    if (srcIsDir && dstIsDir) await moveInto(src, dst, last);
    else {
      if (dstIsDir) await rm(dst, { recursive: true, force: true });
      await rename(src, dst);
    }
  }
}

/**
 * Writes a multi-file output into `dir`: `write(staging)` fills a fresh staging directory inside `dir`, then every
 * file is renamed over its counterpart in `dir` (sub-directories merged file by file), with `config.json` (or
 * `options.last`) last in each directory, so a directory never names files that are not there yet and a kill
 * leaves each file either old or new. The staging directory is removed on success and on failure.
 */
export async function writeDirectoryStaged(dir: string, write: (staging: string) => Promise<void>, options: StagedWriteOptions = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await cleanStaleTemporaries(dir);
  const staging = join(dir, `.staging-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  ownStaging.add(staging);
  try {
    await write(staging);
    await moveInto(staging, dir, options.last ?? 'config.json');
  } finally {
    await rm(staging, { recursive: true, force: true });
    ownStaging.delete(staging);
  }
}
