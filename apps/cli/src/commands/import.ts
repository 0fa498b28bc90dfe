import type { Command } from 'commander';
import { ConfigError } from '@bigr/core';
import type { CliContext } from '../context.js';
import { resolveConfig } from '../config.js';
import { formatImportReport, importOfficial, readClassNames, type ImportReport } from '../import/index.js';
import { givenFlags, type GivenFlags } from '../givenFlags.js';

/** Settings of `bigr import` (0 / '' = not given). */
export const IMPORT_DEFAULTS = {
  bigr: '',
  bae: '',
  out: '',
  classes: '',
  headDim: 0,
  heads: 0,
  resolution: 0,
  force: false,
};

/** Flags of `bigr import` as given on the command line. */
export type ImportFlags = GivenFlags<typeof IMPORT_DEFAULTS>;

/**
 * `bigr import`: released checkpoints → model directories. `--bigr bigr_*.pt --bae binaryae_*.th --out dir` writes a
 * BiGR model directory (usable by `bigr generate --model dir`); `--bae` alone writes a tokenizer directory.
 * Prints what was inferred from the weights.
 */
export async function importCommand(ctx: CliContext, flags: ImportFlags): Promise<void> {
  const { force, ...rest } = flags.settings;
  const cfg = await resolveConfig({
    command: 'import',
    defaults: IMPORT_DEFAULTS,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    // --force is also the global flag (which commander may take even after the subcommand name).
    flags: { ...rest, ...(force || ctx.force ? { force: true } : {}) },
  });
  if (!cfg.bae) throw new ConfigError('bigr import needs --bae <binaryae_*.th|.safetensors> (and --bigr <bigr_*.pt> for a generative model).');
  if (!cfg.out) throw new ConfigError('bigr import needs --out <dir>.');
  for (const k of ['headDim', 'heads', 'resolution'] as const) {
    if (cfg[k] !== 0 && (!Number.isInteger(cfg[k]) || cfg[k] < 1))
      throw new ConfigError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${cfg[k]}.`);
  }
  const classNames = cfg.classes ? await readClassNames(cfg.classes) : undefined;
  const progress = ctx.progress('import');
  let report: ImportReport;
  try {
    report = await importOfficial({
      bae: cfg.bae,
      out: cfg.out,
      ...(cfg.bigr ? { bigr: cfg.bigr } : {}),
      ...(classNames ? { classNames } : {}),
      ...(cfg.headDim ? { headDim: cfg.headDim } : {}),
      ...(cfg.heads ? { heads: cfg.heads } : {}),
      ...(cfg.resolution ? { resolution: cfg.resolution } : {}),
      overwrite: cfg.force,
      signal: ctx.signal,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }
  for (const line of formatImportReport(report)) ctx.out(line);
  ctx.result({ ok: true, command: 'import', ...report });
}

/** Registers `bigr import` on the program. */
export function registerImport(program: Command, ctx: () => CliContext): void {
  program
    .command('import')
    .description(
      'import released checkpoints (bigr_*.pt + binaryae_*.th, or safetensors exports) as a model directory; --bae alone gives a tokenizer directory',
    )
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--bigr <file>', 'released BiGR checkpoint (bigr_*.pt or .safetensors); needs --bae')
    .option('--bae <file>', 'released B-AE checkpoint (binaryae_*.th or .safetensors)')
    .option('--out <dir>', 'model directory to write')
    .option('--classes <names.txt>', 'class names, one per line in label order (default: the indices)')
    .option('--head-dim <n>', 'attention head width, heads = D / head-dim (default 64, as released)')
    .option('--heads <n>', 'attention heads (overrides --head-dim)')
    .option('--resolution <px>', 'image size of a B-AE imported alone (default: inferred by the released convention)')
    .option('--force', 'replace an existing model directory at --out')
    .action(async (_flags: unknown, cmd: Command) => importCommand(ctx(), givenFlags(cmd, IMPORT_DEFAULTS)));
}
