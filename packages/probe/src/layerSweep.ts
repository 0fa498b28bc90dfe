import type { Rng } from '@bigr/core';
import { evaluateLinearProbe, trainLinearProbe, type LinearProbeOptions, type ProbeAccuracy, type ProbeDataset } from './linearProbe.js';

/** Accuracy of the probe for one layer. */
export interface LayerAccuracy extends ProbeAccuracy {
  /** Block index the features came from (0-based, docs/algorithm.md §7.1). */
  readonly layer: number;
}

/**
 * Trains and evaluates one probe per layer (the best BiGR layer is mid-network, so the paper sweeps them on a
 * held-out split). Each layer's probe gets its own forked RNG stream, so results do not depend on sweep order.
 * Probes train one after another on the training engine (pass `engine` to resolve it once for all layers).
 */
export async function layerSweep(
  layers: ReadonlyMap<number, { train: ProbeDataset; validation: ProbeDataset }>,
  options: Omit<LinearProbeOptions, 'rng'> & { rng: Rng },
): Promise<LayerAccuracy[]> {
  const out: LayerAccuracy[] = [];
  for (const [layer, { train, validation }] of [...layers].sort((a, b) => a[0] - b[0])) {
    const model = await trainLinearProbe(train, { ...options, rng: options.rng.fork(`layer-${layer}`) });
    out.push({ layer, ...evaluateLinearProbe(model, validation) });
  }
  return out;
}
