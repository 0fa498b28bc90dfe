import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError, readSafetensors, type SafetensorsContent } from '@bigr/core';

/** Location of the official-tiny fixtures relative to the repository root. */
export const OFFICIAL_TINY_DIR = 'packages/testing/fixtures/official-tiny';

/**
 * Directory of the official-tiny fixtures: `$BIGR_REPO_ROOT/packages/testing/fixtures/official-tiny` when
 * `BIGR_REPO_ROOT` is set (the jest setup sets it), else `../fixtures/official-tiny` relative to this file.
 */
export function fixtureDir(): string {
  const root = process.env['BIGR_REPO_ROOT'];
  if (root) return join(root, OFFICIAL_TINY_DIR);
  return fileURLToPath(new URL('../fixtures/official-tiny/', import.meta.url));
}

/**
 * Absolute path of an official-tiny fixture file, e.g. `fixturePath('backbone.safetensors')`. Throws a ConfigError
 * for names that leave the fixture directory and a NotFoundError (listing the available files) when it does not exist.
 */
export function fixturePath(name: string): string {
  if (!name || isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw new ConfigError(`Fixture name "${name}" is invalid; pass a file name inside ${OFFICIAL_TINY_DIR}, e.g. "backbone.safetensors".`);
  }
  const dir = fixtureDir();
  const path = join(dir, name);
  if (!existsSync(path)) {
    const available = existsSync(dir) ? readdirSync(dir).sort().join(', ') : `(directory ${dir} is missing)`;
    throw new NotFoundError(`Fixture "${name}" does not exist in ${dir}. Available: ${available}. Check BIGR_REPO_ROOT if the directory is wrong.`);
  }
  return path;
}

/** Reads an official-tiny safetensors fixture (tensors by official state-dict name, plus `__metadata__`). */
export async function loadFixture(name: string): Promise<SafetensorsContent> {
  return readSafetensors(fixturePath(name));
}

const NON_FINITE_MARK = '\u0000nonfinite:';

/**
 * Parses JSON as written by Python's `json` module, which emits the bare tokens `NaN`, `Infinity` and `-Infinity`
 * (e.g. in `MANIFEST.json`); they become the corresponding numbers.
 */
export function parsePythonJson(text: string): unknown {
  const quoted = text.replace(/([[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])/g, (_, pre: string, tok: string) => `${pre}"\\u0000nonfinite:${tok}"`);
  return JSON.parse(quoted, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(NON_FINITE_MARK) ? Number(value.slice(NON_FINITE_MARK.length)) : value,
  ) as unknown;
}

/** Reads and parses an official-tiny JSON fixture (e.g. `tiny_transformer_config.json`, `MANIFEST.json`; see {@link parsePythonJson}). */
export async function loadJsonFixture(name: string): Promise<unknown> {
  return parsePythonJson(await readFile(fixturePath(name), 'utf8'));
}
