#!/usr/bin/env node
// Runs the benchmark scripts one after another (each prints its own markdown table), after checking that the
// packages are built. The README's performance table comes from these scripts.
//   npm run build && npm run bench [-- --only=matmul,tokenizer] [-- --list]
// Flags other than --only/--list are passed to every script (e.g. --seconds=2). Exit code: the number of scripts
// that failed (0 when all ran).

// @ts-check
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './common.mjs';

/** In order: the matmul peak first (the others compare with it), the longest runs last. */
export const BENCHMARKS = ['matmul', 'tokenizer', 'transcoder', 'backbone', 'sampler', 'eval', 'train'];

const here = dirname(fileURLToPath(import.meta.url));
const args = parseArgs(import.meta.url);
if (args.list !== undefined) {
  console.log(BENCHMARKS.join('\n'));
  process.exit(0);
}
const only = args.only ? args.only.split(',').map((s) => s.trim()) : BENCHMARKS;
const unknown = only.filter((n) => !BENCHMARKS.includes(n));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark(s) ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')} (--list).`);
  process.exit(2);
}
const needed = ['core', 'engine-onnx', 'tokenizer', 'backbone', 'transcoder', 'sampler', 'eval'];
const missing = needed.filter((p) => !existsSync(join(here, '..', 'packages', p, 'dist', 'index.js')));
if (missing.length > 0) {
  console.error(`bench: packages not built (${missing.join(', ')}); run \`npm run build\` first.`);
  process.exit(2);
}
const passThrough = process.argv.slice(2).filter((a) => !a.startsWith('--only') && !a.startsWith('--list'));
let failed = 0;
for (const name of only) {
  console.log(`\n## ${name}\n`);
  const r = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...passThrough], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench: ${name}.mjs exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed);
