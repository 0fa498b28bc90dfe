#!/usr/bin/env node
/**
 * Checks that every published workspace package names the project's repository the same way. The one place the
 * repository is written is the root package.json (`repository.url`, `homepage`, `bugs.url`); each workspace package
 * that is not private must carry `repository` = { type: git, that url, directory: its folder },
 * `homepage` = `<root homepage>/tree/main/<folder>#readme` and `bugs.url` = the root's, because npm publishes each
 * package's own fields (CONTRIBUTING.md, "Package metadata"). Fails with one `<folder>/package.json: field` line per
 * difference, naming the expected value; `--fix` writes the expected values instead. Run by `npm run lint`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fix = process.argv.includes('--fix');
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const top = readJson(join(root, 'package.json'));

const url = top.repository?.url;
const home = top.homepage;
const bugs = top.bugs?.url;
if (typeof url !== 'string' || typeof home !== 'string' || typeof bugs !== 'string') {
  console.error('package.json: the root must declare repository.url, homepage and bugs.url (the one place they are written).');
  process.exit(1);
}

if (/example\.|your-org|todo|<|>|\.test\b/i.test(`${url} ${home} ${bugs}`)) {
  console.error(`package.json: the repository value ${url} looks like a placeholder; write the project's real repository there.`);
  process.exit(1);
}

// The workspaces are `<dir>/*` patterns: every sub-folder with a package.json.
const folders = (top.workspaces ?? []).flatMap((pattern) => {
  const base = pattern.replace(/\/\*$/, '');
  return readdirSync(join(root, base), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${base}/${entry.name}`)
    .sort();
});

let checked = 0;
let found = 0;
for (const folder of folders) {
  const path = join(root, folder, 'package.json');
  let pkg;
  try {
    pkg = readJson(path);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') continue;
    throw err;
  }
  if (pkg.private) continue;
  checked++;
  const expected = {
    repository: { type: 'git', url, directory: folder },
    homepage: `${home}/tree/main/${folder}#readme`,
    bugs: { url: bugs },
  };
  let changed = false;
  for (const [field, value] of Object.entries(expected)) {
    if (JSON.stringify(pkg[field]) === JSON.stringify(value)) continue;
    if (fix) {
      pkg[field] = value;
      changed = true;
    } else {
      console.error(`${folder}/package.json: "${field}" is ${JSON.stringify(pkg[field])}; expected ${JSON.stringify(value)}`);
      found++;
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
}
if (found > 0) {
  console.error(`${found} package metadata field(s) differ from the root package.json. Run node scripts/check-package-metadata.mjs --fix.`);
  process.exit(1);
}
console.log(`check-package-metadata: ${checked} published packages name ${url}`);
