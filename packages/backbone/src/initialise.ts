import { required, CpuTensor, type NamedTensors, type Rng } from '@bigr/core';
import type { BackboneConfig } from './config.js';
import { backboneParameterShapes } from './stateDict.js';

/** How one parameter is initialised. */
export type InitRule = { readonly kind: 'normal'; readonly std: number } | { readonly kind: 'constant'; readonly value: number };

/**
 * Initialisation rule of a backbone parameter (docs/algorithm.md §2.6): linear and embedding weights N(0, 0.02), biases 0,
 * RMSNorm weights 1, `diffusion_pos_embed_learned` N(0, 0.02), `mask_tok` N(0, 1), `ada_gss` N(0, 1/D), and the shared
 * adaLN Linear zero-initialised (weight and bias).
 */
export function initRule(name: string, config: BackboneConfig): InitRule {
  const r = config.initializerRange;
  if (name.startsWith('adaLN.')) return { kind: 'constant', value: 0 };
  if (name === 'mask_tok') return { kind: 'normal', std: 1 };
  if (name.endsWith('.ada_gss')) return { kind: 'normal', std: 1 / Math.sqrt(config.dim) };
  if (name.endsWith('norm.weight')) return { kind: 'constant', value: 1 };
  if (name.endsWith('.bias')) return { kind: 'constant', value: 0 };
  return { kind: 'normal', std: r };
}

/**
 * Fresh backbone parameters with the official names (docs/algorithm.md §10.1) and initialisation (§2.6), drawn from `rng`
 * in state-dict order.
 */
export function initialiseBackbone(config: BackboneConfig, rng: Rng): NamedTensors {
  const out: NamedTensors = new Map();
  for (const [name, shape] of backboneParameterShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const rule = initRule(name, config);
    let data: Float32Array;
    if (rule.kind === 'constant') data = new Float32Array(n).fill(rule.value);
    else {
      data = rng.normalsF32(n);
      if (rule.std !== 1) for (let i = 0; i < n; i++) data[i] = required(data[i], 'weight') * rule.std;
    }
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}
