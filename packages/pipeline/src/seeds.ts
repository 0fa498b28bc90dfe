import { ConfigError } from '@bigr/core';

/** Largest seed accepted per image (seeds are integers so they print and round-trip through JSON exactly). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * One seed per image: `seeds` as given (its length must be `count`), or `seed + k` for image k (default seed 0).
 * Image k is sampled from its own stream `createRng(seeds[k])`, so it can be regenerated alone by passing
 * `seeds: [seeds[k]]` with its label.
 */
export function imageSeeds(count: number, options: { readonly seed?: number; readonly seeds?: readonly number[] }): number[] {
  if (options.seeds !== undefined) {
    if (options.seeds.length !== count)
      throw new ConfigError(
        `seeds has ${options.seeds.length} entries for ${count} images; pass one seed per image (or a single \`seed\`, giving seed + k to image k).`,
      );
    for (const s of options.seeds) checkSeed(s, 'seeds[]');
    return [...options.seeds];
  }
  const base = options.seed ?? 0;
  checkSeed(base, 'seed');
  if (base + count - 1 > MAX_SEED) throw new ConfigError(`seed ${base} + ${count} images exceeds ${MAX_SEED}; pass a smaller seed.`);
  return Array.from({ length: count }, (_, k) => base + k);
}

function checkSeed(seed: number, name: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`${name} is ${seed}; a seed must be an integer in 0..${MAX_SEED} (e.g. 0).`);
}
