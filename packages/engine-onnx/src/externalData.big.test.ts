// A > 2 GiB model (three 14336x14336 float32 MatMul weights, 2.3 GiB) through ONNX external data. Needs
// ~8 GiB of RAM, ~2.5 GiB of free disk in the temp directory and a minute or two, so it only runs with
// BIGR_BIG_TESTS=1 (e.g. `BIGR_BIG_TESTS=1 npx jest externalData.big`); it prints time and peak memory.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, CpuTensor, at, getOrThrow, required } from '@bigr/core';
import type { GraphDefinition, NamedTensors, Ops } from '@bigr/core';
import { buildOnnxModel } from './buildModel.js';
import { exportOnnxModel } from './exportModel.js';
import { type OnnxCompiledGraph, OnnxEngine } from './onnxEngine.js';
import * as R from './test/reference.js';

const big = process.env['BIGR_BIG_TESTS'] === '1' ? describe : describe.skip;

const N = 14336;
const LAYERS = 3;

/** y = x · W0ᵀ · W1ᵀ · W2ᵀ (each matMul with a transposed weight, as `linear` does). */
const def: GraphDefinition = {
  name: 'huge',
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', N] }],
  outputs: ['y'],
  build<T>(ops: Ops<T>, v: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
    let h: T = required(v['x'], 'input x');
    for (let l = 0; l < LAYERS; l++) h = ops.matMul(h, ops.param(`w${l}`), false, true);
    return { y: h };
  },
};

/** Peak resident memory of this process in GiB (VmHWM), and the current RSS. */
function memory(): string {
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 2 ** 20;
  return `peak ${hwm.toFixed(2)} GiB, now ${(process.memoryUsage().rss / 2 ** 30).toFixed(2)} GiB`;
}

function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // Linux: resets VmHWM to the current RSS
  } catch {
    // not Linux: the peak then covers the whole process
  }
}

big('external data: a model over 2 GiB', () => {
  const params: NamedTensors = new Map();
  const x = new Float32Array(N);
  let expected: R.Ref;
  let dir: string;

  beforeAll(async () => {
    const t0 = Date.now();
    const scale = 1 / (9 * Math.sqrt(N));
    for (let l = 0; l < LAYERS; l++) {
      const w = new Float32Array(N * N);
      for (let j = 0; j < N; j++) {
        const row = j * N;
        for (let i = 0; i < N; i++) w[row + i] = (((i * 31 + j * 17 + l * 7) % 19) - 9) * scale;
      }
      params.set(`w${l}`, new CpuTensor(w, [N, N]));
    }
    const rand = R.makeRandom(5);
    for (let i = 0; i < N; i++) x[i] = rand() * 2 - 1;
    // float64 reference: h ← W h per layer (W row-major, so y_j = Σ_i W[j, i] h_i).
    let h = Float64Array.from(x);
    for (let l = 0; l < LAYERS; l++) {
      const w = getOrThrow(params, `w${l}`).data as Float32Array;
      const next = new Float64Array(N);
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (const [i, wi] of w.subarray(j * N, (j + 1) * N).entries()) s += wi * at(h, i);
        next[j] = s;
      }
      h = next;
    }
    expected = { data: h, shape: [1, N] };
    dir = await mkdtemp(join(tmpdir(), 'bigr-onnx-big-'));
    console.log(`weights ${((LAYERS * N * N * 4) / 2 ** 30).toFixed(2)} GiB + reference in ${(Date.now() - t0) / 1000} s; ${memory()}`);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the inline model is refused with a pointer to external data', () => {
    expect(() => buildOnnxModel(def, params)).toThrow(ConfigError);
    expect(() => buildOnnxModel(def, params)).toThrow(/2\.30 GiB of inline initializers.*external data/);
  });

  test.each(['tempfile', 'memory', 'export'] as const)('runs through external data (%s)', async (mode) => {
    resetPeak();
    const t0 = Date.now();
    const engine = new OnnxEngine(mode === 'memory' ? { externalDataStorage: 'memory' } : { tempDirectory: dir });
    let graph: OnnxCompiledGraph;
    if (mode === 'export') {
      const exported = await exportOnnxModel(def, params, dir, { name: 'huge' });
      expect(exported.dataBytes).toBeGreaterThan(2 ** 31);
      expect(exported.modelBytes).toBeLessThan(4096);
      console.log(`[${mode}] exported ${(exported.dataBytes / 2 ** 30).toFixed(2)} GiB in ${(Date.now() - t0) / 1000} s; ${memory()}`);
      graph = await engine.compileFile(exported.modelPath, def);
    } else {
      graph = await engine.compile(def, params);
    }
    const t1 = Date.now();
    const out = await graph.run({ x: new CpuTensor(x, [1, N]) });
    const t2 = Date.now();
    await graph.dispose();
    R.expectClose(required(out['y'], 'output y'), expected, 1e-4);
    console.log(`[${mode}] compile ${(t1 - t0) / 1000} s, run ${(t2 - t1) / 1000} s; ${memory()}`);
  });
});
