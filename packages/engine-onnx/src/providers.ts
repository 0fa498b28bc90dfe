import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineUnavailableError, registerEngine, required } from '@bigr/core';
import type { EngineProvider, GraphDefinition, Ops } from '@bigr/core';
import { CpuTensor } from '@bigr/core';
import { OnnxEngine } from './onnxEngine.js';
import { loadOrt } from './ortRuntime.js';

/** A one-node graph (y = x + x) used to check that an execution provider initialises and runs. */
const PROBE_GRAPH: GraphDefinition = {
  name: 'bigr_engine_probe',
  inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
  outputs: ['y'],
  build<T>(ops: Ops<T>, inputs: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
    const x = required(inputs['x'], 'probe input "x"');
    return { y: ops.add(x, x) };
  },
};

async function probe(engine: OnnxEngine): Promise<OnnxEngine> {
  const graph = await engine.compile(PROBE_GRAPH, new Map());
  try {
    const { y } = await graph.run({ x: new CpuTensor(Float32Array.of(1, 2), [2]) });
    if (y?.data[0] !== 2 || y.data[1] !== 4) throw new EngineUnavailableError(`${engine.name} returned wrong values for 1+1, 2+2.`);
  } finally {
    await graph.dispose();
  }
  return engine;
}

/** Where onnxruntime-node keeps its native libraries for this platform. */
function ortBinaryDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    return join(dirname(req.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/** Why the CUDA execution provider cannot load, checked without touching the native library; null if it may. */
function cudaPreflight(): string | null {
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return `onnxruntime-node has no CUDA execution provider for ${process.platform}.`;
  }
  const dir = ortBinaryDir();
  if (dir === null) return null;
  const lib = (n: string): string => (process.platform === 'win32' ? `onnxruntime_providers_${n}.dll` : `libonnxruntime_providers_${n}.so`);
  const missing = [lib('shared'), lib('cuda')].filter((f) => !existsSync(join(dir, f)));
  if (missing.length === 0) return null;
  return `the CUDA execution provider is not installed (${missing.join(' and ')} missing in ${dir})`;
}

const CUDA_FIX =
  'onnxruntime-node downloads its CUDA 12 provider at install time; this install skipped it (ONNXRUNTIME_NODE_INSTALL=skip or no network). ' +
  'On a machine with network access, CUDA 12 and cuDNN 9, reinstall with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm install onnxruntime-node`, ' +
  'or use --device cpu.';

/** The CPU engine (priority 50, inference and training, devices auto/cpu). */
export const onnxCpuProvider: EngineProvider = {
  name: 'onnx-cpu',
  priority: 50,
  purposes: ['inference', 'training'],
  devices: ['auto', 'cpu'],
  async create() {
    await loadOrt();
    return new OnnxEngine({ name: 'onnx-cpu', executionProviders: ['cpu'] });
  },
};

/** The CUDA engine (priority 60, inference and training, devices gpu/cuda); create() throws the reason CUDA is unavailable. */
export const onnxCudaProvider: EngineProvider = {
  name: 'onnx-cuda',
  priority: 60,
  purposes: ['inference', 'training'],
  devices: ['gpu', 'cuda'],
  async create() {
    const ort = await loadOrt();
    const reason = cudaPreflight();
    if (reason !== null) throw new EngineUnavailableError(`onnxruntime CUDA unavailable: ${reason}. ${CUDA_FIX}`);
    const listed = ort.listSupportedBackends().some((b) => b.name === 'cuda');
    if (!listed) throw new EngineUnavailableError(`onnxruntime CUDA unavailable: this onnxruntime-node build lists no 'cuda' backend. ${CUDA_FIX}`);
    try {
      return await probe(new OnnxEngine({ name: 'onnx-cuda', executionProviders: ['cuda'] }));
    } catch (err) {
      const cause = (err as { cause?: { message?: unknown } }).cause;
      const message = String(typeof cause?.message === 'string' ? cause.message : (err as Error).message).split('\n')[0];
      throw new EngineUnavailableError(`onnxruntime CUDA unavailable: ${message}. ${CUDA_FIX}`, { cause: err });
    }
  },
};

/** Registers 'onnx-cpu' and 'onnx-cuda' with the @bigr/core engine registry (done on import). */
export function registerOnnxEngines(): void {
  registerEngine(onnxCpuProvider);
  registerEngine(onnxCudaProvider);
}
