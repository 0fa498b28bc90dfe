/**
 * The Fashion-MNIST evaluation network of docs/evaluation.md §9.2 ("FMNIST metrics"): a small CNN defined once as a core
 * GraphDefinition, trained in TS on tfjs, frozen with a weights hash, and run (onnxruntime in practice) as a
 * {@link FeatureExtractor} producing pool (128), logits (10) and spatial (343) features.
 * @packageDocumentation
 */
export {
  DEFAULT_FASHION_CLASSIFIER_CONFIG,
  FASHION_CLASSIFIER_FORMAT,
  FASHION_CLASSIFIER_PREPROCESSING,
  FASHION_CLASSIFIER_VERSION,
  fashionClassifierParameterShapes,
  featureMapSize,
  parseFashionClassifierConfig,
  spatialDim,
  type FashionClassifierConfig,
} from './config.js';
export {
  FASHION_INPUT,
  fashionClassifierForward,
  fashionClassifierGraph,
  type FashionClassifierGraphOptions,
  type FashionConvolution,
  type FashionForwardOutputs,
} from './graph.js';
export { initFashionClassifier } from './init.js';
export { argmaxRows, checkDataset, classificationAccuracy, gatherImages, oneHotBatchLast } from './batch.js';
export { crossEntropyBatchLast, trainFashionClassifier, type TrainFashionClassifierOptions, type TrainFashionClassifierResult } from './train.js';
export {
  createFashionFeatureExtractor,
  fashionExtractorName,
  type FashionFeatureExtractor,
  type FashionFeatureExtractorOptions,
  type FashionFeatures,
} from './extractor.js';
export { loadFashionClassifier, saveFashionClassifier, type FashionClassifierFile, type LoadedFashionClassifier } from './io.js';
export { bundledFashionClassifierDir } from './bundledWeights.js';
