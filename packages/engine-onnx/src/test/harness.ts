// Test harness: compiles a generic graph function on the ONNX engine and runs it once.
import type { CpuTensor, InputSpec, NamedTensors, Ops } from '@bigr/core';
import { OnnxEngine } from '../onnxEngine.js';

export const engine = new OnnxEngine();

export type BuildFn = <T>(ops: Ops<T>, x: Readonly<Record<string, T>>) => Readonly<Record<string, T>>;

/** Input specs with the feeds' exact shapes (or with `dynamic` overriding some dims). */
export function specsOf(feeds: Record<string, CpuTensor>): InputSpec[] {
  return Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.dtype as 'float32' | 'int32', shape: [...t.shape] }));
}

/** Compiles `build` with inputs shaped like `feeds`, runs it and returns every output. */
export async function runGraph(
  feeds: Record<string, CpuTensor>,
  outputs: string[],
  build: BuildFn,
  params: NamedTensors = new Map(),
): Promise<Record<string, CpuTensor>> {
  const graph = await engine.compile({ name: 'test', inputs: specsOf(feeds), outputs, build }, params);
  try {
    return await graph.run(feeds);
  } finally {
    await graph.dispose();
  }
}
