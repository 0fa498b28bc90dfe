/**
 * Multi-file outputs (model directories, tokenizer copies, ONNX exports) are written to a staging directory inside
 * the target and then renamed into place file by file (`config.json` last), so a kill at any moment leaves either
 * the old or the new version of each file, never a partial one. Leftovers of killed runs (staging directories,
 * temp files of atomic writes) are removed by {@link cleanStaleTemporaries} on the next run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
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

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes staging directories and temp files left in `dir` by processes that no longer run (a killed export or
 * checkpoint write); returns the names removed. Missing directories are ignored.
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
    if (pid === null || processAlive(pid)) continue;
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

/**
 * Writes a multi-file output into `dir`: `write(staging)` fills a fresh staging directory inside `dir`, then every
 * entry is renamed over its counterpart in `dir` (a sub-directory by swapping it with the old one), with
 * `config.json` last so a directory never names weights that are not there yet. The staging directory is removed
 * on success and on failure.
 */
export async function writeDirectoryStaged(dir: string, write: (staging: string) => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await cleanStaleTemporaries(dir);
  const staging = join(dir, `.staging-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  try {
    await write(staging);
    const entries = (await readdir(staging)).sort((a, b) => Number(a === 'config.json') - Number(b === 'config.json') || a.localeCompare(b));
    for (const name of entries) {
      const from = join(staging, name);
      const to = join(dir, name);
      if ((await isDirectory(from)) && (await isDirectory(to))) {
        const trash = join(dir, `.trash-${process.pid}-${randomBytes(6).toString('hex')}`);
        await rename(to, trash);
        await rename(from, to);
        await rm(trash, { recursive: true, force: true });
      } else {
        await rename(from, to);
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
