/**
 * @bigr/tokenizer — the BiGR binary autoencoder (B-AE, docs/algorithm.md §1): images in [0, 1] → K-bit codes per latent
 * token → images, written once against `@bigr/core` Ops so it trains on tfjs and runs on tfjs or onnxruntime.
 * Also: image I/O (PNG/JPEG in, PNG out, PIL-compatible resizing and the ADM center crop), readers for IDX
 * (Fashion-MNIST) files and class-folder image sets, B-AE training, and binary hashing with a packed-code
 * Hamming k-NN index.
 * @packageDocumentation
 */
// The browser-safe modules (browser.ts, the package's 'default' export condition), then the Node-only ones.
export * from './browser.js';
export { BAE_MODEL_KIND, type BaeModel, saveBae, loadBae, loadReleasedBae } from './modelFiles.js';
export {
  type ImageLimits,
  type LoadImageOptions,
  sniffImageFormat,
  decodeImage,
  encodePng,
  loadRaster,
  loadImage,
  saveImagePng,
} from './imageIo.js';
export { readBoundedFile } from './boundedRead.js';
export {
  type IdxDType,
  type IdxArray,
  type IdxLimits,
  type LabelledImages,
  type LoadIdxImageSetOptions,
  FASHION_MNIST_CLASSES,
  isGzip,
  parseIdx,
  readIdx,
  loadIdxImageSet,
} from './idxReader.js';
export {
  type ImageFolderEntry,
  type ImageFolderListing,
  type LoadImageFolderOptions,
  IMAGE_EXTENSIONS,
  scanImageFolder,
  loadImageFolder,
} from './imageFolder.js';
// The Node HashIndex (the browser one plus save/load) takes the name's place over the browser entry's export.
export { HashIndex } from './hashIndex.js';
export { type BaeTrainingOptions, type BaeTrainingResult, type BaePerceptualOptions, type BaeAdversarialOptions, trainBae } from './training.js';
