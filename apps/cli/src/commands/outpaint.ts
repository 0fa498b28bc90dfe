import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { regionAction, regionOptions } from './inpaint.js';

/** Registers `bigr outpaint`: keeps the region (white / boxes) and regenerates the rest, unconditionally (docs/algorithm.md §8.1). */
export function registerOutpaint(program: Command, ctx: () => CliContext): void {
  const cmd = program
    .command('outpaint')
    .description('keep a region of an image and regenerate everything around it (zero-shot outpainting); writes a grid of samples')
    .argument('<image>', 'input PNG/JPEG');
  regionOptions(cmd, 'outpaint').action(regionAction('outpaint', ctx));
}
