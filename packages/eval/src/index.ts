/**
 * @bigr/eval — generative metrics for BiGR (docs/evaluation.md): FID, sFID, Inception Score, improved precision/recall,
 * KID, reconstruction metrics, `.npy`/`.npz` reference-statistics I/O and the feature-extractor driver.
 * @packageDocumentation
 */
export * from './linalg/gemm.js';
export * from './linalg/symmetricEigen.js';
export * from './linalg/matrixSqrt.js';
export * from './stats/gaussianStats.js';
export * from './stats/featureMatrix.js';
export * from './stats/featureStats.js';
export * from './stats/frechetDistance.js';
export * from './stats/inceptionScore.js';
export * from './stats/precisionRecall.js';
export * from './stats/kernelInceptionDistance.js';
export * from './stats/spatialFeatures.js';
export * from './io/npy.js';
export * from './io/byteReader.js';
export * from './io/npz.js';
export * from './io/referenceStats.js';
export * from './extract/featureExtractor.js';
export * from './extract/quantize.js';
export * from './extract/tf1Resize.js';
export * from './extract/imageSource.js';
export * from './extract/pooledPixelExtractor.js';
export * from './extract/onnxInceptionExtractor.js';
export * from './extract/referenceBatch.js';
export * from './extract/computeMetrics.js';
export * from './recon/imageBatch.js';
export * from './recon/psnr.js';
export * from './recon/ssim.js';
export * from './recon/bitAccuracy.js';
export * from './recon/codeUsage.js';
export * from './extract/writeImageBatch.js';
export * from './classifier/index.js';
