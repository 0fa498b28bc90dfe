import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createContext, type CliContext } from './context.js';
import { EXIT, exitCodeOf } from './exitCodes.js';
import { CLI_VERSION } from './version.js';
import { registerCommands } from './commands/index.js';
import { polishHelp } from './helpPolish.js';

/** `--threads`: a positive integer. */
function threadsArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new InvalidArgumentError(`--threads must be an integer in 1..1024, got "${value}" (e.g. 2; default: all cores).`);
  return n;
}

/** Streams and signal the CLI runs with (tests pass their own). */
export interface MainOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/** Runs the `bigr` command line and returns the exit code (never calls process.exit). */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  const controller = new AbortController();
  // Ctrl-C, SIGTERM (kill, systemd, docker stop) and SIGHUP (closed terminal) all stop long work the same way:
  // training finishes its step, writes a checkpoint and exits with the interrupted code.
  const signals = { SIGINT: 'interrupted (Ctrl-C)', SIGTERM: 'terminated (SIGTERM)', SIGHUP: 'hung up (SIGHUP)' } as const;
  const handlers = Object.entries(signals).map(([name, reason]) => [name, (): void => controller.abort(new Error(reason))] as const);
  if (!options.signal) for (const [name, handler] of handlers) process.once(name, handler);
  options.signal?.addEventListener('abort', () => controller.abort(options.signal?.reason));

  let ctx: CliContext | null = null;
  const program = new Command('bigr')
    .description('BiGR: binary latent image generation, representations, hashing and evaluation.')
    .version(CLI_VERSION)
    .option('--json', 'print one machine-readable JSON result on stdout', false)
    .option('--quiet', 'no progress or info on stderr', false)
    .option('--device <device>', 'engine/device: auto, cpu, gpu, wasm, or an engine name (or BIGR_DEVICE)')
    .option('--force', 'let outputs replace existing files the command did not write (never inputs or read-only files)', false)
    .option('--check-finite', 'refuse model weights holding NaN or Inf when loading (always on for import)', false)
    .option('--threads <n>', 'onnxruntime intra-op threads (sets BIGR_THREADS; default: all cores)', threadsArg)
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    .hook('preAction', (cmd) => {
      const o = cmd.optsWithGlobals() as { json?: boolean; quiet?: boolean; device?: string; force?: boolean; checkFinite?: boolean; threads?: number };
      if (o.device) process.env['BIGR_DEVICE'] = o.device;
      if (o.threads !== undefined) process.env['BIGR_THREADS'] = String(o.threads);
      if (o.checkFinite) process.env['BIGR_CHECK_FINITE'] = '1';
      ctx = createContext({
        json: Boolean(o.json),
        quiet: Boolean(o.quiet),
        force: Boolean(o.force),
        checkFinite: Boolean(o.checkFinite),
        signal: controller.signal,
        stdout,
        stderr,
      });
    });
  registerCommands(program, () => {
    if (!ctx) throw new Error('CLI context used before initialisation');
    return ctx;
  });
  polishHelp(program);
  const checkFiniteBefore = process.env['BIGR_CHECK_FINITE'];
  const threadsBefore = process.env['BIGR_THREADS'];
  // --json is known before parsing finishes, so usage errors (unknown flag, bad choice) are JSON too.
  const dashDash = argv.indexOf('--');
  const jsonRequested = (dashDash < 0 ? argv : argv.slice(0, dashDash)).includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      if (jsonRequested) stdout.write(`${JSON.stringify({ ok: false, error: err.message.replace(/^error: /, ''), code: err.code, exitCode: EXIT.usage })}\n`);
      return EXIT.usage;
    }
    const code = controller.signal.aborted ? EXIT.interrupted : exitCodeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    stderr.write(`bigr: ${message}\n`);
    if ((ctx as CliContext | null)?.json) stdout.write(`${JSON.stringify({ ok: false, error: message, exitCode: code })}\n`);
    return code;
  } finally {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
    if (checkFiniteBefore === undefined) delete process.env['BIGR_CHECK_FINITE'];
    else process.env['BIGR_CHECK_FINITE'] = checkFiniteBefore;
    if (threadsBefore === undefined) delete process.env['BIGR_THREADS'];
    else process.env['BIGR_THREADS'] = threadsBefore;
  }
}
