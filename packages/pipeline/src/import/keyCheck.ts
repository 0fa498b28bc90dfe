import { FormatError } from '@bigr/core';

/** Tensor shapes by state-dict name, as read from a checkpoint without loading data. */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

/** The result of comparing a checkpoint's keys with the keys a configuration needs. */
export interface KeyComparison {
  /** Required names the checkpoint lacks. */
  readonly missing: readonly string[];
  /** Names the checkpoint has that no part of the configuration explains. */
  readonly unknown: readonly string[];
  /** Names present with a shape other than the expected one. */
  readonly mismatched: readonly { readonly name: string; readonly got: readonly number[]; readonly expected: readonly number[] }[];
}

/**
 * Compares `shapes` with what a configuration expects: `required` names must be present, `optional` names may be
 * present, every present name (required or optional) must have the listed shape, and anything else is unknown.
 */
export function compareKeys(
  shapes: ShapeMap,
  required: ReadonlyMap<string, readonly number[]>,
  optional: ReadonlyMap<string, readonly number[]> = new Map(),
): KeyComparison {
  const missing = [...required.keys()].filter((k) => !shapes.has(k));
  const unknown: string[] = [];
  const mismatched: { name: string; got: readonly number[]; expected: readonly number[] }[] = [];
  for (const [name, got] of shapes) {
    const expected = required.get(name) ?? optional.get(name);
    if (!expected) unknown.push(name);
    else if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) mismatched.push({ name, got, expected });
  }
  return { missing, unknown, mismatched };
}

/** Lists up to `max` names, with a count of the rest. */
export function listNames(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length - max} more)` : shown;
}

/** A hint when every unknown name shares one leading segment (e.g. a state dict nested under "state_dict."). */
function nestingHint(unknown: readonly string[]): string {
  if (unknown.length < 2) return '';
  const first = new Set(unknown.map((n) => n.split('.')[0]));
  if (first.size !== 1) return '';
  const [p] = [...first];
  return ` All unknown keys start with "${p}.": if the state dict is nested under "${p}", re-export it as a flat state dict (or as {"ema": state_dict}).`;
}

/**
 * Throws a {@link FormatError} listing every missing, unknown and mis-shaped key of a comparison (no-op when the
 * key set is exactly right). `what` names the checkpoint and `expectation` the configuration it was compared with.
 */
export function assertKeysMatch(cmp: KeyComparison, what: string, expectation: string): void {
  if (cmp.missing.length === 0 && cmp.unknown.length === 0 && cmp.mismatched.length === 0) return;
  const parts: string[] = [];
  if (cmp.missing.length > 0) parts.push(`missing ${cmp.missing.length} key(s): ${listNames(cmp.missing)}`);
  if (cmp.unknown.length > 0) parts.push(`unknown ${cmp.unknown.length} key(s): ${listNames(cmp.unknown)}`);
  if (cmp.mismatched.length > 0) {
    const shown = cmp.mismatched.slice(0, 8).map((m) => `${m.name} is [${m.got.join(', ')}] but [${m.expected.join(', ')}] was expected`);
    parts.push(`${cmp.mismatched.length} key(s) with the wrong shape: ${shown.join('; ')}${cmp.mismatched.length > 8 ? '; ...' : ''}`);
  }
  throw new FormatError(
    `${what} does not match ${expectation}: ${parts.join('. ')}.${nestingHint(cmp.unknown)} ` +
      'Pass the released checkpoint unmodified (docs/algorithm.md §10), or fix the listed keys when exporting.',
  );
}
