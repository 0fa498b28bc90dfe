import { registerEngine, type EngineProvider } from '@bigr/core';
import { createTfjsEngine } from './tfjsEngine.js';

/**
 * The engine providers this package registers with `@bigr/core` (see {@link registerTfjsEngines}):
 * - 'tfjs-node-gpu' (priority 40; devices gpu, cuda) — needs `@tensorflow/tfjs-node-gpu` installed;
 * - 'tfjs-node' (30; cpu) — needs `@tensorflow/tfjs-node`;
 * - 'tfjs-wasm' (20; auto, cpu, wasm) — always available; the default training engine;
 * - 'tfjs-cpu' (10; cpu) — pure-JS reference backend.
 * All serve training and inference. Only one tfjs backend is global at a time; see `TfjsEngine`.
 */
export const TFJS_ENGINE_PROVIDERS: readonly EngineProvider[] = Object.freeze([
  {
    name: 'tfjs-node-gpu',
    priority: 40,
    purposes: ['training', 'inference'],
    devices: ['gpu', 'cuda'],
    create: () => createTfjsEngine('tensorflow', { nodePackages: ['@tensorflow/tfjs-node-gpu'] }),
  },
  {
    name: 'tfjs-node',
    priority: 30,
    purposes: ['training', 'inference'],
    devices: ['cpu'],
    create: () => createTfjsEngine('tensorflow', { nodePackages: ['@tensorflow/tfjs-node'] }),
  },
  {
    name: 'tfjs-wasm',
    priority: 20,
    purposes: ['training', 'inference'],
    devices: ['auto', 'cpu', 'wasm'],
    create: () => createTfjsEngine('wasm'),
  },
  {
    name: 'tfjs-cpu',
    priority: 10,
    purposes: ['training', 'inference'],
    devices: ['cpu'],
    create: () => createTfjsEngine('cpu'),
  },
] satisfies EngineProvider[]);

/** Registers {@link TFJS_ENGINE_PROVIDERS} with `@bigr/core`'s engine registry (done on import of this package). */
export function registerTfjsEngines(): void {
  for (const p of TFJS_ENGINE_PROVIDERS) registerEngine(p);
}
