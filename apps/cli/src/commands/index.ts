import type { Command } from 'commander';
import { givenFlags } from '../givenFlags.js';
import type { CliContext } from '../context.js';
import { envCommand } from './env.js';
import { GENERATE_DEFAULTS, generateCommand } from './generate.js';
import { TRAIN_DEFAULTS, trainCommand } from './train.js';
import { TRAIN_TOKENIZER_DEFAULTS, trainTokenizerCommand } from './trainTokenizer.js';
import { registerInpaint } from './inpaint.js';
import { registerOutpaint } from './outpaint.js';
import { registerEdit } from './edit.js';
import { registerInterpolate } from './interpolate.js';
import { registerEnrich } from './enrich.js';
import { registerEncode } from './encode.js';
import { registerDecode } from './decode.js';
import { registerHash } from './hash.js';
import { registerSearch } from './search.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerEvaluationCommands } from './evaluation.js';
import { registerStudy } from './study.js';
import { generationOptions } from './imageApps.js';

/** Registers every subcommand on the program; `ctx()` gives the context once flags are parsed. */
export function registerCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('env')
    .description('versions, engines found, and why each missing one is missing')
    .action(async () => envCommand(ctx()));
  program
    .command('train-tokenizer')
    .description('train a binary autoencoder (B-AE) on a dataset; re-run to resume from the last checkpoint')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--data <dir>', "'fashion-mnist' (Debian package), an IDX directory or an image folder")
    .option('--out <dir>', 'model directory to write (checkpoints go to <out>/checkpoints)')
    .option('--preset <name>', 'B-AE preset, e.g. fashion-mnist-32, bae-256-d24')
    .option('--nf <n>', 'override base channels (GroupNorm groups follow unless --norm-groups is given)')
    .option('--norm-groups <n>', 'override GroupNorm groups')
    .option('--code-dim <k>', 'override code bits per token K')
    .option('--steps <n>', 'total optimisation steps')
    .option('--batch-size <n>', 'images per step')
    .option('--lr <x>', 'learning rate')
    .option('--seed <n>', 'random seed')
    .option('--limit <n>', 'use only the first n images')
    .option('--checkpoint-every <n>', 'steps between checkpoints')
    .option('--code-mode <mode>', 'bernoulli (official) or threshold')
    .option(
      '--weights <which>',
      "weights to export: 'raw' (right for short runs like the README's) or 'ema' " +
        '(the released practice; the EMA starts at step 0, so it needs tens of thousands of steps)',
    )
    .option('--force-resume', 'resume the checkpoint in --out even though settings changed (the change is recorded)')
    .action(async (_flags: unknown, cmd: Command) => trainTokenizerCommand(ctx(), givenFlags(cmd, TRAIN_TOKENIZER_DEFAULTS)));
  program
    .command('train')
    .description('train a BiGR backbone + binary transcoder on the codes of a trained tokenizer; re-run to resume')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--tokenizer <dir>', 'tokenizer model directory (from bigr train-tokenizer)')
    .option('--data <dir>', "'fashion-mnist', an IDX directory or an image folder")
    .option('--out <dir>', 'model directory to write (checkpoints in <out>/checkpoints)')
    .option('--preset <name>', 'model size: BiGR-XS, BiGR-S, BiGR-L, ...')
    .option('--dim <n>', 'override width D')
    .option('--layers <n>', 'override layers')
    .option('--heads <n>', 'override attention heads')
    .option('--denoiser-width <n>', 'override transcoder width')
    .option('--denoiser-blocks <n>', 'override transcoder blocks')
    .option('--dropout <p>', 'residual and FFN dropout (released 0.1)')
    .option(
      '--weights <which>',
      "weights to export: 'raw' (right for short runs like the README's) or 'ema' " +
        '(the released practice; the EMA starts at step 0, so it needs tens of thousands of steps)',
    )
    .option('--steps <n>', 'total optimisation steps')
    .option('--batch-size <n>', 'images per step')
    .option('--lr <x>', 'peak learning rate (warm-up + cosine to lr/10)')
    .option('--warmup <n>', 'warm-up steps')
    .option('--ema-decay <x>', 'EMA decay of the saved weights (released 0.9999 suits long runs only)')
    .option('--seed <n>', 'random seed')
    .option('--limit <n>', 'use only the first n images')
    .option('--checkpoint-every <n>', 'steps between checkpoints')
    .option('--force-resume', 'resume the checkpoint in --out even though settings changed (the change is recorded)')
    .action(async (_flags: unknown, cmd: Command) => trainCommand(ctx(), givenFlags(cmd, TRAIN_DEFAULTS)));
  const generate = program
    .command('generate')
    .description('generate images with a BiGR model (the bundled Fashion-MNIST model by default)')
    .option('--config <file>', 'JSON file with any of the settings below')
    .option('--model <dir>', 'BiGR model directory (default: bundled fashion-mnist model)')
    .option('--class <name|index>', "class name or index; 'all' cycles through classes, 'none' is unconditional")
    .option('--n <n>', 'number of images')
    .option(
      '--out <file.png|dir/>',
      'output grid PNG (a .json sidecar is written beside it), or a folder (ending in /): one PNG per image, on every core, resumable',
    )
    .option('--cols <n>', 'grid columns')
    .option('--seed <n>', 'random seed (image k gets seed + k)')
    .option('--batch-size <n>', 'folder output: images per sampling call')
    .option('--workers <n>', 'folder output: worker threads (0 = every core)');
  generationOptions(generate).action(async (_flags: unknown, cmd: Command) => generateCommand(ctx(), givenFlags(cmd, GENERATE_DEFAULTS)));
  registerInpaint(program, ctx);
  registerOutpaint(program, ctx);
  registerEdit(program, ctx);
  registerInterpolate(program, ctx);
  registerEnrich(program, ctx);
  registerEncode(program, ctx);
  registerDecode(program, ctx);
  registerHash(program, ctx);
  registerSearch(program, ctx);
  registerImport(program, ctx);
  registerExport(program, ctx);
  registerEvaluationCommands(program, ctx);
  registerStudy(program, ctx);
}
