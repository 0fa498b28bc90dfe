/**
 * For the tests: starts the real `bigr` command (or another TypeScript entry point) from the sources in a child
 * process, through the module hooks of `registerTsLoader.mjs`, so tests can send it real signals (kill -9) or run
 * it under other node flags (`--expose-gc`) without a build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { required } from '@bigr/core';

const here = dirname(fileURLToPath(import.meta.url));

/** `node --import` module that compiles the TypeScript sources on the fly (see tsLoader.mjs). */
export const TS_LOADER = join(here, 'registerTsLoader.mjs');
/** Entry point that runs `bigr <argv>` with the process's own signals and streams. */
export const CLI_ENTRY = join(here, 'cliEntry.ts');

/** How a child process ended, with everything it printed. */
export interface ChildExit {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/** A started child process and the promise of its end. */
export interface StartedChild {
  /** The process (send signals with `child.kill(...)`). */
  readonly child: ChildProcess;
  /** Settles when the process has exited and its output streams are closed. */
  readonly exited: Promise<ChildExit>;
}

/** Options of {@link startTsChild} and {@link startCli}. */
export interface StartChildOptions {
  /** Extra node flags before `--import` (e.g. `--expose-gc`). */
  readonly nodeFlags?: readonly string[];
  /** Environment variables set (a string) or removed (undefined) on top of this process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Starts `node <flags> --import registerTsLoader.mjs <entry> <args>`; stdin is closed, stdout/stderr captured. */
export function startTsChild(entry: string, args: readonly string[], options: StartChildOptions = {}): StartedChild {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', TS_LOADER, entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  required(child.stdout, 'piped stdout')
    .setEncoding('utf8')
    .on('data', (s: string) => (stdout += s));
  required(child.stderr, 'piped stderr')
    .setEncoding('utf8')
    .on('data', (s: string) => (stderr += s));
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited };
}

/** Starts `bigr <args>` from the sources in a child process (see {@link startTsChild}). */
export function startCli(args: readonly string[], options: StartChildOptions = {}): StartedChild {
  return startTsChild(CLI_ENTRY, args, options);
}
