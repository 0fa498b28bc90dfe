export { linear } from './linear.js';
export { rmsNorm, layerNorm, groupNorm } from './norms.js';
export { softplus, bceWithLogits } from './softplus.js';
export { rowMax, softmaxCrossEntropy } from './crossEntropy.js';
