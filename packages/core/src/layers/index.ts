export { linear } from './linear.js';
export { modulate } from './modulate.js';
export { rmsNorm, layerNorm, groupNorm } from './norms.js';
export { softplus, bceWithLogits } from './softplus.js';
export { rowMax, softmaxCrossEntropy } from './crossEntropy.js';
