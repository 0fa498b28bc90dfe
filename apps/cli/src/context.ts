import { ProgressDisplay } from './progressDisplay.js';

/** Everything a command needs from the process: output streams, flags, the abort signal. */
export interface CliContext {
  /** Machine-readable output on stdout instead of human text. */
  readonly json: boolean;
  /** Suppress progress and informational stderr output. */
  readonly quiet: boolean;
  /** Aborted on Ctrl-C, SIGTERM or SIGHUP. */
  readonly signal: AbortSignal;
  /** --force: outputs may replace existing files this command did not write (never inputs or read-only files). */
  readonly force: boolean;
  /** --check-finite: refuse model weights holding NaN or Inf when loading them. */
  readonly checkFinite: boolean;
  /** Writes a line of human-readable output to stdout (suppressed with --json). */
  out(line: string): void;
  /** Writes a line of information to stderr (suppressed with --quiet). */
  info(line: string): void;
  /** Writes a warning to stderr (always). */
  warn(line: string): void;
  /** Emits the final JSON result (only with --json). */
  result(value: unknown): void;
  /** A progress display on stderr for one long task. */
  progress(label: string): ProgressDisplay;
}

/** Creates the context over real process streams. */
export function createContext(options: {
  json: boolean;
  quiet: boolean;
  signal: AbortSignal;
  force?: boolean;
  checkFinite?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}): CliContext {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  return {
    json: options.json,
    quiet: options.quiet,
    signal: options.signal,
    force: options.force ?? false,
    checkFinite: options.checkFinite ?? false,
    out: (line) => {
      if (!options.json) stdout.write(`${line}\n`);
    },
    info: (line) => {
      if (!options.quiet) stderr.write(`${line}\n`);
    },
    warn: (line) => {
      stderr.write(`warning: ${line}\n`);
    },
    result: (value) => {
      if (options.json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    progress: (label) => new ProgressDisplay(label, stderr, options.quiet),
  };
}
