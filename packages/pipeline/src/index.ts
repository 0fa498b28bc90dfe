/**
 * @bigr/pipeline — the assembled BiGR model as a library: {@link BigrPipeline} (load a model directory, a Hugging
 * Face Hub repo id or an official checkpoint pair, then generate, inpaint, outpaint, edit, interpolate, enrich,
 * encode, decode and extract features) and {@link TokenizerPipeline} (encode, decode, hash, index and search with a
 * pretrained binary tokenizer). Also the model directory formats, the `.bigr` codes file and the bounds every
 * loaded config is checked against. This is the composition package: the components never import each other.
 * @packageDocumentation
 */
export * from './bigrSampling.js';
export * from './bigrHead.js';
export * from './modelSampling.js';
export * from './bigrPipeline.js';
export * from './layerFeatures.js';
export * from './tokenizerCodec.js';
export * from './tokenizerPipeline.js';
export * from './bigrModelDir.js';
export * from './tokenizerModelDir.js';
export * from './modelBounds.js';
export * from './stagedDirectory.js';
export * from './codesFile.js';
export * from './images.js';
export * from './seeds.js';
export * from './engineChoice.js';
export * from './modelSource.js';
export * from './sources.js';
export * from './imageFiles.js';
export * from './parallelGenerate.js';
export * from './import/index.js';
export * from './export/pytorchExport.js';
export * from './hub/cacheDir.js';
export * from './hub/hubDownload.js';
export * from './hub/hubModel.js';
export * from './parallelTokenizer.js';
