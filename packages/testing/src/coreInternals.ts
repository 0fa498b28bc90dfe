/**
 * TEMP: `@bigr/core` does not yet re-export its seeded RNG and safetensors reader from its index, so they are
 * imported from core's sources here, in this one place. Switch these lines to `from '@bigr/core'` once it does.
 * @internal
 */
export { createRng, type Seed, type SeededRng } from '../../core/src/seededRng.js';
export { readSafetensors, type SafetensorsContent } from '../../core/src/safetensors.js';
