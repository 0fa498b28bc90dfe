import { CpuTensor, required, type NamedTensors, type Rng } from '@bigr/core';
import { fashionClassifierParameterShapes, parseFashionClassifierConfig, type FashionClassifierConfig } from './config.js';

/**
 * Fresh parameters: He-normal weights (std √(2/fan_in)) for the convolutions and fc1, std √(1/fan_in) for the
 * logit layer, zero biases. Draws `rng.normalsF32` once per weight in {@link fashionClassifierParameterShapes} order,
 * so the same seed gives the same bits.
 */
export function initFashionClassifier(rng: Rng, config: Partial<FashionClassifierConfig> = {}): NamedTensors {
  const cfg = parseFashionClassifierConfig(config);
  const out: NamedTensors = new Map();
  for (const [name, shape] of fashionClassifierParameterShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.endsWith('.bias')) {
      out.set(name, new CpuTensor(new Float32Array(n), shape));
      continue;
    }
    const fanIn = n / required(shape[0], `output dimension of ${name}`);
    const gain = name === 'fc2.weight' ? 1 : 2;
    const std = Math.sqrt(gain / fanIn);
    const data = rng.normalsF32(n);
    for (let i = 0; i < n; i++) data[i] = required(data[i], 'weight') * std;
    out.set(name, new CpuTensor(data, shape));
  }
  return out;
}
