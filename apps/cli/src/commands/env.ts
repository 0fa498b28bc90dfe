import { probeEngines } from '@bigr/core';
import type { CliContext } from '../context.js';
import { CLI_VERSION } from '../version.js';
import os from 'node:os';

/** `bigr env`: versions, engines found, and why each missing one is missing. */
export async function envCommand(ctx: CliContext): Promise<void> {
  const engines = await probeEngines();
  const info = {
    bigr: CLI_VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    device: process.env['BIGR_DEVICE'] ?? 'auto',
    engines,
  };
  ctx.result(info);
  ctx.out(`bigr ${info.bigr}  node ${info.node}  ${info.platform}  ${info.cpus} cpus  ${info.memoryGiB} GiB`);
  ctx.out(`BIGR_DEVICE=${info.device}`);
  ctx.out('engines:');
  for (const e of engines) {
    ctx.out(`  ${e.available ? 'ok     ' : 'missing'} ${e.name.padEnd(16)} ${e.purposes.join('+').padEnd(18)} ${e.reason ?? ''}`);
  }
}
