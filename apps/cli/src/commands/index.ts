import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { envCommand } from './env.js';

/** Registers every subcommand on the program; `ctx()` gives the context once flags are parsed. */
export function registerCommands(program: Command, ctx: () => CliContext): void {
  program
    .command('env')
    .description('versions, engines found, and why each missing one is missing')
    .action(async () => envCommand(ctx()));
}
