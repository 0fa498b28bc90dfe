import { existsSync } from 'node:fs';
import { ConfigError, NotFoundError, required } from '@bigr/core';
import { fixturePath, loadFixture, loadJsonFixture, parsePythonJson } from './fixtures.js';

interface Manifest {
  files: Record<string, { arrays?: Record<string, { dtype: string; shape: number[]; first: number[] }> }>;
}

test('fixturePath resolves through BIGR_REPO_ROOT and falls back to a path relative to the module', () => {
  const viaRoot = fixturePath('backbone.safetensors');
  expect(existsSync(viaRoot)).toBe(true);
  const saved = process.env['BIGR_REPO_ROOT'];
  delete process.env['BIGR_REPO_ROOT'];
  try {
    expect(fixturePath('backbone.safetensors')).toBe(viaRoot);
  } finally {
    process.env['BIGR_REPO_ROOT'] = saved;
  }
});

test('fixturePath rejects escapes and lists the available files for unknown names', () => {
  expect(() => fixturePath('../package.json')).toThrow(ConfigError);
  expect(() => fixturePath('/etc/passwd')).toThrow(ConfigError);
  expect(() => fixturePath('nope.safetensors')).toThrow(NotFoundError);
  expect(() => fixturePath('nope.safetensors')).toThrow(/Available: .*backbone\.safetensors/);
});

test('loadFixture reads every safetensors fixture as listed in MANIFEST.json', async () => {
  const manifest = (await loadJsonFixture('MANIFEST.json')) as Manifest;
  const dtypes: Record<string, string> = { float32: 'float32', int32: 'int32', uint8: 'uint8', float64: 'float64' };
  for (const [file, entry] of Object.entries(manifest.files)) {
    if (!file.endsWith('.safetensors') || !entry.arrays) continue;
    const { tensors } = await loadFixture(file);
    for (const [name, info] of Object.entries(entry.arrays)) {
      expect({ file, name, present: tensors.has(name) }).toEqual({ file, name, present: true });
      const t = required(tensors.get(name), `${file}: ${name}`);
      expect([file, name, t.dtype, [...t.shape]]).toEqual([file, name, dtypes[info.dtype], info.shape]);
      expect([...t.data.subarray(0, info.first.length)].map(Number)).toEqual(info.first);
    }
  }
});

test('parsePythonJson accepts NaN and ±Infinity tokens but leaves strings alone', () => {
  expect(parsePythonJson('{"a": [1, -Infinity, NaN], "b": Infinity, "s": "NaN"}')).toEqual({ a: [1, -Infinity, NaN], b: Infinity, s: 'NaN' });
});

test('loadJsonFixture parses JSON fixtures', async () => {
  const config = (await loadJsonFixture('tiny_transformer_config.json')) as { model_args: { dim: number } };
  expect(config.model_args.dim).toBe(64);
});
