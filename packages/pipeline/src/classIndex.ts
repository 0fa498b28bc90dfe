import { ConfigError } from '@bigr/core';

/** Resolves a class given as an index or a (case-insensitive, prefix-matching) name. */
export function classIndex(value: string, classNames: readonly string[], numClasses: number): number {
  if (/^\d+$/.test(value)) {
    const i = Number(value);
    if (i < numClasses) return i;
    throw new ConfigError(`Class ${i} is out of range; this model has classes 0..${numClasses - 1} (${classNames.join(', ')}).`);
  }
  const v = value.toLowerCase();
  const exact = classNames.findIndex((n) => n.toLowerCase() === v);
  if (exact >= 0) return exact;
  const matches = classNames
    .map((n, i) => [n.toLowerCase(), i] as const)
    .filter(([n]) => n.startsWith(v) || n.split(/[\s/-]+/).some((w) => w === v || w.startsWith(v)));
  const [only, ...others] = matches;
  if (only && others.length === 0) return only[1];
  throw new ConfigError(`Unknown class "${value}". Use an index 0..${numClasses - 1} or one of: ${classNames.join(', ')}.`);
}
