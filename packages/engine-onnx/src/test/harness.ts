// Test harness: compiles a generic graph function on the ONNX engine and runs it once.
import { required } from '@bigr/core';
import type { CpuTensor, InputSpec, NamedTensors, Ops } from '@bigr/core';
import { OnnxEngine } from '../onnxEngine.js';

export const engine = new OnnxEngine();

/** A graph body over the named inputs `I` that returns the named outputs `O`. */
export type BuildFn<I extends string = string, O extends string = string> = <T>(ops: Ops<T>, x: Readonly<Record<I, T>>) => Readonly<Record<O, T>>;

/** The entries of `record` named by `keys`, each checked to be present. */
function pick<K extends string, V>(record: Readonly<Record<string, V>>, keys: readonly K[], what: string): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, required(record[k], `${what} "${k}"`)])) as Record<K, V>;
}

/** Input specs with the feeds' exact shapes (or with `dynamic` overriding some dims). */
export function specsOf(feeds: Record<string, CpuTensor>): InputSpec[] {
  return Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.dtype as 'float32' | 'int32', shape: [...t.shape] }));
}

/** Compiles `build` with inputs shaped like `feeds`, runs it and returns every output. */
export async function runGraph<I extends string, O extends string>(
  feeds: Record<I, CpuTensor>,
  outputs: readonly O[],
  build: BuildFn<I, O>,
  params: NamedTensors = new Map(),
): Promise<Record<O, CpuTensor>> {
  const inputs = Object.keys(feeds) as I[];
  const graph = await engine.compile(
    {
      name: 'test',
      inputs: specsOf(feeds),
      outputs: [...outputs],
      build: <T>(ops: Ops<T>, x: Readonly<Record<string, T>>) => build<T>(ops, pick<I, T>(x, inputs, 'input')),
    },
    params,
  );
  try {
    return pick(await graph.run(feeds), outputs, 'output');
  } finally {
    await graph.dispose();
  }
}
