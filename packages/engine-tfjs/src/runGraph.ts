import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError, at, required, type CpuTensor, type GraphDefinition, type Rng } from '@bigr/core';
import { fromTfTensor, toTfTensor } from './convert.js';
import { TfjsOps } from './tfjsOps.js';

/** Everything {@link runGraph} needs besides the feeds. */
export interface RunGraphContext {
  /** Engine identifier for ops and error messages. */
  readonly engine: string;
  /** Parameters by name (already on tfjs). */
  readonly params: ReadonlyMap<string, tf.Tensor>;
  /** Training mode (dropout active). */
  readonly training: boolean;
  /** Random stream for dropout. */
  readonly rng?: Rng;
}

const ACCEPTED: Record<'float32' | 'int32', readonly string[]> = {
  float32: ['float32', 'float64'],
  int32: ['int32', 'uint8'],
};

/** Checks feeds against the graph's input declarations: names, dtypes, ranks, fixed and named dims. */
export function checkFeeds(def: GraphDefinition, feeds: Readonly<Record<string, CpuTensor>>): void {
  const declared = new Set(def.inputs.map((i) => i.name));
  const missing = def.inputs.filter((i) => feeds[i.name] === undefined).map((i) => i.name);
  if (missing.length > 0) {
    throw new ConfigError(
      `Graph "${def.name}" is missing feed(s) ${missing.map((m) => `"${m}"`).join(', ')}; it expects ${def.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
    );
  }
  const extra = Object.keys(feeds).filter((k) => !declared.has(k));
  if (extra.length > 0) {
    throw new ConfigError(
      `Graph "${def.name}" has no input(s) ${extra.map((m) => `"${m}"`).join(', ')}; its inputs are ${def.inputs.map((i) => `"${i.name}"`).join(', ')}.`,
    );
  }
  const named = new Map<string, { size: number; input: string }>();
  for (const spec of def.inputs) {
    const t = required(feeds[spec.name], `feed "${spec.name}" (checked above)`);
    if (!ACCEPTED[spec.dtype].includes(t.dtype)) {
      throw new ShapeError(`Graph "${def.name}" input "${spec.name}" must be ${spec.dtype} but the feed is ${t.dtype}; convert it before feeding.`);
    }
    const ok = t.shape.length === spec.shape.length && spec.shape.every((d, i) => typeof d === 'string' || d === t.shape[i]);
    if (!ok) {
      throw new ShapeError(`Graph "${def.name}" input "${spec.name}" has shape [${t.shape.join(', ')}] but [${spec.shape.join(', ')}] was declared.`);
    }
    spec.shape.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const size = at(t.shape, i, 'feed dimension (rank checked above)');
      const seen = named.get(d);
      if (seen && seen.size !== size) {
        throw new ShapeError(
          `Graph "${def.name}": dimension "${d}" is ${seen.size} in input "${seen.input}" but ${size} in input "${spec.name}"; ` +
            `feeds must agree on named dimensions.`,
        );
      }
      if (!seen) named.set(d, { size, input: spec.name });
    });
  }
}

/**
 * Runs a graph definition eagerly on the current tfjs backend inside `tf.tidy`, returning CPU copies of the
 * declared outputs. No tfjs tensor outlives the call (parameters are owned by the caller).
 */
export function runGraph(def: GraphDefinition, feeds: Readonly<Record<string, CpuTensor>>, ctx: RunGraphContext): Record<string, CpuTensor> {
  checkFeeds(def, feeds);
  const result: Record<string, CpuTensor> = {};
  tf.tidy(() => {
    const ops = new TfjsOps({ engine: ctx.engine, params: ctx.params, training: ctx.training, ...(ctx.rng ? { rng: ctx.rng } : {}) });
    const inputs: Record<string, tf.Tensor> = {};
    for (const spec of def.inputs) inputs[spec.name] = toTfTensor(required(feeds[spec.name], `feed "${spec.name}" (checked by checkFeeds)`));
    const outputs = def.build(ops, inputs);
    const absent = def.outputs.filter((name) => outputs[name] == null);
    if (absent.length > 0) {
      throw new ConfigError(
        `Graph "${def.name}" build() did not return output(s) ${absent.map((n) => `"${n}"`).join(', ')}; it returned ${
          Object.keys(outputs)
            .map((n) => `"${n}"`)
            .join(', ') || 'nothing'
        }.`,
      );
    }
    for (const name of def.outputs) result[name] = fromTfTensor(required(outputs[name], `output "${name}" (checked above)`));
  });
  return result;
}
