/**
 * @bigr/backbone, browser-safe entry — everything of the package except the checkpointing trainer
 * (`backboneTrainer`, Node only, in index.ts). Bundlers pick it through the package's `default` export condition.
 * @packageDocumentation
 */
export * from './config.js';
export * from './presets.js';
export * from './stateDict.js';
export * from './rope2d.js';
export * from './attention.js';
export * from './feedForward.js';
export * from './adaLN.js';
export * from './backboneInputs.js';
export * from './backboneGraph.js';
export * from './maskSchedule.js';
export * from './initialise.js';
export * from './weightDecayGroups.js';
export * from './featureExtraction.js';
export * from './trainingStep.js';
export * from './featureModel.js';
export * from './kvCache.js';
