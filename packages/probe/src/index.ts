/**
 * @bigr/probe — representation extraction and the MAE linear-probe protocol used by BiGR (docs/evaluation.md §8):
 * BatchNorm without affine + linear head, LARS, warm-up + cosine, top-1/top-5, layer sweeps.
 * @packageDocumentation
 */
export { Lars, type LarsOptions, type LarsParameter } from './lars.js';
export { probeLearningRate, scaledLearningRate } from './probeSchedule.js';
export { BatchNormNoAffine } from './batchNorm.js';
export {
  trainLinearProbe,
  evaluateLinearProbe,
  FASHION_MNIST_PROBE,
  type ProbeDataset,
  type LinearProbeOptions,
  type LinearProbeModel,
  type ProbeAccuracy,
} from './linearProbe.js';
export { extractFeatures, cachedFeatures, type FeatureFunction, type ExtractFeaturesOptions } from './featureCache.js';
export { layerSweep, type LayerAccuracy } from './layerSweep.js';
