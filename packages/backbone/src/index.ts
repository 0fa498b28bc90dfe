/**
 * @bigr/backbone — the BiGR backbone (docs/algorithm.md §2): a Llama transformer with bidirectional attention over binary
 * tokens, written once against core `Ops` so it trains on tfjs and exports to ONNX. Includes presets (paper Table 7
 * and small CPU sizes), official state-dict names, initialisation, the masked-modelling training step (§5), the
 * representation extractor (§7.1), and a core `TokenFeatureModel` implementation.
 * @packageDocumentation
 */
export * from './config.js';
export * from './presets.js';
export * from './stateDict.js';
export * from './rope2d.js';
export * from './attention.js';
export * from './feedForward.js';
export * from './transformerBlock.js';
export * from './backboneGraph.js';
export * from './maskSchedule.js';
export * from './initialise.js';
export * from './weightDecayGroups.js';
export * from './featureExtraction.js';
export * from './trainingStep.js';
export * from './featureModel.js';
export * from './backboneTrainer.js';
export * from './kvCache.js';
