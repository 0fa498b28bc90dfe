import { BigrError } from '@bigr/core';

/** Process exit codes of the `bigr` command (documented in the CLI README). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  missingFile: 3,
  engineUnavailable: 4,
  interrupted: 130,
} as const;

/** Maps an error to an exit code: library errors carry their own, commander usage errors are 2. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof BigrError) return err.exitCode;
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ENOENT') return EXIT.missingFile;
  if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
  return EXIT.error;
}
