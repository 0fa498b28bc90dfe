/**
 * @bigr/tokenizer — the BiGR binary autoencoder (B-AE, docs/algorithm.md §1): images in [0, 1] → K-bit codes per latent
 * token → images, written once against `@bigr/core` Ops so it trains on tfjs and runs on tfjs or onnxruntime.
 * Also: image I/O (PNG/JPEG in, PNG out, PIL-compatible resizing and the ADM center crop), readers for IDX
 * (Fashion-MNIST) files and class-folder image sets, B-AE training, and binary hashing with a packed-code
 * Hamming k-NN index.
 * @packageDocumentation
 */
export { type BaeConfig, validateConfig, downsampleFactor, latentGrid, configFromHparams, configToHparams } from './config.js';
export { BAE_PRESETS, type BaePresetName, baePreset, FASHION_MNIST_PAD } from './presets.js';
export { type FeatureDims, type NormSettings, conv2dLayer, conv3x3, conv1x1 } from './conv.js';
export { normalize } from './normalize.js';
export { resBlock } from './resBlock.js';
export { attnBlock } from './attnBlock.js';
export { downsample } from './downsample.js';
export { upsample } from './upsample.js';
export { type BlockKind, type BlockSpec, type SpatialSize, type BlockTap, runBlock, blockOutputName, blockParameterShapes } from './blockPlan.js';
export { encoderPlan, encoder } from './encoder.js';
export { decoderPlan, decoder } from './decoder.js';
export {
  type CodeMode,
  QUANTIZER_PARAMS,
  codeProbabilities,
  embedCodes,
  latentToTokens,
  tokensToLatent,
  binarize,
  straightThroughOffset,
  codeRegulariser,
} from './quantizer.js';
export { type EncoderGraphOptions, type DecoderGraphOptions, encoderGraph, decoderGraph } from './graphs.js';
export {
  type ParameterShapeOptions,
  type LoadParametersOptions,
  baeParameterShapes,
  countParameters,
  initBaeParameters,
  loadBaeParameters,
} from './parameters.js';
export { BAE_MODEL_KIND, type BaeModel, saveBae, loadBae, loadReleasedBae } from './modelFiles.js';
export { type BaeTokenizerOptions, type EncodeOptions, type EncodeResult, BaeTokenizer } from './tokenizerModel.js';
export {
  type DiscriminatorConfig,
  type DiscriminatorConv,
  discriminatorPlan,
  discriminatorParameterShapes,
  initDiscriminator,
  discriminator,
  leakyRelu,
  hingeDiscriminatorLoss,
} from './discriminator.js';
export {
  type ImageBatchDims,
  type PerceptualLoss,
  type FeatureNetwork,
  type LpipsOptions,
  lpipsLoss,
  maxPool2x2,
  vgg16Features,
  lpipsLinWeights,
} from './perceptual.js';
export { type ResizeFilter, resizeImage, centerCrop, centerCropResize } from './resize.js';
export {
  type RasterImage,
  type ImageLimits,
  type LoadImageOptions,
  sniffImageFormat,
  decodeImage,
  encodePng,
  rasterToTensor,
  stackImages,
  toUint8Pixels,
  tensorToRaster,
  padImages,
  loadRaster,
  loadImage,
  saveImagePng,
  imageGrid,
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
export { type Neighbours, type HashIndexLimits, HashIndex } from './hashIndex.js';
export { SYNTHETIC_FASHION_CLASSES, type SyntheticFashionOptions, syntheticFashionImages } from './syntheticImages.js';
export { type BaeTrainingOptions, type BaeTrainingResult, type BaePerceptualOptions, type BaeAdversarialOptions, trainBae } from './training.js';
