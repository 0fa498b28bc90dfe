/** For the tests: runs `bigr` in-process with captured stdout/stderr. */
import { Writable } from 'node:stream';
import { main } from '../main.js';

/** Captured result of one CLI run. */
export interface CliRun {
  /** Exit code main() returned. */
  readonly code: number;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/** A writable stream that keeps what is written to it (`text()`), for main's stdout and stderr. */
export function capture(): { stream: Writable; text: () => string } {
  let s = '';
  return {
    stream: new Writable({
      write(chunk, _enc, cb) {
        s += String(chunk);
        cb();
      },
    }),
    text: () => s,
  };
}

/** Runs `bigr <args>` and returns exit code and output (use `--json` in args and JSON.parse(stdout) for results). */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  const out = capture();
  const err = capture();
  const code = await main(args, { stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}
