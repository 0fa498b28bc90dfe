import { ConfigError, ShapeError, at, isTensor } from '@bigr/core';
import type { InputSpec, Tensor } from '@bigr/core';

function describeInputs(specs: readonly InputSpec[]): string {
  return specs.map((s) => `${s.name} (${s.dtype} [${s.shape.join(', ')}])`).join(', ');
}

/**
 * Checks the feeds of a run against a graph's declared inputs: every input present and no unknown one, each a tensor
 * of the declared dtype and rank, fixed dimensions equal, and each named dynamic dimension (e.g. 'batch') of one size
 * across all inputs. Throws {@link ConfigError} / {@link ShapeError} naming the feed, what was expected and the fix.
 */
export function checkFeeds(graphName: string, inputs: readonly InputSpec[], feeds: Readonly<Record<string, Tensor>>): void {
  if (typeof feeds !== 'object' || feeds === null) {
    throw new ConfigError(`Graph "${graphName}" needs a feeds object with ${describeInputs(inputs)}.`);
  }
  const names = inputs.map((s) => s.name);
  const missing = names.filter((n) => !Object.hasOwn(feeds, n) || feeds[n] === undefined);
  if (missing.length) {
    throw new ConfigError(
      `Graph "${graphName}" is missing feeds for ${missing.map((m) => `"${m}"`).join(', ')}. It expects ${describeInputs(inputs)}; pass a tensor for each.`,
    );
  }
  const unknown = Object.keys(feeds).filter((n) => !names.includes(n));
  if (unknown.length) {
    throw new ConfigError(
      `Graph "${graphName}" has no input${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => `"${m}"`).join(', ')}. Its inputs are ${describeInputs(inputs)}.`,
    );
  }
  const dynamic = new Map<string, { size: number; input: string }>();
  for (const spec of inputs) {
    const t = feeds[spec.name];
    if (!isTensor(t)) throw new ShapeError(`Feed "${spec.name}" of graph "${graphName}" is not a tensor; pass a CpuTensor.`);
    if (t.dtype !== spec.dtype)
      throw new ShapeError(`Feed "${spec.name}" of graph "${graphName}" is ${t.dtype} but ${spec.dtype} is expected. Convert it to ${spec.dtype}.`);
    const where = `Feed "${spec.name}" of graph "${graphName}" has shape [${t.shape.join(', ')}] but [${spec.shape.join(', ')}] is expected`;
    if (t.shape.length !== spec.shape.length) throw new ShapeError(`${where} (rank ${spec.shape.length}).`);
    spec.shape.forEach((d, i) => {
      const actual = at(t.shape, i, 'feed dimension (rank checked above)');
      if (typeof d === 'number') {
        if (d !== actual) throw new ShapeError(`${where} (dimension ${i} must be ${d}).`);
      } else {
        const seen = dynamic.get(d);
        if (seen === undefined) dynamic.set(d, { size: actual, input: spec.name });
        else if (seen.size !== actual)
          throw new ShapeError(`${where}: dimension "${d}" is ${actual} here but ${seen.size} in feed "${seen.input}". Use one size for "${d}".`);
      }
    });
  }
}
