/**
 * @bigr/probe — representation extraction and the MAE linear-probe protocol used by BiGR (docs/evaluation.md §8):
 * BatchNorm without affine + linear head, LARS, warm-up + cosine, top-1/top-5, layer sweeps. Training runs on any
 * training engine through `Ops` and the core `Trainer`.
 * @packageDocumentation
 */
/** LARS now lives in `@bigr/core` (named parameters, checkpointable state); re-exported here for convenience. */
export { Lars, type LarsOptions } from '@bigr/core';
export { probeLearningRate, scaledLearningRate } from './probeSchedule.js';
export { BatchNormNoAffine, batchNormTraining } from './batchNorm.js';
export {
  trainLinearProbe,
  evaluateLinearProbe,
  linearProbeLoss,
  PROBE_HEAD,
  type LinearProbeLossShape,
  FASHION_MNIST_PROBE,
  type ProbeDataset,
  type LinearProbeOptions,
  type LinearProbeModel,
  type ProbeAccuracy,
} from './linearProbe.js';
export { extractFeatures, cachedFeatures, type FeatureFunction, type ExtractFeaturesOptions } from './featureCache.js';
export { layerSweep, type LayerAccuracy } from './layerSweep.js';
