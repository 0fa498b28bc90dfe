import { at } from './invariants.js';

/** Edit distance between two strings (insert, delete, substitute each cost 1). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(at(prev, j) + 1, at(cur, j - 1) + 1, at(prev, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return at(prev, b.length);
}

/**
 * Up to `limit` names from `candidates` most similar to `name`, for "did you mean" hints in NotFoundError messages:
 * smallest edit distance first, where a candidate containing `name` (or contained in it) counts as `name.length`
 * closer; ties by name.
 */
export function closeNames(name: string, candidates: Iterable<string>, limit = 5): string[] {
  return [...candidates]
    .map((c) => ({ c, d: editDistance(name, c) - (c.includes(name) || name.includes(c) ? name.length : 0) }))
    .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0))
    .slice(0, limit)
    .map((x) => x.c);
}
