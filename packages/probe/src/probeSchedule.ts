/**
 * Learning rate of the MAE probe schedule at fractional epoch `e` (docs/evaluation.md §8.4): linear warm-up from 0 to
 * `peak` over `warmupEpochs`, then half-cosine down to `minLr` at `epochs`.
 */
export function probeLearningRate(e: number, peak: number, warmupEpochs: number, epochs: number, minLr = 0): number {
  if (e < warmupEpochs) return (peak * e) / warmupEpochs;
  return minLr + (peak - minLr) * 0.5 * (1 + Math.cos((Math.PI * (e - warmupEpochs)) / (epochs - warmupEpochs)));
}

/** MAE's rule: absolute lr = base lr × effective batch / 256. */
export function scaledLearningRate(baseLr: number, effectiveBatch: number): number {
  return (baseLr * effectiveBatch) / 256;
}
