// Node module hooks that run the TypeScript sources directly (as the jest preset does), so tests can start the
// real `bigr` command in a child process and kill it (kill -9 / SIGTERM tests) without a build:
//   node --import ./apps/cli/src/testing/registerTsLoader.mjs apps/cli/src/testing/cliEntry.ts <args>
// @bigr/<pkg> maps to packages/<pkg>/src/index.ts (and @bigr/cli to apps/cli/src/index.ts); './x.js' specifiers
// map to './x.ts' when that file exists; .ts files are compiled by @swc/core to ESM.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from '@swc/core';

const repoRoot = resolvePath(dirname(fileURLToPath(import.meta.url)), '../../../..');

export async function resolve(specifier, context, next) {
  const pkg = /^@bigr\/([a-z-]+)$/.exec(specifier);
  if (pkg) {
    const file = pkg[1] === 'cli' ? join(repoRoot, 'apps/cli/src/index.ts') : join(repoRoot, 'packages', pkg[1], 'src/index.ts');
    if (existsSync(file)) return { url: pathToFileURL(file).href, shortCircuit: true };
  }
  if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const ts = fileURLToPath(new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL));
    if (existsSync(ts)) return { url: pathToFileURL(ts).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const out = await transform(source, {
    filename: fileURLToPath(url),
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  });
  return { format: 'module', source: out.code, shortCircuit: true };
}
