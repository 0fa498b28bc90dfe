#!/usr/bin/env node
/**
 * Fails with file:line for every line longer than 160 characters in the committed JavaScript and TypeScript
 * sources. Biome's formatter wraps code at that width (biome.json) but leaves comments and string literals as
 * written, so those are wrapped by hand: comments re-flowed, long messages split into pieces joined with `+`.
 * Fixture directories hold generated data and are skipped, as in biome.json. Run by `npm run lint`.
 */

// @ts-check
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX = 160;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.js', '*.mjs', '*.cjs'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && !f.split('/').includes('fixtures'));

let found = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch (err) {
    // A file deleted in the working tree but not yet in git's index has nothing to check.
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') continue;
    throw err;
  }
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    // Code points, not UTF-16 units or bytes: `×`, `§` and `—` count once.
    const length = [...line].length;
    if (length > MAX) {
      console.error(`${file}:${i + 1}: ${length} characters (at most ${MAX})`);
      found++;
    }
  }
}
if (found > 0) {
  console.error(`${found} line(s) longer than ${MAX} characters. Re-flow comments and split long strings with + (see CONTRIBUTING.md).`);
  process.exit(1);
}
console.log(`check-line-length: ${files.length} files, no line longer than ${MAX} characters`);
