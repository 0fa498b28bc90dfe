import { required } from '@bigr/core';
import type { CpuTensor, GraphDefinition, InputSpec, NamedTensors, Ops, Rng } from '@bigr/core';
import type { F64Array } from '../reference/ndarray.js';

/** Feeds of one graph run, by input name. */
export type Feeds = Readonly<Record<string, CpuTensor>>;

/** Parameters and feed sets a case draws from its seeded {@link Rng}. */
export interface ConformanceCaseData {
  /** Graph parameters (float32). */
  readonly params: NamedTensors;
  /** One or more feed sets; cases with a dynamic batch dim use several batch sizes on one compiled graph. */
  readonly feeds: readonly Feeds[];
}

/** Groups of cases, for reporting. */
export type ConformanceGroup = 'elementwise' | 'reduction' | 'shape' | 'matmul' | 'nn' | 'layer' | 'block';

/**
 * One conformance case: a graph built only from core `Ops` and core layers, random parameters and inputs drawn
 * from a seeded core `Rng`, and a float64 reference of every output.
 */
export interface ConformanceCase {
  /** Unique name (also the Rng fork label, so data does not depend on case order). */
  readonly name: string;
  /** Report group. */
  readonly group: ConformanceGroup;
  /** The graph under test. */
  readonly graph: GraphDefinition;
  /** Draws parameters and feeds. */
  setup(rng: Rng): ConformanceCaseData;
  /** float64 reference outputs for one feed set, by output name (computed from the same float32 values). */
  reference(params: NamedTensors, feeds: Feeds): Record<string, F64Array>;
}

/**
 * Builds a graph definition from a name, inputs, outputs and a build function (sugar for object literals). The
 * build function sees its inputs by their declared names `N`, each checked to be passed.
 */
export function graph<N extends string>(
  name: string,
  inputs: readonly (InputSpec & { readonly name: N })[],
  outputs: readonly string[],
  build: <T>(ops: Ops<T>, x: Readonly<Record<N, T>>) => Record<string, T>,
): GraphDefinition {
  const names = inputs.map((i) => i.name);
  return {
    name,
    inputs,
    outputs,
    build: <T>(ops: Ops<T>, x: Readonly<Record<string, T>>) =>
      build<T>(ops, Object.fromEntries(names.map((n) => [n, required(x[n], `input "${n}" of graph "${name}"`)])) as Record<N, T>),
  };
}
