/**
 * Memory stays flat over many sampling calls: 1,000 calls of the sampler's `generate` (backbone, transcoder with CFG,
 * tokenizer decode) on a tiny model on onnx-cpu, in a child process started with --expose-gc so every measurement
 * follows full garbage collections (testing/samplingLeakProbe.ts). RSS and JS heap are compared after a warm-up of
 * 100 calls and after all 1,000.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTsChild } from './testing/childCli.js';
import { required } from '@bigr/core';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'samplingLeakProbe.ts');
const MiB = 1024 * 1024;

interface Sample {
  readonly calls: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bigr-leak-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('sampling memory', () => {
  it('1,000 generate calls on onnx-cpu: RSS and JS heap flat after a 100-call warm-up', async () => {
    const run = await startTsChild(PROBE, [root, '1000', '100', '150'], { nodeFlags: ['--expose-gc'], env: { BIGR_DEVICE: undefined, BIGR_THREADS: '1' } })
      .exited;
    expect([run.code, run.stderr]).toEqual([0, '']);
    const result = JSON.parse(required(run.stdout.trim().split('\n').at(-1), 'last line of the probe')) as {
      engine: string;
      calls: number;
      seconds: number;
      samples: Sample[];
    };
    expect(result.engine).toBe('onnx-cpu');
    const first = required(result.samples[0], 'first sample');
    const last = required(result.samples.at(-1), 'last sample');
    expect([first.calls, last.calls]).toEqual([100, 1000]);
    const samples = result.samples.map(
      (s) => `${s.calls}: rss ${(s.rss / MiB).toFixed(1)} MiB, heap ${(s.heapUsed / MiB).toFixed(2)} MiB, external ${(s.external / MiB).toFixed(2)} MiB`,
    );
    process.stdout.write(`sampling memory over ${result.calls} calls (${result.seconds.toFixed(1)} s): ${samples.join('; ')}\n`);
    // A leaked onnxruntime tensor, session or output buffer per call would add at least tens of KiB each time
    // (tens of MiB over 900 calls); allocator warm-up and fragmentation stay far below these bounds.
    expect((last.rss - first.rss) / MiB).toBeLessThan(64);
    expect((last.heapUsed - first.heapUsed) / MiB).toBeLessThan(2);
    expect((last.external - first.external) / MiB).toBeLessThan(2);
  }, 180_000);
});
