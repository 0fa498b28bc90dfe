/**
 * Fuzz harness: mutated inputs through every parser and config loader, with a fixed seed and a
 * bounded case count. Each case must either succeed or throw a typed @bigr/core error with a message; no other
 * exception (TypeError, RangeError, stack overflow), no case slower than the time budget, and a bounded RSS.
 *
 *   BIGR_FUZZ_SCALE=10 npx jest src/fuzz.test.ts     # 10× the cases (longer runs)
 *   BIGR_FUZZ_SEED=123 ...                            # another seed
 *   BIGR_FUZZ_REPORT=1 ...                            # print the counts (cases, crashes, hangs, max RSS)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  BigrError,
  createRng,
  CpuTensor,
  loadTrainerCheckpoint,
  parseIdx,
  parseJsonBounded,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensors,
  required,
  getOrThrow,
} from '@bigr/core';
import { decodeImage, encodePng, HashIndex } from '@bigr/tokenizer';
import { readBigrModel } from './bigrModelDir.js';
import { readTokenizerModel } from './tokenizerModelDir.js';
import { resolveConfig } from './config.js';
import { GENERATE_DEFAULTS } from './commands/generate.js';
import { readCodesFile, writeCodesFile } from './commands/imageApps.js';
import { readIndexMetadata } from './commands/hash.js';
import { writeTinyModel, type TinyModel } from './testing/tinyModel.js';

const SCALE = Number(process.env['BIGR_FUZZ_SCALE'] ?? '1');
const SEED = Number(process.env['BIGR_FUZZ_SEED'] ?? '20250118');
/** Time budget of one case (generous: CI shares two cores with other jobs). */
const CASE_BUDGET_MS = 3000;
/** RSS budget above the process's RSS at the start of the harness. */
const RSS_BUDGET_BYTES = 512 * 1024 * 1024;

const root = mkdtempSync(join(tmpdir(), 'bigr-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Stats {
  cases: number;
  typedErrors: number;
  crashes: string[];
  hangs: string[];
  maxMs: number;
  maxRssDelta: number;
}
const stats = new Map<string, Stats>();
const baseRss = process.memoryUsage().rss;

/** Runs one case: records success / typed error / crash (any other exception) / hang, time and RSS. */
async function fuzzCase(target: string, run: () => unknown): Promise<void> {
  const s = stats.get(target) ?? { cases: 0, typedErrors: 0, crashes: [], hangs: [], maxMs: 0, maxRssDelta: 0 };
  stats.set(target, s);
  s.cases++;
  const t0 = performance.now();
  try {
    await run();
  } catch (err) {
    if (err instanceof BigrError && err.message.length > 10) s.typedErrors++;
    else s.crashes.push(`${(err as Error)?.name}: ${String((err as Error)?.message).slice(0, 200)}`);
  }
  const ms = performance.now() - t0;
  s.maxMs = Math.max(s.maxMs, ms);
  if (ms > CASE_BUDGET_MS) s.hangs.push(`${ms.toFixed(0)} ms`);
  s.maxRssDelta = Math.max(s.maxRssDelta, process.memoryUsage().rss - baseRss);
}

function expectClean(target: string): void {
  const s = getOrThrow(stats, target);
  expect({ target, crashes: s.crashes.slice(0, 5), hangs: s.hangs.slice(0, 5) }).toEqual({ target, crashes: [], hangs: [] });
  expect(s.maxRssDelta).toBeLessThan(RSS_BUDGET_BYTES);
}

/** Byte-level mutations of a valid file: flips, overwrites (incl. 0x00/0xff runs that make huge lengths), inserts, deletes, truncation. */
const mutation = fc.record({
  kind: fc.constantFrom('flip', 'set', 'ff-run', 'zero-run', 'insert', 'delete', 'truncate'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  byte: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 16 }),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
const mutations = fc.array(mutation, { minLength: 1, maxLength: 6 });

function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of ms) {
    const at = Math.min(b.length, Math.floor(m.at * b.length));
    switch (m.kind) {
      case 'flip':
        if (at < b.length) b[at] = required(b[at], 'byte') ^ (1 << (m.byte % 8));
        break;
      case 'set':
        if (at < b.length) b[at] = m.byte;
        break;
      case 'ff-run':
      case 'zero-run':
        for (let i = at; i < Math.min(b.length, at + m.len); i++) b[i] = m.kind === 'ff-run' ? 0xff : 0;
        break;
      case 'insert': {
        const ins = new Uint8Array(m.len).fill(m.byte);
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + m.len))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** JSON-level mutation of a config: replace, delete or deepen the value at a random path with a hostile value. */
const hostileValue = fc.oneof(
  fc.constantFrom(1e9, 2 ** 31, 1e308, -1, 0, 0.5, -0, 1e-300, '', '../../etc', '/abs', null, true, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  // Deep nesting is spliced into the JSON text by stringifyEdited (JSON.stringify itself cannot write it).
  fc.integer({ min: 1, max: 100 }).map((d) => `__DEEP_${d * 100}__`),
);

/** JSON text of `value`, with every `"__DEEP_n__"` string replaced by arrays nested n deep. */
function stringifyEdited(value: unknown): string {
  return JSON.stringify(value).replace(/"__DEEP_(\d+)__"/g, (_m, n: string) => `${'['.repeat(Number(n))}${']'.repeat(Number(n))}`);
}
const jsonEdit = fc.record({ pathPick: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), op: fc.constantFrom('replace', 'delete'), value: hostileValue });
type JsonEdit = typeof jsonEdit extends fc.Arbitrary<infer E> ? E : never;

function editJson(value: unknown, edits: readonly JsonEdit[]): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  for (const e of edits) {
    let node = copy as Record<string, unknown>;
    for (let d = 0; d < e.pathPick.length; d++) {
      if (typeof node !== 'object' || node === null) break;
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = required(keys[required(e.pathPick[d], 'path pick') % keys.length], 'key');
      const last = d === e.pathPick.length - 1 || typeof node[key] !== 'object' || node[key] === null;
      if (last) {
        if (e.op === 'delete') delete node[key];
        else node[key] = e.value;
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
  }
  return copy;
}

function runs(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}

let tiny: TinyModel;
beforeAll(async () => {
  tiny = await writeTinyModel(join(root, 'tiny'));
});

describe('fuzz: binary parsers', () => {
  it('safetensors', async () => {
    const valid = serializeSafetensors(
      new Map([
        ['w', CpuTensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3])],
        ['i', CpuTensor.fromArray([7], [1], 'int32')],
      ]),
      { note: 'x' },
    );
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) => fuzzCase('safetensors', () => parseSafetensors(mutate(valid, ms)))),
      { seed: SEED, numRuns: runs(500) },
    );
    expectClean('safetensors');
  });

  it('IDX, raw and gzipped', async () => {
    const idx = new Uint8Array(4 + 12 + 2 * 3 * 3);
    idx[2] = 0x08;
    idx[3] = 3;
    const dv = new DataView(idx.buffer);
    [2, 3, 3].forEach((d, i) => {
      dv.setUint32(4 + 4 * i, d, false);
    });
    const gz = gzipSync(idx);
    await fc.assert(
      fc.asyncProperty(mutations, fc.boolean(), async (ms, zipped) => fuzzCase('idx', () => parseIdx(mutate(zipped ? gz : idx, ms), { maxBytes: 1 << 20 }))),
      { seed: SEED, numRuns: runs(400) },
    );
    expectClean('idx');
  });

  it('PNG images', async () => {
    const data = new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 256);
    const png = encodePng({ width: 8, height: 8, channels: 3, data });
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) => fuzzCase('png', () => decodeImage(mutate(png, ms), { channels: 3 }))),
      { seed: SEED, numRuns: runs(300) },
    );
    expectClean('png');
  });

  it('hash index files (.bhx) and their sidecars', async () => {
    const index = new HashIndex(4, 12, 4);
    const rng = createRng('fuzz-index');
    const bits = new Uint8Array(3 * 4 * 12).map(() => (rng.uniform() < 0.5 ? 1 : 0));
    const { packBits } = await import('@bigr/core');
    index.add(packBits(new CpuTensor(bits, [3, 4, 12])), [0, 1, 2]);
    const path = join(root, 'i.bhx');
    await index.save(path);
    const valid = new Uint8Array(await (await import('node:fs/promises')).readFile(path));
    const sidecar = new TextEncoder().encode(
      JSON.stringify({ command: 'hash', output: path, entries: [{ id: 0, path: 'a.png', label: 'x' }], tokenizerHash: 'ab', codeMode: 'threshold' }),
    );
    await fc.assert(
      fc.asyncProperty(mutations, mutations, async (ms, ms2) =>
        fuzzCase('hash-index', async () => {
          const p = join(root, 'm.bhx');
          await writeFile(p, mutate(valid, ms));
          await writeFile(`${p}.json`, mutate(sidecar, ms2));
          await HashIndex.load(p);
          await readIndexMetadata(p);
        }),
      ),
      { seed: SEED, numRuns: runs(250) },
    );
    expectClean('hash-index');
  });

  it('codes files (.bigr)', async () => {
    const path = join(root, 'c.bigr');
    await writeCodesFile(path, {
      bits: new CpuTensor(new Uint8Array(2 * 16 * 12).fill(1), [2, 16, 12]),
      grid: [4, 4],
      tokenizerHash: 'ab',
      imageShape: [1, 32, 32],
      pad: 2,
      codeMode: 'threshold',
      sources: ['a.png', 'b.png'],
    });
    const valid = new Uint8Array(await (await import('node:fs/promises')).readFile(path));
    await fc.assert(
      fc.asyncProperty(mutations, async (ms) =>
        fuzzCase('codes', async () => {
          await writeFile(join(root, 'm.bigr'), mutate(valid, ms));
          await readCodesFile(join(root, 'm.bigr'));
        }),
      ),
      { seed: SEED, numRuns: runs(250) },
    );
    expectClean('codes');
  });
});

describe('fuzz: config loaders', () => {
  it('command --config files', async () => {
    const valid = { n: 4, class: 'all', iterations: 10, cfg: 2.5 };
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), fc.oneof(fc.constant(null), fc.string({ maxLength: 40 })), async (edits, raw) =>
        fuzzCase('command-config', async () => {
          const p = join(root, 'cfg.json');
          await writeFile(p, raw ?? stringifyEdited(editJson(valid, edits)));
          await resolveConfig({ command: 'generate', defaults: GENERATE_DEFAULTS, configFile: p, flags: {} });
        }),
      ),
      { seed: SEED, numRuns: runs(250) },
    );
    expectClean('command-config');
  });

  it('BiGR and tokenizer model config.json', async () => {
    const { readFile } = await import('node:fs/promises');
    const bigrCfg = JSON.parse(await readFile(join(tiny.modelDir, 'config.json'), 'utf8')) as unknown;
    const tokCfg = JSON.parse(await readFile(join(tiny.tokenizerDir, 'config.json'), 'utf8')) as unknown;
    const dir = join(root, 'model');
    await mkdir(join(dir, 'tokenizer'), { recursive: true });
    const { copyFile } = await import('node:fs/promises');
    await copyFile(join(tiny.modelDir, 'model.safetensors'), join(dir, 'model.safetensors'));
    await copyFile(join(tiny.tokenizerDir, 'model.safetensors'), join(dir, 'tokenizer', 'model.safetensors'));
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), fc.boolean(), async (edits, tokenizer) =>
        fuzzCase('model-config', async () => {
          if (tokenizer) {
            await writeFile(join(dir, 'tokenizer', 'config.json'), stringifyEdited(editJson(tokCfg, edits)));
            await readTokenizerModel(join(dir, 'tokenizer'));
          } else {
            await writeFile(join(dir, 'config.json'), stringifyEdited(editJson(bigrCfg, edits)));
            await readBigrModel(dir);
          }
        }),
      ),
      { seed: SEED, numRuns: runs(300) },
    );
    expectClean('model-config');
  });

  it('trainer checkpoints (latest.json, trainer.json)', async () => {
    const dir = join(root, 'ckpt');
    const sub = join(dir, 'step-000000002');
    await mkdir(sub, { recursive: true });
    const p = new Map([['w', CpuTensor.fromArray([1, 2], [2])]]);
    await writeSafetensors(join(sub, 'params.safetensors'), p);
    await writeSafetensors(
      join(sub, 'optimizer.safetensors'),
      new Map([
        ['exp_avg.w', CpuTensor.fromArray([0, 0], [2])],
        ['exp_avg_sq.w', CpuTensor.fromArray([0, 0], [2])],
      ]),
    );
    const manifest = {
      format: 'bigr-trainer-checkpoint',
      version: 1,
      step: 2,
      rng: createRng(0).getState(),
      optimizer: { step: 2 },
      ema: null,
      learningRate: 0.001,
      losses: [1, 0.5],
      config: { kind: 'x' },
      files: { params: 'params.safetensors', ema: null, optimizer: 'optimizer.safetensors' },
    };
    const latest = { format: 'bigr-trainer-checkpoint', step: 2, path: 'step-000000002' };
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), fc.boolean(), async (edits, which) =>
        fuzzCase('checkpoint', async () => {
          await writeFile(join(dir, 'latest.json'), stringifyEdited(which ? editJson(latest, edits) : latest));
          await writeFile(join(sub, 'trainer.json'), stringifyEdited(which ? manifest : editJson(manifest, edits)));
          await loadTrainerCheckpoint(dir);
        }),
      ),
      { seed: SEED, numRuns: runs(200) },
    );
    expectClean('checkpoint');
    await rm(dir, { recursive: true, force: true });
  });

  it('bounded JSON on arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.integer({ min: 1, max: 50000 }).map((d) => '{"a":'.repeat(d)),
        ),
        async (text) => fuzzCase('json', () => parseJsonBounded(text)),
      ),
      { seed: SEED, numRuns: runs(300) },
    );
    expectClean('json');
  });
});

afterAll(() => {
  const all = [...stats.values()];
  const total = {
    cases: all.reduce((s, x) => s + x.cases, 0),
    typedErrors: all.reduce((s, x) => s + x.typedErrors, 0),
    crashes: all.reduce((s, x) => s + x.crashes.length, 0),
    hangs: all.reduce((s, x) => s + x.hangs.length, 0),
    maxMsPerCase: Math.round(Math.max(...all.map((x) => x.maxMs))),
    maxRssDeltaMiB: Math.round(Math.max(...all.map((x) => x.maxRssDelta)) / 2 ** 20),
  };
  if (process.env['BIGR_FUZZ_REPORT']) {
    process.stderr.write(`fuzz seed ${SEED}: ${JSON.stringify(total)}\n`);
    for (const [k, v] of stats)
      process.stderr.write(
        `  ${k}: ${v.cases} cases, ${v.typedErrors} typed errors, ${v.crashes.length} crashes, ${v.hangs.length} hangs, max ${v.maxMs.toFixed(0)} ms, ` +
          `max RSS +${(v.maxRssDelta / 2 ** 20).toFixed(0)} MiB\n`,
      );
  }
});
