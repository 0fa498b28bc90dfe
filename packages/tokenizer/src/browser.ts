/**
 * @bigr/tokenizer, browser-safe entry — the B-AE graphs, parameters and {@link BaeTokenizer}, raster/tensor image
 * helpers, resizing and the packed-code Hamming {@link HashIndex} (in memory, `serialize`/`deserialize`), without
 * file readers, PNG/JPEG codecs, dataset readers or training (those are in the Node entry, index.ts). Bundlers pick
 * it through the package's `default` export condition.
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
export { encoderPlan, encoder, decoderPlan, decoder } from './baeGraph.js';
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
export { type EncoderGraphOptions, type DecoderGraphOptions, encoderGraph, decoderGraph } from './baeGraph.js';
export {
  type ParameterShapeOptions,
  type LoadParametersOptions,
  baeParameterShapes,
  countParameters,
  initBaeParameters,
  loadBaeParameters,
} from './parameters.js';
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
export { SYNTHETIC_FASHION_CLASSES, type SyntheticFashionOptions, syntheticFashionImages } from './syntheticImages.js';
export { type RasterImage, rasterToTensor, stackImages, toUint8Pixels, tensorToRaster, padImages, imageGrid } from './imageTensors.js';
export { type Neighbours, type HashIndexLimits, DEFAULT_MAX_HASH_INDEX_FILE, HashIndex } from './hashIndexCodes.js';
