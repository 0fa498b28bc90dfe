/**
 * The core helpers this package uses (seeded RNG, safetensors reader), re-exported from `@bigr/core` so the
 * package's modules import them from one place.
 * @internal
 */
export { createRng, type Seed, type SeededRng } from '@bigr/core';
export { readSafetensors, type SafetensorsContent } from '@bigr/core';
