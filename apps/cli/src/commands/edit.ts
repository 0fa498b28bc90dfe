import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { regionAction, regionOptions } from './inpaint.js';

/** Registers `bigr edit`: regenerates the region (white / boxes) conditioned on `--class` (docs/algorithm.md §8.1). */
export function registerEdit(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('edit')
    .description('regenerate a region of an image as a target class (zero-shot class-conditional editing); writes a grid of samples')
    .argument('<image>', 'input PNG/JPEG')
    .option('--class <name|index>', 'target class (name, prefix of a name, or index)');
  regionOptions(cmd, 'edit').action(regionAction('edit', ctx));
}
