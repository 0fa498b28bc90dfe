import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashIndex } from '@bigr/tokenizer';
import { runCli } from '../testing/runCli.js';
import { writeTestPng, writeTinyModel, type TinyModel } from '../testing/tinyModel.js';
import type { SearchHit } from './search.js';
import { required } from '@bigr/core';

let root: string;
let model: TinyModel;
let other: TinyModel;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-hash-'));
  model = await writeTinyModel(join(root, 'm'));
  other = await writeTinyModel(join(root, 'o'), { seed: 1 });
  data = join(root, 'data');
  for (const [cls, variants] of [
    ['bag', [0, 1]],
    ['shirt', [2, 3]],
  ] as const) {
    await mkdir(join(data, cls), { recursive: true });
    for (const v of variants) await writeTestPng(join(data, cls, `${v}.png`), { variant: v });
  }
  await writeTestPng(join(root, 'extra.png'), { variant: 4 });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bigr hash / search', () => {
  it('builds an index from a class folder, appends new images once, and finds exact matches at distance 0', async () => {
    const index = join(root, 'idx', 'index.bhx');
    const built = await runCli(['--json', 'hash', data, '--model', model.modelDir, '--index', index]);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ added: 4, size: 4, tokens: 16, bitsPerToken: 12, codeMode: 'threshold' });

    const appended = await runCli(['--json', 'hash', join(root, 'extra.png'), join(data, 'bag', '0.png'), '--model', model.modelDir, '--index', index]);
    expect(appended.code).toBe(0);
    expect(JSON.parse(appended.stdout)).toMatchObject({ added: 1, size: 5 });

    const loaded = await HashIndex.load(index);
    expect(loaded.size).toBe(5);
    const sidecar = JSON.parse(await readFile(join(root, 'idx', 'index.bhx.json'), 'utf8')) as {
      entries: { id: number; path: string; label: string | null }[];
      codeMode: string;
    };
    expect(sidecar.codeMode).toBe('threshold');
    expect(sidecar.entries.map((e) => [e.id, e.label])).toEqual([
      [0, 'bag'],
      [1, 'bag'],
      [2, 'shirt'],
      [3, 'shirt'],
      [4, null],
    ]);

    const query = join(data, 'shirt', '3.png');
    const r = await runCli(['--json', 'search', query, '--model', model.modelDir, '--index', index, '--k', '3']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { bits: number; queries: { image: string; neighbours: SearchHit[] }[] };
    expect(res.bits).toBe(16 * 12);
    const hits = required(res.queries[0], 'queries').neighbours;
    expect(hits).toHaveLength(3);
    expect(hits[0]).toMatchObject({ rank: 1, distance: 0, path: query, label: 'shirt', id: 3 });
    // distances agree with a naive popcount over the stored codes, ascending
    const q = loaded.code(3);
    const naive = Array.from({ length: 5 }, (_, i) => {
      const c = loaded.code(i);
      let d = 0;
      for (let b = 0; b < c.length; b++) for (let x = required(c[b], 'code byte') ^ required(q[b], 'code byte'); x; x >>= 1) d += x & 1;
      return d;
    });
    for (const h of hits) expect(h.distance).toBe(naive[h.id]);
    expect(hits.map((h) => h.distance)).toEqual([...hits.map((h) => h.distance)].sort((a, b) => a - b));

    const human = await runCli(['search', query, '--model', model.modelDir, '--index', index, '--k', '2']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/1\.\s+distance\s+0\/192\s+\S*shirt\/3\.png\s+\[shirt\]/);
  });

  it('refuses to append codes of another tokenizer and maps errors to exit codes', async () => {
    const index = join(root, 'other.bhx');
    expect((await runCli(['--quiet', 'hash', join(root, 'extra.png'), '--model', model.modelDir, '--index', index])).code).toBe(0);
    const mixed = await runCli(['hash', join(data, 'bag'), '--model', other.modelDir, '--index', index]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/another tokenizer/);
    expect((await runCli(['search', join(root, 'extra.png'), '--model', model.modelDir, '--index', join(root, 'none.bhx')])).code).toBe(3);
    expect((await runCli(['search', join(root, 'extra.png'), '--model', model.modelDir, '--index', index, '--k', '0'])).code).toBe(2);
    expect((await runCli(['search', join(root, 'nope.png'), '--model', model.modelDir, '--index', index])).code).toBe(3);
    expect((await runCli(['hash', join(root, 'nope'), '--model', model.modelDir, '--index', index])).code).toBe(3);
    expect((await runCli(['search', '--index', index])).code).toBe(2); // missing <images...>
  });
});
