import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, type CpuTensor } from '@bigr/core';

/** Directory of the official tiny fixtures. */
export function fixtureDir(): string {
  const root = process.env['BIGR_REPO_ROOT'];
  if (!root) throw new Error('BIGR_REPO_ROOT is not set (jest setup)');
  return join(root, 'packages/testing/fixtures/official-tiny');
}

/** Tensors of a fixture safetensors file. */
export function readFixture(name: string): Map<string, CpuTensor> {
  const path = join(fixtureDir(), name);
  return parseSafetensors(new Uint8Array(readFileSync(path)), { source: path }).tensors;
}

/** A fixture JSON file. */
export function readFixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(fixtureDir(), name), 'utf8')) as T;
}
